// The entry for actor modules (`ringmaster/actor`): what runs inside a worker
// thread needs only defineActor and its types. Importing the main entry from
// an actor would load the whole library (HTTP, metrics, config) into every
// worker, adding ~190 ms to each boot and restart.
export { defineActor } from './define.js';
export type { ActorRef } from './ref.js';
export type { ActorContext, ActorDefinition, ActorHealth, AskOptions, TellOptions, MessagePriority, DefinedActor, TopicContext, PersistenceSpec } from './define.js';
export type { AnyActor, MessageOf, ReplyOf, ConfigOf, ApiOf, TopicMessageOf } from './protocol.js';
export type { Terminated, TerminatedReason } from './watch.js';
