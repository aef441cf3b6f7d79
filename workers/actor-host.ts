// Entry of an actor's worker thread. Either boots an incarnation straight
// away, or (standby) loads the host and the actor's module first and waits to
// be handed an incarnation, so a restart skips thread start and module loading.
import { parentPort, workerData } from 'node:worker_threads';
import { Host } from '../src/host/host.js';
import type { HostBoot, StandbyBoot } from '../src/host/protocol.js';

const port = parentPort!;
const data = workerData as HostBoot | StandbyBoot;

if ('standby' in data) {
  // Import failures surface when the incarnation runs: the host reports them then.
  await import(data.moduleUrl).catch(() => undefined);
  port.once('message', (m: { type: string; boot: HostBoot }) => {
    if (m.type === 'activate') void new Host(m.boot, port).run();
  });
  port.postMessage({ type: 'standby-ready' });
} else {
  void new Host(data, port).run();
}
