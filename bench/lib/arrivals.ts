import { now } from './clock.js';
import { MAX_STAMPED, type ReceivedReport } from './protocol.js';
import { threadCpuMs } from './thread-cpu.js';

/**
 * What a receiving worker notes about each message of a phase. The work per
 * message is two array stores and a clock read, the same for every transport;
 * percentiles are computed later on the main thread, off the measured path.
 */
export class ArrivalLog {
  readonly #sent = new Float64Array(MAX_STAMPED);
  readonly #arrived = new Float64Array(MAX_STAMPED);
  #count = 0;
  #nextSeq = 0;
  #outOfOrder = 0;
  #firstTs = NaN;
  #lastArrival = NaN;
  #cpuStart = NaN;

  get count(): number {
    return this.#count;
  }

  add(seq: number, ts: number): void {
    const t = now();
    const i = this.#count++;
    if (i < MAX_STAMPED) {
      this.#sent[i] = ts;
      this.#arrived[i] = t;
    }
    if (seq !== this.#nextSeq) this.#outOfOrder++;
    this.#nextSeq = seq + 1;
    this.#lastArrival = t;
    if (i === 0) {
      this.#firstTs = ts;
      this.#cpuStart = threadCpuMs();
    }
  }

  /** The phase's report; the log starts over for the next phase. */
  finish(): ReceivedReport {
    const n = this.#count;
    const keep = n <= MAX_STAMPED;
    const report: ReceivedReport = {
      type: 'received',
      count: n,
      outOfOrder: this.#outOfOrder,
      firstTs: this.#firstTs,
      lastArrival: this.#lastArrival,
      sent: keep ? this.#sent.slice(0, n) : null,
      arrived: keep ? this.#arrived.slice(0, n) : null,
      threadCpuMs: threadCpuMs() - this.#cpuStart,
    };
    this.#count = 0;
    this.#nextSeq = 0;
    this.#outOfOrder = 0;
    this.#firstTs = NaN;
    this.#lastArrival = NaN;
    this.#cpuStart = NaN;
    return report;
  }
}
