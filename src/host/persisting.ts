import type { ActorContext, PersistenceSpec } from '../actor/define.js';
import { InvalidOptionError } from '../errors.js';
import { Persister } from '../persistence/persister.js';
import { SqliteStore } from '../persistence/sqlite.js';
import type { HostBoot } from './protocol.js';

/**
 * Open a persistent actor's journal (the system's SQLite database, on this
 * thread's own connection) and the Persister over it. Throws a
 * PersistenceError when the database cannot be opened or is too new.
 */
export function openPersister(b: HostBoot, spec: PersistenceSpec, ctx: ActorContext, onFailure: (err: unknown) => void): Persister<unknown> {
  let pid = b.id;
  if (spec.id) {
    pid = spec.id(ctx);
    if (typeof pid !== 'string' || pid === '') throw new InvalidOptionError(`actor '${b.id}' persistence.id()`, `must return a non-empty string, got ${JSON.stringify(pid)}`);
  }
  const store = SqliteStore.open({ path: b.persistence.path, synchronous: b.persistence.synchronous, lock: b.persistence.lock, actor: b.id }, pid);
  return new Persister(store, { actor: b.id, pid, apply: (state, event) => spec.apply(state, event), snapshotEvery: spec.snapshotEvery ?? 0, prune: spec.prune ?? false }, onFailure);
}

/** Why ctx.persist cannot be used: the actor is not persistent, or (`persistent`) its journal is not open yet, in `init`. */
export function notPersistent(id: string, persistent = false): Error {
  if (persistent) return new InvalidOptionError(`actor '${id}' ctx.persist`, 'cannot be used in init: the state is recovered from the journal after init returns; persist from receive (or an api method)');
  return new InvalidOptionError(`actor '${id}'`, 'is not persistent: give defineActor() a persistence: { apply(state, event) } to use ctx.persist and ctx.snapshot');
}
