// The pool measure's task, run by piscina directly and by a pool actor alike:
// a small CPU-bound job (a sum over `n` numbers derived from `seed`) whose
// result depends on its input, so it cannot be folded away.
export interface SumTask {
  n: number;
  seed: number;
}

export default function sum(task: SumTask): number {
  let s = 0;
  for (let i = 0; i < task.n; i++) s += (i * task.seed) % 1009;
  return s;
}
