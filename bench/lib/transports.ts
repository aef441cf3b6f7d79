/** How each transport under test is set up: worker pairs for ringmaster and postMessage, clients for piscina and comlink. */
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { releaseProxy, wrap } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Piscina } from 'piscina';
import { createDoorbell, createRing, processSpinBudget } from '../../src/internal.js';
import type { EchoApi } from '../workers/comlink-echo.js';
import type { PortPeerData } from '../workers/port-peer.js';
import type { RingPeerData } from '../workers/ring-peer.js';
import { now } from './clock.js';
import { tick } from './payload.js';
import { Peer, track } from './peer.js';
import type { PeerLinks } from './peer-bench.js';
import type { RpcClient } from './rpc-bench.js';

const script = (name: string): URL => new URL(`../workers/${name}.js`, import.meta.url);

/** Each direction is one ring into a one-slot doorbell: the receiving thread's whole inbox. */
export const ringLinks: PeerLinks = {
  async oneWay() {
    const ring = createRing();
    const doorbell = createDoorbell(1);
    const rx: RingPeerData = { role: 'rx', inRing: ring, inDoorbell: doorbell, spinBudget: processSpinBudget().buffer };
    const tx: RingPeerData = { role: 'tx', outRing: ring, outDoorbell: doorbell, spinBudget: processSpinBudget().buffer };
    return { rx: new Peer('ringmaster rx', script('ring-peer'), rx), tx: new Peer('ringmaster tx', script('ring-peer'), tx) };
  },
  async roundTrip() {
    const there = { ring: createRing(), doorbell: createDoorbell(1) };
    const back = { ring: createRing(), doorbell: createDoorbell(1) };
    const spinBudget = processSpinBudget().buffer;
    const ping: RingPeerData = { role: 'ping', outRing: there.ring, outDoorbell: there.doorbell, inRing: back.ring, inDoorbell: back.doorbell, spinBudget };
    const pong: RingPeerData = { role: 'pong', outRing: back.ring, outDoorbell: back.doorbell, inRing: there.ring, inDoorbell: there.doorbell, spinBudget };
    return { ping: new Peer('ringmaster ping', script('ring-peer'), ping), pong: new Peer('ringmaster pong', script('ring-peer'), pong) };
  },
};

/** The two workers talk over a MessageChannel of their own; the main thread is not on the path. */
function portPair(a: PortPeerData['role'], b: PortPeerData['role']): [Peer, Peer] {
  const { port1, port2 } = new MessageChannel();
  const one: PortPeerData = { role: a, port: port1 };
  const two: PortPeerData = { role: b, port: port2 };
  return [new Peer(`postMessage ${a}`, script('port-peer'), one, [port1]), new Peer(`postMessage ${b}`, script('port-peer'), two, [port2])];
}

export const portLinks: PeerLinks = {
  async oneWay() {
    const [rx, tx] = portPair('rx', 'tx');
    return { rx, tx };
  },
  async roundTrip() {
    const [ping, pong] = portPair('ping', 'pong');
    return { ping, pong };
  },
};

/** `concurrentTasksPerWorker` left out means piscina's default (1): one task at a time on the worker. */
export function piscinaClient(concurrentTasksPerWorker?: number): RpcClient {
  const pool = new Piscina({
    filename: fileURLToPath(script('piscina-echo')),
    minThreads: 1,
    maxThreads: 1,
    ...(concurrentTasksPerWorker === undefined ? {} : { concurrentTasksPerWorker }),
  });
  return { call: (seq) => pool.run(tick(seq, now())), close: () => pool.destroy() };
}

export function comlinkClient(): RpcClient {
  const worker = track(new Worker(script('comlink-echo')));
  const api = wrap<EchoApi>(nodeEndpoint(worker));
  return {
    call: (seq) => api.echo(tick(seq, now())),
    async close() {
      api[releaseProxy]();
      await worker.terminate();
    },
  };
}
