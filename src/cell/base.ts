import type { RestartBackoff } from '../supervisor/budget.js';
import type { ExitInfo } from '../supervisor/child.js';
import type { ResolvedChildSpec, RestartType, Shutdown } from '../supervisor/spec.js';
import type { CellServices } from './contract.js';
import { CellRecord } from './record.js';

/**
 * What every kind of cell shares: its record, and the supervisor's view of it
 * read straight from the record. Behaviour (start, stop, health, …) is each
 * cell's own; nothing here is overridden.
 */
export abstract class CellBase {
  readonly record: CellRecord;
  /** Set by the supervisor; called when the child ends on its own (crash or normal exit). */
  onExit: (info: ExitInfo) => void = () => {};

  constructor(spec: ResolvedChildSpec, parent: string, moduleUrl: string, svc: CellServices) {
    this.record = new CellRecord(spec, parent, moduleUrl, svc);
  }

  get id(): string {
    return this.record.id;
  }
  get restart(): RestartType {
    return this.record.restart;
  }
  get significant(): boolean {
    return this.record.significant;
  }
  get shutdown(): Shutdown {
    return this.record.shutdown;
  }
  get backoff(): RestartBackoff | null {
    return this.record.backoff;
  }
  get incarnation(): number {
    return this.record.incarnation;
  }
  get spec(): ResolvedChildSpec {
    return this.record.spec;
  }
  get liveness(): CellRecord['liveness'] {
    return this.record.liveness;
  }

  markBackingOff(): void {
    this.record.state = 'backing-off';
  }
}
