import type { SystemEvent } from '../../events.js';
import type { ActorMetrics } from '../../system/snapshot.js';
import type { ActorStatus } from '../../system/system.js';
import { Sampler, type Point } from './series.js';

/** Time between two samples of every actor's counters (rates, percentiles, charts), ms. */
export const DEFAULT_LIVE_SAMPLE_MS = 1000;
/** Least time between two updates pushed to the clients, ms: events coalesce into at most 4 updates a second. */
export const DEFAULT_LIVE_MIN_PUSH_MS = 250;
/** Samples kept for the charts and handed to a client on connect: 5 minutes at one a second. */
export const DEFAULT_LIVE_HISTORY_POINTS = 300;
/** Recent events kept for a client that connects, and the most one update carries. */
export const DEFAULT_LIVE_EVENT_LIMIT = 200;
/** How long a browser waits before reconnecting after the stream ends (the `retry:` field), ms. */
export const DEFAULT_LIVE_RETRY_MS = 2000;
/** Unsent bytes a client may pile up before it is dropped (it reconnects and starts from a fresh snapshot). */
export const DEFAULT_LIVE_MAX_BACKLOG_BYTES = 1024 * 1024;
/** Longest text of an event (a crash reason, a config problem) passed on to a client, characters. */
const MAX_TEXT_CHARS = 2000;

/** What the feed reads from the system (an ActorSystem; a fake in tests). */
export interface LiveSource {
  readonly name: string;
  readonly state: string;
  status(): ActorStatus[];
  metrics(): { actors: ActorMetrics[] };
  on(type: '*', listener: (e: SystemEvent) => void): () => void;
}

/** Timers and wall time (epoch ms), injectable so tests can drive the feed with a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** One connected client: where its stream goes. */
export interface LiveSink {
  write(chunk: string): void;
  /** Bytes written but not yet handed to the network. */
  readonly backlog: number;
  end(): void;
}

export interface LiveFeedOptions {
  sampleMs?: number;
  minPushMs?: number;
  historyPoints?: number;
  eventLimit?: number;
  retryMs?: number;
  maxBacklogBytes?: number;
  clock?: Clock;
  /** Fixed facts every client is told on connect (e.g. which actions the server offers). */
  info?: Record<string, unknown>;
}

/** The feed's latest sample, with the time its rates and percentiles cover (null for the first sample: no rates yet). */
export type LatestSample = Point & { intervalMs: number | null };

/** An event as a client sees it: numbered, and a dead letter without its payload (any size, anything the sender put in). */
export type LiveEvent = { seq: number } & LiveEventBody;
type LiveEventBody = Exclude<SystemEvent, { type: 'dead-letter' }> | { type: 'dead-letter'; at: number; letter: { kind: string; from: string; to: string; reason: string } };

/**
 * The stream behind the dashboard. Samples the system on one timer for
 * every client, keeps a bounded history and a bounded list of recent
 * events, and pushes updates to all clients at once: an update is built
 * and serialised once, then written to each. Events do not each cause an
 * update; they mark the feed dirty, and updates are at least `minPushMs`
 * apart.
 *
 * Protocol (Server-Sent Events): on connect `retry:` and a `hello` event
 * with the whole picture (status, history, recent events); then `update`
 * events with the status, the samples and the events since the previous
 * update; `closing` when the server closes the feed, just before the stream
 * ends. A client that connects between two updates may see a sample or an
 * event in its hello and again in the next update: samples carry `t` and
 * events `seq` so it can skip what it has.
 */
export class LiveFeed {
  readonly #source: LiveSource;
  readonly #clock: Clock;
  readonly #opts: Required<Omit<LiveFeedOptions, 'clock' | 'info'>>;
  readonly #info: Record<string, unknown>;
  readonly #sampler = new Sampler();
  readonly #clients = new Set<LiveSink>();
  readonly #history: Point[] = [];
  readonly #events: LiveEvent[] = [];
  readonly #off: () => void;
  #seq = 0;
  /** Highest event seq and latest sample time already pushed. */
  #pushedSeq = 0;
  #pushedT = 0;
  #lastPushAt = -Infinity;
  #sampleTimer: unknown = null;
  #pushTimer: unknown = null;
  #closed = false;

  constructor(source: LiveSource, options: LiveFeedOptions = {}) {
    this.#source = source;
    this.#clock = options.clock ?? realClock;
    this.#info = options.info ?? {};
    this.#opts = {
      sampleMs: options.sampleMs ?? DEFAULT_LIVE_SAMPLE_MS,
      minPushMs: options.minPushMs ?? DEFAULT_LIVE_MIN_PUSH_MS,
      historyPoints: options.historyPoints ?? DEFAULT_LIVE_HISTORY_POINTS,
      eventLimit: options.eventLimit ?? DEFAULT_LIVE_EVENT_LIMIT,
      retryMs: options.retryMs ?? DEFAULT_LIVE_RETRY_MS,
      maxBacklogBytes: options.maxBacklogBytes ?? DEFAULT_LIVE_MAX_BACKLOG_BYTES,
    };
    this.#off = source.on('*', (e) => this.#onEvent(e));
    // Sampling runs while the feed exists, watched or not, so that a page opened now
    // shows the last minutes. One read of shared-memory counters a second costs next to nothing.
    this.#sample();
    this.#armSampler();
  }

  get clients(): number {
    return this.#clients.size;
  }

  /**
   * The latest sample, or null before the first: what a one-shot client
   * (`ringmaster status`, `/api/tree`) shows as rates without taking two
   * samples of its own.
   */
  latest(): LatestSample | null {
    const last = this.#history.at(-1);
    if (last === undefined) return null;
    const before = this.#history.at(-2);
    return { ...last, intervalMs: before === undefined ? null : last.t - before.t };
  }

  /** Add a client: it gets `retry:` and the hello at once, then every update. Returns its disconnect. */
  connect(sink: LiveSink): () => void {
    if (this.#closed) {
      sink.end();
      return () => {};
    }
    // The hello holds every sample and event so far: with nobody else listening, nothing is still owed to anyone.
    if (this.#clients.size === 0) {
      this.#pushedSeq = this.#seq;
      this.#pushedT = this.#history.at(-1)?.t ?? 0;
    }
    this.#clients.add(sink);
    const hello = {
      ...this.#info,
      t: this.#clock.now(),
      name: this.#source.name,
      state: this.#source.state,
      sampleMs: this.#opts.sampleMs,
      historyPoints: this.#opts.historyPoints,
      status: this.#source.status(),
      history: this.#history,
      events: this.#events,
    };
    this.#write(sink, `retry: ${this.#opts.retryMs}\n${frame('hello', hello)}`);
    return () => this.#disconnect(sink);
  }

  /** Say `closing` to every client and end its stream; stop the timers and stop listening to the system. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#off();
    this.#clock.clearTimeout(this.#sampleTimer);
    this.#clock.clearTimeout(this.#pushTimer);
    this.#sampleTimer = this.#pushTimer = null;
    const clients = [...this.#clients];
    this.#clients.clear();
    // Told apart from a dropped connection: the server ended the stream on purpose.
    const bye = frame('closing', { t: this.#clock.now() });
    for (const c of clients) {
      c.write(bye);
      c.end();
    }
  }

  #disconnect(sink: LiveSink): void {
    if (!this.#clients.delete(sink)) return;
    if (this.#clients.size === 0 && this.#pushTimer !== null) {
      this.#clock.clearTimeout(this.#pushTimer);
      this.#pushTimer = null;
    }
  }

  #armSampler(): void {
    this.#sampleTimer = this.#clock.setTimeout(() => {
      this.#sample();
      this.#schedulePush();
      this.#armSampler();
    }, this.#opts.sampleMs);
  }

  #sample(): void {
    this.#history.push(this.#sampler.take(this.#source.metrics().actors, this.#clock.now()));
    if (this.#history.length > this.#opts.historyPoints) this.#history.splice(0, this.#history.length - this.#opts.historyPoints);
  }

  #onEvent(e: SystemEvent): void {
    this.#events.push({ seq: ++this.#seq, ...view(e) });
    if (this.#events.length > this.#opts.eventLimit) this.#events.splice(0, this.#events.length - this.#opts.eventLimit);
    this.#schedulePush();
  }

  /** One update at the earliest moment `minPushMs` allows; whatever happens before then joins it. */
  #schedulePush(): void {
    if (this.#closed || this.#clients.size === 0 || this.#pushTimer !== null) return;
    const wait = Math.max(0, this.#lastPushAt + this.#opts.minPushMs - this.#clock.now());
    this.#pushTimer = this.#clock.setTimeout(() => {
      this.#pushTimer = null;
      this.#push();
    }, wait);
  }

  #push(): void {
    const events = this.#events.filter((e) => e.seq > this.#pushedSeq);
    // Events that left the bounded list before they could be pushed.
    const dropped = this.#seq - this.#pushedSeq - events.length;
    const samples = this.#history.filter((p) => p.t > this.#pushedT);
    this.#pushedSeq = this.#seq;
    if (this.#history.length > 0) this.#pushedT = this.#history[this.#history.length - 1]!.t;
    this.#lastPushAt = this.#clock.now();
    const update = frame('update', { t: this.#lastPushAt, state: this.#source.state, status: this.#source.status(), samples, events, dropped });
    for (const c of [...this.#clients]) this.#write(c, update);
  }

  #write(sink: LiveSink, text: string): void {
    // A client that does not read (a stalled tab, a slow link) would make the server buffer without bound.
    if (sink.backlog > this.#opts.maxBacklogBytes) {
      this.#disconnect(sink);
      sink.end();
      return;
    }
    sink.write(text);
  }
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

/** One Server-Sent Events message. JSON has no raw line breaks, so the data is one `data:` line. */
export function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

const clip = (s: string): string => (s.length > MAX_TEXT_CHARS ? `${s.slice(0, MAX_TEXT_CHARS)}…` : s);

function view(e: SystemEvent): LiveEventBody {
  switch (e.type) {
    case 'dead-letter': {
      const { kind, from, to, reason } = e.letter;
      return { type: e.type, at: e.at, letter: { kind, from, to, reason: clip(reason) } };
    }
    case 'config-rejected':
      return { ...e, problems: e.problems.map(clip) };
    case 'node-down':
      return { ...e };
    default:
      return 'reason' in e ? { ...e, reason: clip(e.reason) } : { ...e };
  }
}
