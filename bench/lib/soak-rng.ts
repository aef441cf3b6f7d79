/**
 * The soak's one source of chance: a seeded PRNG (mulberry32) and the few
 * ways the run draws from it. Every random choice of a run goes through one
 * of these, in plan order, so a seed names a run.
 */
export class Rng {
  readonly seed: number;
  #a: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#a = this.seed;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  /** A key of `weights`, each as likely as its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    const total = keys.reduce((s, k) => s + weights[k], 0);
    let x = this.next() * total;
    for (const k of keys) {
      x -= weights[k];
      if (x < 0) return k;
    }
    return keys[keys.length - 1]!;
  }

  /** Time to the next event of a Poisson process of `perSecond`, ms. */
  gapMs(perSecond: number): number {
    return (-Math.log(1 - this.next()) * 1000) / perSecond;
  }

  /** A few distinct items of `xs`, from `min` to `max` of them. */
  some<T>(xs: readonly T[], min: number, max: number): T[] {
    const pool = [...xs];
    const n = Math.min(pool.length, this.int(min, max));
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(pool.splice(Math.floor(this.next() * pool.length), 1)[0]!);
    return out;
  }
}

/** A seed for a run that was given none (printed, so the run can be replayed). */
export function freshSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}
