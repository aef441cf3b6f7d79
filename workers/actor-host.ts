// Entry of an actor's worker thread: boot the host with what the system handed over.
import { parentPort, workerData } from 'node:worker_threads';
import { Host } from '../src/host/host.js';
import type { HostBoot } from '../src/host/protocol.js';

void new Host(workerData as HostBoot, parentPort!).run();
