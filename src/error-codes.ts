/**
 * The table of error codes: every code a RingmasterError carries, with what it
 * means. docs/errors.md lists the same codes; test/unit/errors.test.ts keeps the
 * two in step. The classes are in errors.ts.
 */

export const ErrorCodes = {
  ERR_INVALID_OPTION: 'An option or argument is invalid; the message names the field and the reason.',
  ERR_RING_FULL: 'A ring had no room for a frame and the caller asked not to wait.',
  ERR_RING_CLOSED: 'The other side of a ring has closed it; nothing more will be delivered.',
  ERR_RING_CORRUPT: 'A frame header in a ring is out of range or inconsistent; the ring is abandoned.',
  ERR_RING_TIMEOUT: 'Waiting for room in a ring took longer than the given timeout.',
  ERR_MESSAGE_TOO_LARGE: 'An encoded message is larger than the configured maximum; it was not sent.',
  ERR_ENCODE: 'A message could not be encoded as msgpack.',
  ERR_DECODE: 'Bytes received could not be decoded as a message envelope.',
  ERR_INBOX_FULL: 'An inbox has no free sender slot left for a new sender.',
  ERR_NO_SUCH_ACTOR: 'No actor (or inbox) is registered under the id a message was addressed to.',
  ERR_INVALID_TREE: 'A supervision tree spec is invalid; every problem is listed with the path of the field and the reason.',
  ERR_ASK_TIMEOUT: 'An ask got no reply within its timeout.',
  ERR_ACTOR_CRASHED: 'The actor crashed while handling the message (or it was dead-lettered as poison); carries the cause and incarnation.',
  ERR_ACTOR_STOPPED: 'The actor is stopped (or the system is stopping) and will not handle the message.',
  ERR_MODULE_LOAD: "An actor's module could not be loaded or does not export an actor made by defineActor().",
  ERR_RELOAD_FAILED: 'A tree change failed while being applied; what it had applied was rolled back, so the running tree is the one before it (the cause is the failure).',
  ERR_ESCALATED: 'A supervisor exceeded its restart intensity and failed; at the root this stops the system.',
  ERR_NOT_ON_MAIN_THREAD: 'A blocking wait was asked for on the main thread, which must never block.',
  ERR_CIRCUIT_OPEN: 'A circuit breaker is open (or isolated, or its half-open probes are all taken) and rejected the call without running it; carries the breaker name and when it probes next.',
  ERR_RETRY_EXHAUSTED: 'A retry policy gave up: every attempt failed, or the next one would pass its deadline; carries the attempts made and the last error as cause.',
  ERR_EXECUTION_TIMEOUT: 'A call through a timeout policy ran past its time limit; its abort signal was fired.',
  ERR_BULKHEAD_FULL: 'A bulkhead had no free execution slot and no free queue slot; the call was not run.',
  ERR_RATE_LIMITED: 'A rate limiter refused a call for a key; carries how long until a permit is free (retryAfterMs).',
  ERR_SAGA_FAILED: 'A saga step failed and the compensations of every completed step ran and succeeded; the cause is the step error.',
  ERR_SAGA_COMPENSATION_FAILED: 'A saga step failed and at least one compensation failed too; carries the step error and every compensation error.',
  ERR_MAILBOX_FULL: "An actor's mailbox was at its capacity: the message was dropped by the overflow policy (counted and dead-lettered) or the sender was refused.",
  ERR_NO_RESPONDERS: 'A request was published to a topic that no actor subscribes to.',
  ERR_INVALID_SUBJECT: 'A pub/sub subject or subscription pattern is malformed; the message names the value, the token at fault and the call.',
  ERR_PERSISTENCE: "An actor's journal or snapshot store failed: it cannot be opened, a row is corrupt, or the database is from a newer version; names the actor, the persistence id and the sequence number.",
  ERR_NODE_DOWN: 'The cluster node hosting the actor left, crashed or stopped answering heartbeats: a message to it was not delivered, or an ask to it will get no reply; names the actor, the node and why it is down.',
  ERR_CLUSTER_JOIN: 'A cluster node could not join its cluster: the NATS servers cannot be reached (or refuse its credentials) within connectTimeoutMs; names the node and the servers.',
  ERR_ACTOR_ID_TAKEN: "A spawn on a cluster node was refused: another node hosts the actor id, or spawned it at the same moment and its claim won; names the id and that node.",
  ERR_JOURNAL_FENCED: 'A newer incarnation (or another process) took over the journal of this persistence id; this incarnation may write to it no more.',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;
