import type { EventOf, EventInput, SystemEvent, SystemEventType } from '../events.js';

type Listener = (e: SystemEvent) => void;

/**
 * Fans events out to typed listeners and to any number of async iterators.
 * An iterator buffers what it has not consumed yet and ends when the hub closes.
 */
export class EventHub {
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #iterators = new Set<{ push: (e: SystemEvent | null) => void }>();
  #closed = false;

  emit(input: EventInput): void {
    if (this.#closed) return;
    const e = { ...input, at: Date.now() } as SystemEvent;
    for (const l of this.#listeners.get(e.type) ?? []) this.#call(l, e);
    for (const l of this.#listeners.get('*') ?? []) this.#call(l, e);
    for (const it of this.#iterators) it.push(e);
  }

  on<T extends SystemEventType>(type: T | '*', listener: (e: EventOf<T>) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener as Listener);
    return () => set!.delete(listener as Listener);
  }

  iterate(): AsyncIterableIterator<SystemEvent> {
    const buffer: SystemEvent[] = [];
    let wake: ((v: IteratorResult<SystemEvent>) => void) | null = null;
    let done = this.#closed;
    const sub = {
      push: (e: SystemEvent | null): void => {
        if (e === null) done = true;
        else buffer.push(e);
        if (wake) {
          const w = wake;
          wake = null;
          if (buffer.length > 0) w({ value: buffer.shift()!, done: false });
          else w({ value: undefined, done: true });
        }
      },
    };
    this.#iterators.add(sub);
    const iterators = this.#iterators;
    return {
      next(): Promise<IteratorResult<SystemEvent>> {
        if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (wake = resolve));
      },
      return(): Promise<IteratorResult<SystemEvent>> {
        done = true;
        iterators.delete(sub);
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** A listener that throws must not break the system's own bookkeeping. */
  #call(l: Listener, e: SystemEvent): void {
    try {
      l(e);
    } catch (err) {
      process.emitWarning(`a listener for '${e.type}' events threw: ${(err as Error)?.message ?? String(err)}`, 'RingmasterListenerWarning');
    }
  }

  close(): void {
    this.#closed = true;
    for (const it of this.#iterators) it.push(null);
    this.#iterators.clear();
  }
}
