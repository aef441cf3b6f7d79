// The echo of echo-api.ts with an async receive: its answer is a promise that
// settles within the same microtask checkpoint, as a typed-proxy call's does.
// Asked beside the sync echo, it shows what the actor's async path costs apart
// from comlink's own work.
import { defineActor } from '../../src/actor/index.js';
import type { Tick } from '../lib/payload.js';

export default defineActor({
  init: (): object => ({}),
  receive: async (_state: object, msg: Tick): Promise<Tick> => msg,
});
