/**
 * A crash being handled: the worker throws on every 7th job; its supervisor
 * restarts it (from a pre-booted standby worker), the job it died on is
 * redelivered once and then dead-lettered as poison, and the ticker's asks
 * for it fail with ActorCrashedError. Runs until Ctrl-C (or for
 * RINGMASTER_DEMO_SECONDS), then stops gracefully and prints a summary.
 */
import { fileURLToPath } from 'node:url';
import { ActorSystem } from '../../src/index.js';

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

const system = await ActorSystem.start({
  name: 'supervision-demo',
  log: { level: process.env.LOG_LEVEL ?? 'error' },
  tree: {
    id: 'root',
    strategy: 'one_for_one',
    intensity: 20,
    period: 10_000,
    children: [
      { id: 'worker', module: here('./worker.js'), config: { crashEvery: 7 }, standby: true, backoff: { min: 20, max: 500, resetAfter: 2000 } },
      { id: 'ticker', module: here('./ticker.js'), config: { everyMs: 100 }, dependencies: ['worker'] },
    ],
  },
});

system.on('crashed', (e) => console.log(`✗ ${e.actor} #${e.incarnation} crashed (${e.cause}): ${e.reason}`));
system.on('restarted', (e) => console.log(`↻ ${e.actor} is back as incarnation ${e.incarnation}`));
system.on('dead-letter', (e) => console.log(`✉ dead letter to ${e.letter.to}: ${JSON.stringify(e.letter.payload)} (${e.letter.reason.split(':')[0]})`));
console.log('supervision demo running: the worker crashes on every 7th job. Ctrl-C to stop.');

const report = setInterval(async () => {
  const counts = await system.ref('ticker').ask({});
  const w = system.status().find((s) => s.id === 'worker')!;
  console.log(`  jobs ${JSON.stringify(counts)} · worker incarnation ${w.incarnation}, restarts ${w.restarts}, state ${w.state}`);
}, 2000);

let stopping = false;
const stop = async (why: string): Promise<void> => {
  if (stopping) process.exit(1); // a second signal forces
  stopping = true;
  clearInterval(report);
  const counts = await system.ref('ticker').ask({}).catch(() => null);
  await system.stop(why);
  console.log(`stopped (${why}); final ${JSON.stringify(counts)}, dead letters ${system.deadLetterCount}`);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
const seconds = Number(process.env.RINGMASTER_DEMO_SECONDS ?? 0);
if (seconds > 0) setTimeout(() => void stop('time up'), seconds * 1000);
