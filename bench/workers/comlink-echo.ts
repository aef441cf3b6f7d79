/** Comlink-exposed object in a worker: `echo` hands the tick back (a request and a response per call). */
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort } from 'node:worker_threads';
import type { Tick } from '../lib/payload.js';

const api = {
  echo(t: Tick): Tick {
    return t;
  },
};

export type EchoApi = typeof api;

expose(api, nodeEndpoint(parentPort!));
