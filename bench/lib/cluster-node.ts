/**
 * The far node of bench:cluster, in a process of its own: ringmaster node
 * `b` hosting the `sink` actor, and beside it, on a NATS connection of its
 * own, the raw NATS ends the benchmark compares with — a responder that
 * decodes each request's msgpack and answers it encoded again, and a
 * subscriber that decodes and counts what is published (its count answered
 * on a subject of its own), and its process's CPU time on another. Prints `up` once both are ready; stops on SIGTERM.
 * argv: <nats url> <system name>
 */
import { connect } from '@nats-io/transport-node';
import { Packr, Unpackr } from 'msgpackr';
import { ActorSystem } from '../../src/index.js';
import { RAW } from './cluster-bench.js';

const [url, name] = process.argv.slice(2) as [string, string];
const system = await ActorSystem.start({
  name,
  log: { level: 'warn' },
  cluster: { node: 'b', servers: url },
  tree: { id: 'root', strategy: 'one_for_one', children: [{ id: 'sink', module: new URL('../actors/cluster-sink.js', import.meta.url).pathname }] },
});
const nc = await connect({ servers: url, name: 'bench raw far end' });
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });
let counted = 0;
nc.subscribe(RAW.request, { callback: (_e, m) => void m.respond(packr.pack(unpackr.unpack(m.data))) });
nc.subscribe(RAW.publish, {
  callback: (_e, m) => {
    unpackr.unpack(m.data);
    counted++;
  },
});
nc.subscribe(RAW.count, { callback: (_e, m) => void m.respond(packr.pack(counted)) });
nc.subscribe(RAW.cpu, {
  callback: (_e, m) => {
    const u = process.cpuUsage();
    m.respond(packr.pack(u.user + u.system));
  },
});
await nc.flush();
process.stdout.write('up\n');
process.once('SIGTERM', () => {
  void (async () => {
    await nc.drain().catch(() => {});
    await system.stop();
    process.exit(0);
  })();
});
