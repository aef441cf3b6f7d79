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
 *   Int32 slot after them  THREAD_ID  host: the worker's OS thread id (0 = unknown), so the watchdog can read how long it waited for a CPU (run-queue.ts)
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
export const THREAD_ID = HANDLER_BUCKETS + HANDLER_BUCKETS_MS.length + 1;
export const INT_SLOTS = THREAD_ID + 1;

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
  new Int32Array(sab, 0, INT_SLOTS)[IN_FLIGHT_SLOT] = -1;
  return sab;
}

/** Typed views over one liveness block. */
export class Liveness {
  readonly i32: Int32Array;
  readonly f64: Float64Array;

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

  read(slot: number): number {
    return Atomics.load(this.i32, slot);
  }

  /** Zero what describes one incarnation before the next starts (counters that feed metrics stay). */
  resetForIncarnation(): void {
    Atomics.store(this.i32, STATE, ActorState.booting);
    Atomics.store(this.i32, IN_FLIGHT_SLOT, -1);
    Atomics.store(this.i32, THREAD_ID, 0);
    this.f64[F64_BUSY_SINCE] = 0;
    this.f64[F64_HEARTBEAT_AT] = 0;
  }
}
