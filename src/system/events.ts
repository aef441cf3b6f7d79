import type { CrashCause, OverflowPolicy } from '../errors.js';

/** A message nobody could take, kept for inspection. */
export interface DeadLetter {
  kind: string;
  from: string;
  to: string;
  id: number;
  payload: unknown;
  reason: string;
  /** Set when a mailbox's overflow policy dropped the message. */
  dropped?: OverflowPolicy;
  at: number;
}

/** Everything the system reports, as one typed union on `type`. */
export type SystemEvent =
  | { type: 'started'; actor: string; incarnation: number; at: number }
  | { type: 'restarted'; actor: string; incarnation: number; at: number }
  | { type: 'crashed'; actor: string; incarnation: number; cause: CrashCause; reason: string; at: number }
  | { type: 'restarting'; actor: string; delayMs: number; strategy: string; at: number }
  | { type: 'stopped'; actor: string; incarnation: number; reason: string; at: number }
  | { type: 'escalated'; supervisor: string; reason: string; at: number }
  | { type: 'auto-shutdown'; supervisor: string; reason: string; at: number }
  | { type: 'dead-letter'; letter: DeadLetter; at: number }
  | { type: 'system-stopped'; reason: string; at: number }
  | { type: 'config-applied'; version: number; source: ConfigEventSource; changes: Array<{ kind: string; id: string }>; restored?: number; at: number }
  | { type: 'config-rejected'; source: ConfigEventSource; problems: string[]; at: number };

/** What led to a configuration change: the file (a change on disk, or a reload asked for), or a rollback to a kept version. */
export type ConfigEventSource = 'file' | 'rollback';

export type SystemEventType = SystemEvent['type'];
export type EventOf<T extends SystemEventType> = Extract<SystemEvent, { type: T }>;
/** An event before the hub stamps its time. */
export type EventInput = SystemEvent extends infer E ? (E extends SystemEvent ? Omit<E, 'at'> : never) : never;
/** A configuration outcome as the config layer reports it to the system. */
export type ConfigEventInput = Extract<EventInput, { type: 'config-applied' | 'config-rejected' }>;

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
