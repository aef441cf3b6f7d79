// Entry of an actor's worker thread. Either boots an incarnation straight
// away, or (standby) loads the host and the actor's module first and waits to
// be handed an incarnation, so a restart skips thread start and module loading.
import { parentPort, workerData } from 'node:worker_threads';
import { Host } from '../src/host/host.js';
import type { HostBoot, HostToMain, StandbyBoot } from '../src/host/protocol.js';
import { isDefinedActor } from '../src/actor/define.js';
import { toWire } from '../src/actor/wire-error.js';
import { ModuleLoadError } from '../src/errors.js';
import { loopHeldElsewhere } from '../src/host/boot.js';

const port = parentPort!;
const data = workerData as HostBoot | StandbyBoot;
// The host listens on the port for this thread's whole life, which holds its
// event loop open: the host's waits on shared memory need not hold it too.
loopHeldElsewhere();

if ('standby' in data) {
  // Load the module now and say whether it holds an actor: a start that takes
  // this worker (or a check that only wanted the answer) fails fast on a
  // module that cannot load, instead of crash-looping on it.
  const failure = await import(data.moduleUrl).then(
    (mod: { default?: unknown }) => (isDefinedActor(mod.default) ? null : new ModuleLoadError(`actor '${data.id}': ${data.moduleUrl} has no default export made by defineActor()`)),
    (err: unknown) => new ModuleLoadError(`actor '${data.id}': cannot load ${data.moduleUrl}: ${(err as Error)?.message ?? String(err)}`, { cause: err }),
  );
  if (failure) {
    port.postMessage({ type: 'standby-ready', error: toWire(failure) } satisfies HostToMain);
  } else {
    port.once('message', (m: { type: string; boot: HostBoot }) => {
      if (m.type === 'activate') void new Host(m.boot, port).run();
    });
    port.postMessage({ type: 'standby-ready' } satisfies HostToMain);
  }
} else {
  void new Host(data, port).run();
}
