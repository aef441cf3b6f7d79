// The actor every supervision measure runs: it crashes, hangs or echoes on
// command. It imports defineActor from the actor entry (ringmaster/actor), as
// actor modules should.
import { defineActor } from '../../src/actor/index.js';
import { behaviour } from './behaviour.js';

export type { BenchMsg } from './behaviour.js';
export default defineActor(behaviour);
