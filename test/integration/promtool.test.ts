import { expect } from 'chai';
import { needPromtool, promtoolCheck } from './promtool-helpers.js';
import { startHttp, type HttpServer } from '../../src/http/server.js';
import { actors, find, Systems, until } from './system-helpers.js';

/** The value of the exposition line that starts with `series` (names and labels exactly as printed). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no sample ${series} in the scrape`);
  return Number(line.slice(series.length + 1));
}

describe('Prometheus exposition passes promtool (real workers, real scrape)', function () {
  this.timeout(60_000);
  const systems = new Systems();
  let http: HttpServer | null = null;
  afterEach(async () => {
    await http?.close();
    http = null;
    await systems.stopAll();
  });

  it('`promtool check metrics` accepts /metrics of a system with traffic, a crash and dead letters', async function () {
    needPromtool(this);
    const { system, events } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      children: [
        { id: 'a', module: actors('echo') },
        { id: 'c', module: actors('crasher'), maxRedeliveries: 0 },
      ],
    });
    http = await startHttp(system, { token: 'promtool-test', reloads: () => ({ applied: 2, rejected: 1 }) });
    for (let i = 0; i < 20; i++) await system.ref('a').ask({ op: 'echo', value: i });
    system.ref('c').tell({ op: 'throw' });
    system.ref('nobody').tell('lost');
    await until(() => find(events, 'restarted', 'c'), 'c to restart');
    await until(() => system.deadLetterCount === 2 && system.metrics().actors.find((x) => x.id === 'a')!.received === 20, 'the counters to settle');

    const res = await fetch(`${http.url}/metrics`);
    expect(res.status).to.equal(200);
    const text = await res.text();
    const { code, output } = await promtoolCheck(text);
    expect(output, 'promtool findings').to.equal('');
    expect(code, output).to.equal(0);

    // The numbers promtool saw are the system's, and the histogram is well formed.
    const s = (name: string, labels: string): number => sample(text, `${name}{${labels}}`);
    expect(s('ringmaster_messages_received_total', 'actor="a",system="test"')).to.equal(20);
    expect(s('ringmaster_restarts_total', 'actor="c",system="test"')).to.equal(1);
    expect(s('ringmaster_crashes_total', 'actor="c",cause="exception",system="test"')).to.equal(1);
    expect(s('ringmaster_actor_dead_letters_total', 'actor="c",system="test"')).to.equal(1);
    expect(s('ringmaster_dead_letters_total', 'system="test"')).to.equal(2);
    expect(s('ringmaster_config_reloads_total', 'result="rejected",system="test"')).to.equal(1);
    const buckets = text
      .split('\n')
      .filter((l) => l.startsWith('ringmaster_handler_duration_seconds_bucket{actor="a",'))
      .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
    expect(buckets.length).to.be.greaterThan(2);
    expect(buckets).to.deep.equal([...buckets].sort((x, y) => x - y), 'cumulative buckets never decrease');
    expect(buckets.at(-1)).to.equal(20);
    expect(s('ringmaster_handler_duration_seconds_bucket', 'actor="a",le="+Inf",system="test"')).to.equal(20);
    expect(s('ringmaster_handler_duration_seconds_count', 'actor="a",system="test"')).to.equal(20);
    expect(s('ringmaster_handler_duration_seconds_sum', 'actor="a",system="test"')).to.be.greaterThan(0);
  });
});
