// The same actor, importing defineActor from its defining module rather than
// the actor entry: the two should start equally fast (the actor entry loads
// nothing else), which the benchmark shows side by side.
import { defineActor } from '../../src/actor/define.js';
import { behaviour } from './behaviour.js';

export default defineActor(behaviour);
