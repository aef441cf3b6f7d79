// What the benchmark actor does, kept apart from defineActor so the same
// behaviour can be loaded through either import path (see bench-actor-direct.ts).

export type BenchMsg = { op: 'throw' | 'spin' | 'echo'; value?: unknown };

export const behaviour = {
  init: (): object => ({}),
  receive(_state: object, msg: BenchMsg): unknown {
    if (msg.op === 'throw') throw new Error('boom');
    if (msg.op === 'spin') for (;;);
    return msg.value;
  },
};
