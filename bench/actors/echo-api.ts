// The call-overhead measure's actor: the same echo reached as a raw ask
// (receive) and as a typed-proxy call (api), so the two differ only in the path.
import { defineActor } from '../../src/actor/index.js';
import type { Tick } from '../lib/payload.js';

export interface EchoApi {
  echo(t: Tick): Tick;
}

export default defineActor({
  init: (): object => ({}),
  receive: (_state: object, msg: Tick): Tick => msg,
  api: (): EchoApi => ({ echo: (t) => t }),
});
