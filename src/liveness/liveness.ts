/**
 * The liveness block: one SharedArrayBuffer per actor, owned by the system
 * and handed to each incarnation. The host writes it (but for the two
 * heartbeat fields, which the watchdog writes); the main thread's
 * watchdog reads it without asking the worker anything, so a worker whose
 * event loop is stuck is still seen.
 *
 *   Int32 slot 0  STATE            host: one of ActorState below
 *   Int32 slot 1  HEARTBEAT        main thread's watchdog: +1 each time it sees a sign of life (src/health/watchdog.ts)
 *   Int32 slot 2  MSGS_STARTED     host: +1 when a handler starts (progress)
 *   Int32 slot 3  MSGS_FINISHED    host: +1 when a handler returns
 *   Int32 slot 4  IN_FLIGHT_SLOT   host: inbox ring slot of the message being handled, -1 if none
 *   Int32 slot 5  MSGS_SENT        host: +1 per message sent (tell, ask or reply)
 *   Int32 slot 6  PUBLISHED        host: +1 per publish that reached at least one subscriber
 *   Int32 slot 7  UNROUTED         host: +1 per publish to a subject nobody subscribes to
 *   Float64 at byte 32  BUSY_SINCE      host: epoch ms at which the current handler started (0 = idle)
 *   Float64 at byte 40  HANDLER_MS_SUM  host: total handler time, ms
 *   Float64 at byte 48  HEAP_USED_MB    host: V8 heap in use, refreshed at most every 250 ms as it works and when it goes idle
 *   Float64 at byte 56  HEARTBEAT_AT    watchdog: epoch ms of the last sign of life it saw (0 = none yet); its age, unlike the count, reads at a glance
 *   Int32 slots 16..    HANDLER_BUCKETS host: handlers that took ≤ HANDLER_BUCKETS_MS[i] (last: +Inf), not cumulative
 *   Int32 slot 29  IN_FLIGHT_POS   host: read position of that slot's ring when the message was taken (names the frame)
 *   Int32 slot 30  IN_FLIGHT_PHASE host: how far the message in flight got, one of InFlightPhase below
 *   Int32 slot 31  REDELIVER_SLOT  main thread, between incarnations: ring slot of a frame an incarnation took and did not release, -1 if none
 *   Int32 slot 32  REDELIVER_POS   main thread, between incarnations: that frame's read position (the host clears the mark when it takes from the slot)
 *   Int32 slot 33  THREAD_ID       host: the worker's OS thread id (0 = unknown), so the watchdog can read how long it waited for a CPU (run-queue.ts)
 *
 * A message is in flight (IN_FLIGHT_SLOT ≥ 0) from the moment the host takes
 * it until its release is published, not only while its handler runs: the
 * main thread reads these words once the worker is gone (src/cell/in-flight.ts).
 */

export const STATE = 0;
export const HEARTBEAT = 1;
export const MSGS_STARTED = 2;
export const MSGS_FINISHED = 3;
export const IN_FLIGHT_SLOT = 4;
export const MSGS_SENT = 5;
export const PUBLISHED = 6;
export const UNROUTED = 7;
/** Upper bounds of the handler-duration buckets, ms (a last bucket takes the rest). */
export const HANDLER_BUCKETS_MS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 50, 100, 500, 1000, 5000] as const;
export const HANDLER_BUCKETS = 16;
export const IN_FLIGHT_POS = HANDLER_BUCKETS + HANDLER_BUCKETS_MS.length + 1;
export const IN_FLIGHT_PHASE = IN_FLIGHT_POS + 1;
export const REDELIVER_SLOT = IN_FLIGHT_POS + 2;
export const REDELIVER_POS = IN_FLIGHT_POS + 3;
export const THREAD_ID = IN_FLIGHT_POS + 4;
export const INT_SLOTS = IN_FLIGHT_POS + 5;

/** How far the message in flight got: what the main thread does with it if the incarnation ends there. */
export const InFlightPhase = {
  /** Its handler is running: a crash here is a death on it (poison, or redelivered under `maxRedeliveries`). */
  handling: 0,
  /** Its handler returned; what it sent is not all in the receivers' rings yet: not done either, as above. */
  flushing: 1,
  /** Handled, and everything it sent is in rings: only the release was missing, which the main thread does. */
  sent: 2,
} as const;

export const F64_BUSY_SINCE = 4; // Float64 index (byte 32)
export const F64_HANDLER_MS_SUM = 5; // Float64 index (byte 40)
export const F64_HEAP_USED_MB = 6; // Float64 index (byte 48)
export const F64_HEARTBEAT_AT = 7; // Float64 index (byte 56), below the handler buckets (Int32 slot 16 = byte 64)
export const LIVENESS_BYTES = INT_SLOTS * 4;

export const ActorState = {
  booting: 0,
  idle: 1,
  busy: 2,
  stopping: 3,
  stopped: 4,
} as const;

export function createLiveness(): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(LIVENESS_BYTES);
  const i32 = new Int32Array(sab, 0, INT_SLOTS);
  i32[IN_FLIGHT_SLOT] = -1;
  i32[REDELIVER_SLOT] = -1;
  return sab;
}

/** Typed views over one liveness block. */
export class Liveness {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  /** Host side: whether the message taken last is one an earlier incarnation took and did not release. */
  redelivered = false;

  constructor(buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer, 0, INT_SLOTS);
    this.f64 = new Float64Array(buffer, 0, 8);
  }

  /** Count one handler run of `ms` (host side; one writer, so no atomic add). */
  recordHandler(ms: number): void {
    let i = 0;
    while (i < HANDLER_BUCKETS_MS.length && ms > HANDLER_BUCKETS_MS[i]!) i++;
    this.i32[HANDLER_BUCKETS + i]!++;
    this.f64[F64_HANDLER_MS_SUM] += ms;
  }

  /** Per-bucket handler counts (not cumulative), the last one for slower than every bound. */
  handlerBuckets(): number[] {
    const out: number[] = [];
    for (let i = 0; i <= HANDLER_BUCKETS_MS.length; i++) out.push(Atomics.load(this.i32, HANDLER_BUCKETS + i));
    return out;
  }

  /** Host side: the message at `pos` of the ring in `slot` is taken; its handler runs next. */
  take(slot: number, pos: number): void {
    const i32 = this.i32;
    Atomics.store(i32, IN_FLIGHT_POS, pos);
    Atomics.store(i32, IN_FLIGHT_PHASE, InFlightPhase.handling);
    Atomics.store(i32, IN_FLIGHT_SLOT, slot);
    // The mark is cleared only once the slot is marked in flight: a death in between marks the frame again.
    if (slot !== Atomics.load(i32, REDELIVER_SLOT)) return void (this.redelivered = false);
    this.redelivered = pos === Atomics.load(i32, REDELIVER_POS);
    Atomics.store(i32, REDELIVER_SLOT, -1);
  }

  /** Host side: everything the message sent is in rings; release it from `inbox` and clear the slot in flight. */
  release(inbox: { releaseMail(): void }): void {
    Atomics.store(this.i32, IN_FLIGHT_PHASE, InFlightPhase.sent);
    inbox.releaseMail();
    Atomics.store(this.i32, IN_FLIGHT_SLOT, -1);
  }

  /** Main thread, once the worker is gone: the message the incarnation took and did not release, if any. */
  inFlight(): { slot: number; pos: number; phase: number } | null {
    const slot = this.read(IN_FLIGHT_SLOT);
    return slot < 0 ? null : { slot, pos: this.read(IN_FLIGHT_POS), phase: this.read(IN_FLIGHT_PHASE) };
  }

  /** Main thread, between incarnations: the next one handles the frame at `pos` of `slot` as redelivered (`slot` -1: none). */
  markRedelivery(slot: number, pos: number): void {
    Atomics.store(this.i32, REDELIVER_POS, pos);
    Atomics.store(this.i32, REDELIVER_SLOT, slot);
  }

  /** The redelivery mark, if any. */
  redelivery(): { slot: number; pos: number } | null {
    const slot = this.read(REDELIVER_SLOT);
    return slot < 0 ? null : { slot, pos: this.read(REDELIVER_POS) };
  }

  read(slot: number): number {
    return Atomics.load(this.i32, slot);
  }

  /** Zero what describes one incarnation before the next starts (counters that feed metrics stay). */
  resetForIncarnation(): void {
    Atomics.store(this.i32, STATE, ActorState.booting);
    Atomics.store(this.i32, IN_FLIGHT_SLOT, -1); // the redelivery mark stays: it is for the incarnation starting
    Atomics.store(this.i32, THREAD_ID, 0);
    this.f64[F64_BUSY_SINCE] = 0;
    this.f64[F64_HEARTBEAT_AT] = 0;
  }
}
