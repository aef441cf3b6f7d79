import { ActorSystem, type SystemEvent, type SystemOptions, type TreeSpec } from '../../src/index.js';

export const actors = (name: string): string => new URL(`../fixtures/actors/${name}.js`, import.meta.url).pathname;

/** Systems started by a test; `stopAll` in afterEach stops every one. */
export class Systems {
  readonly #running = new Set<ActorSystem>();

  async start(tree: TreeSpec, options: Partial<SystemOptions> = {}): Promise<{ system: ActorSystem; events: SystemEvent[] }> {
    const events: SystemEvent[] = [];
    const system = await ActorSystem.start({ name: 'test', tree, log: { level: 'silent' }, ...options });
    this.#running.add(system);
    system.on('*', (e) => events.push(e));
    return { system, events };
  }

  track(system: ActorSystem): void {
    this.#running.add(system);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#running].map((s) => s.stop()));
    this.#running.clear();
  }
}

/** Poll `probe` until it gives a truthy value (no timing is asserted; the limit only stops a hang). */
export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function find<T extends SystemEvent['type']>(events: SystemEvent[], type: T, actor?: string): Extract<SystemEvent, { type: T }> | undefined {
  return events.find((e) => e.type === type && (actor === undefined || ('actor' in e && e.actor === actor))) as Extract<SystemEvent, { type: T }> | undefined;
}
