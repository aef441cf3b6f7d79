import type { ActorContext, PersistenceSpec } from '../actor/define.js';
import { InvalidOptionError } from '../errors.js';
import { JetStreamStore } from '../persistence/jetstream.js';
import type { PersistenceStore } from '../persistence/journal.js';
import { Persister } from '../persistence/persister.js';
import { SqliteStore } from '../persistence/sqlite.js';
import type { HostBoot } from './protocol.js';

/**
 * Open a persistent actor's journal and the Persister over it: the system's
 * SQLite database on this thread's own connection (throws a PersistenceError
 * when it cannot be opened or is too new), or its JetStream stream (the
 * NATS client is loaded and connects now; a failure to connect is the
 * PersistenceError of the recovery's first read).
 */
export function openPersister(b: HostBoot, spec: PersistenceSpec, ctx: ActorContext, onFailure: (err: unknown) => void): Persister<unknown> {
  let pid = b.id;
  if (spec.id) {
    pid = spec.id(ctx);
    if (typeof pid !== 'string' || pid === '') throw new InvalidOptionError(`actor '${b.id}' persistence.id()`, `must return a non-empty string, got ${JSON.stringify(pid)}`);
  }
  const p = b.persistence;
  const store: PersistenceStore =
    p.backend === 'jetstream' && p.jetstream
      ? JetStreamStore.open({ system: b.system, actor: b.id, config: p.jetstream })
      : SqliteStore.open({ path: p.path, synchronous: p.synchronous, lock: p.lock, actor: b.id }, pid);
  return new Persister(store, { actor: b.id, pid, apply: (state, event) => spec.apply(state, event), snapshotEvery: spec.snapshotEvery ?? 0, prune: spec.prune ?? false }, onFailure);
}

/** Why ctx.persist cannot be used: the actor is not persistent, or (`persistent`) its journal is not open yet, in `init`. */
export function notPersistent(id: string, persistent = false): Error {
  if (persistent) return new InvalidOptionError(`actor '${id}' ctx.persist`, 'cannot be used in init: the state is recovered from the journal after init returns; persist from receive (or an api method)');
  return new InvalidOptionError(`actor '${id}'`, 'is not persistent: give defineActor() a persistence: { apply(state, event) } to use ctx.persist and ctx.snapshot');
}
