import type { Logger } from 'pino';
import type { AskTable } from '../actor/asks.js';
import type { ActorContext, DefinedActor } from '../actor/define.js';
import { fromWire, toWire } from '../actor/wire-error.js';
import { applyChange } from '../bus/registry.js';
import type { SubjectTrie } from '../bus/trie.js';
import type { HostToMain, MainToHost } from './protocol.js';

/** The incarnation as control messages act on it. */
export interface Controlled {
  /** The actor's definition (null until its module is loaded), its state and its context now. */
  actor(): { def: DefinedActor | null; state: unknown; ctx: ActorContext };
  readonly log: Logger;
  readonly bus: SubjectTrie<string>;
  readonly asks: AskTable;
  setConfig(config: unknown): void;
  /** The main thread asks the actor to stop, after its mail (`drain`) or after the message in hand. */
  requestStop(drain: boolean): void;
  post(m: HostToMain): void;
}

/** Act on one control message from the main thread; transport messages are the Endpoint's. */
export function onControl(m: MainToHost, host: Controlled): void {
  switch (m.type) {
    case 'stop':
      host.requestStop(m.drain);
      return;
    case 'settle-ask':
      host.asks.reject(m.askId, fromWire(m.error));
      return;
    case 'configure':
      void configure(host, m.requestId, m.config);
      return;
    case 'health-request':
      void health(host, m.requestId);
      return;
    case 'log-level':
      host.log.level = m.level;
      return;
    case 'bus-change':
      applyChange(host.bus, m.change);
      return;
    default:
      return; // transport messages: the Endpoint handles them
  }
}

async function configure(host: Controlled, requestId: number, config: unknown): Promise<void> {
  host.setConfig(config);
  const { def, state, ctx } = host.actor();
  try {
    await def?.configure?.(state, config, ctx);
    host.post({ type: 'configured', requestId });
  } catch (err) {
    host.post({ type: 'configured', requestId, error: toWire(err) });
  }
}

async function health(host: Controlled, requestId: number): Promise<void> {
  const { def, state, ctx } = host.actor();
  try {
    const h = def?.health ? await def.health(state, ctx) : null;
    host.post({ type: 'health', requestId, health: h });
  } catch (err) {
    host.post({ type: 'health', requestId, health: null, error: toWire(err) });
  }
}
