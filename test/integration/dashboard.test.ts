import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AlertManager, type ActorSystem, type SystemOptions } from '../../src/index.js';
import type { ChildSpec } from '../../src/supervisor/spec.js';
import { startHttp, type HttpOptions, type HttpServer } from '../../src/http/server.js';
import { actors, Systems, until } from './system-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const INSTALL_HINT = "Debian's chromium is not installed at /usr/bin/chromium: install it (apt-get install --no-install-recommends chromium)";
const CHROMIUM_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'];
const TOKEN = 'dashboard-test-token-0123456789';
/** Longest wait for something to show on the page: generous, since a busy 2-core machine runs the workers and the browser. */
const UI_WAIT_MS = 30_000;
/** The crasher waits this long before it restarts, so its crashed state is on the page long enough to be seen. */
const CRASH_BACKOFF_MS = 4000;

const node = (id: string): string => `.node[data-id="${id}"]`;

describe('dashboard in a real browser (headless chromium, real workers)', function () {
  this.timeout(120_000);
  const systems = new Systems();
  let browser: Browser | null = null;
  let context: BrowserContext | null = null;
  let http: HttpServer | null = null;
  let alerts: AlertManager | null = null;
  /** Console errors and uncaught page errors of the test's page. */
  let problems: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`${INSTALL_HINT}; CI must have it`);
      console.log(`      skipped: ${INSTALL_HINT}`);
      this.skip();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterEach(async () => {
    await context?.close();
    context = null;
    await http?.close();
    http = null;
    await alerts?.close();
    alerts = null;
    await systems.stopAll();
    problems = [];
  });
  after(async () => {
    await browser?.close();
    browser = null;
  });

  /** `more.rules`: alert rules, evaluated every 100 ms, that /api/alerts (and so the page) shows. */
  async function boot(options: HttpOptions, more: { children?: ChildSpec[]; rules?: unknown[]; system?: Partial<SystemOptions> } = {}): Promise<ActorSystem> {
    const { system } = await systems.start({
      id: 'root',
      strategy: 'one_for_one',
      intensity: 10,
      children: [
        { id: 'echo', module: actors('echo') },
        { id: 'crasher', module: actors('crasher'), maxRedeliveries: 0, backoff: { min: CRASH_BACKOFF_MS, max: CRASH_BACKOFF_MS, randomFactor: 0 } },
        ...(more.children ?? []),
      ],
    }, more.system);
    if (more.rules) alerts = AlertManager.attach(system, { rules: more.rules, intervalMs: 100 });
    http = await startHttp(system, alerts ? { ...options, alerts } : options);
    return system;
  }

  async function open(): Promise<Page> {
    context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_WAIT_MS);
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.goto(`${http!.url}/`);
    await page.waitForSelector(`${node('echo')}.state-running`);
    return page;
  }

  const text = (page: Page, selector: string): Promise<string> => page.locator(selector).first().innerText();

  it('draws the tree with each node’s state, and says the page is read-only when the server has no token', async () => {
    await boot({});
    const page = await open();
    expect(await page.locator('.node').count()).to.equal(3);
    expect(await text(page, `${node('root')} .node-meta`)).to.match(/^one_for_one · restart budget 10\/10 per 5 s$/);
    expect(await text(page, `${node('crasher')} .state-label`)).to.equal('running');
    expect(await text(page, `${node('crasher')} .node-meta`)).to.equal('incarnation 1 · 0 restarts');
    // The first actor is selected: its figures and charts are shown.
    await page.waitForSelector('#actor-detail:not([hidden]) [data-field="heartbeat age"]');
    expect(await page.locator('#actor-detail .uplot').count()).to.equal(3);
    // Its event-loop utilisation, once a sample has a window behind it.
    await page.locator('#actor-detail [data-field="event loop busy"]', { hasText: /^\d+(\.\d+)? %$/ }).waitFor();
    const notice = page.locator('#access-notice');
    expect(await notice.isVisible()).to.equal(true);
    expect(await notice.innerText()).to.match(/^Read-only: this server has no HTTP token configured/);
    expect(await page.locator('#token-box').isVisible()).to.equal(false);
    expect(await page.locator('#restart-actor').isDisabled()).to.equal(true);
    expect(await page.locator('#stop-actor').isDisabled()).to.equal(true);
    expect(problems).to.deep.equal([]);
  });

  it('turns a crashed actor red with a timeline entry, and back once it restarted; ids and reasons are shown as text', async () => {
    const system = await boot({ token: TOKEN }, { system: { flightRecorder: { messages: 8, payloadBytes: 256 } } });
    const page = await open();
    const reason = '<img src=x onerror="document.body.dataset.injected=1">';
    system.ref('crasher').tell({ op: 'throw', message: reason });

    await page.waitForSelector(`${node('crasher')}.state-crashed`);
    expect(await text(page, `${node('crasher')} .state-label`)).to.match(/^crashed/);
    const entry = page.locator('#timeline li.type-crashed');
    await entry.first().waitFor();
    expect(await entry.first().locator('.event-actor').innerText()).to.equal('crasher');
    expect(await entry.first().locator('.event-text').innerText()).to.equal(`incarnation 1 crashed (exception): Error: ${reason}`);
    expect(await page.locator('#timeline img, #tree img').count(), 'the reason is text, not markup').to.equal(0);

    await page.waitForSelector(`${node('crasher')}.state-running`);
    expect(await text(page, `${node('crasher')} .node-meta`)).to.equal('incarnation 2 · 1 restart');
    // The actor panel folds the stack of what the actor threw; it names the actor's own file.
    await page.click(node('crasher'));
    await page.locator('#actor-detail:not([hidden]) details.crash-stack summary').click();
    expect(await text(page, '[data-field="crash stack"]')).to.match(/fixtures\/actors\/crasher\.(js|ts):\d+/);
    // And its flight recorder: the message it died on, last, with no handler time.
    await page.locator('#actor-detail:not([hidden]) details.crash-recorder summary').click();
    expect(await text(page, '[data-field="crash recorder"] tbody tr:last-child')).to.match(/tell\s+\$system\s+\d+\s+died in it/);
    // With payloadBytes set, the payload it died on, previewed as text.
    expect(await text(page, '[data-field="crash recorder"] tbody tr:last-child [data-field="recorded payload"]')).to.equal(JSON.stringify({ op: 'throw', message: reason }).slice(0, 79) + '…');
    expect(await page.locator('[data-field="crash recorder"] img').count(), 'the payload is text, not markup').to.equal(0);
    await page.locator('#timeline li.type-restarted').first().waitFor();

    // The timeline filter keeps one actor's events.
    await page.selectOption('#timeline-filter', 'echo');
    expect(await page.locator('#timeline li.type-crashed').count()).to.equal(0);
    await page.selectOption('#timeline-filter', 'crasher');
    expect(await page.locator('#timeline li.type-crashed').count()).to.equal(1);
    expect(await page.evaluate('document.body.dataset.injected ?? null')).to.equal(null);
    expect(problems).to.deep.equal([]);
  });

  it('restarts an actor and reloads the config with the token; refuses a wrong token and says why', async () => {
    let reloads = 0;
    const system: ActorSystem = await boot({
      token: TOKEN,
      onReload: async () => {
        reloads++;
        system.reportConfig({ type: 'config-applied', version: 2, source: 'file', changes: [{ kind: 'configure', id: 'echo' }] });
        return { status: 'applied', version: 2, changes: [{ kind: 'configure', id: 'echo' }], needsRestart: [] };
      },
    });
    const page = await open();
    await page.click(node('echo'));
    await page.waitForSelector(`${node('echo')}.selected`);
    expect(await page.locator('#access-notice').innerText()).to.match(/^Read-only: paste the bearer token/);
    expect(await page.locator('#restart-actor').isDisabled()).to.equal(true);

    await page.fill('#token-input', 'not-the-token');
    await page.click('#token-use');
    expect(await page.locator('#access-notice').isVisible()).to.equal(false);
    await page.click('#restart-actor');
    await page.waitForSelector('#action-message[data-kind="error"]');
    expect(await text(page, '#action-message')).to.equal("Restart of 'echo' refused (401): the token was not accepted. Paste the token the server was started with.");
    expect(system.status().find((s) => s.id === 'echo')).to.include({ incarnation: 1 });

    await page.click('#token-forget');
    await page.fill('#token-input', TOKEN);
    await page.click('#token-use');
    await page.click('#restart-actor');
    await page.waitForSelector('#action-message[data-kind="ok"]:has-text("Restart of")');
    expect(await text(page, '#action-message')).to.equal("Restart of 'echo': done, now running (incarnation 2).");
    // A locator, not waitForFunction with a string: the page's CSP (no unsafe-eval) refuses evaluated strings.
    await page.locator('.node[data-id="echo"] .node-meta', { hasText: /^incarnation 2 · 1 restart$/ }).waitFor();
    expect(system.status().find((s) => s.id === 'echo')).to.include({ incarnation: 2, state: 'running' });

    await page.click('#reload-config');
    await page.waitForSelector('#action-message[data-kind="ok"]:has-text("Config reload:")');
    expect(await text(page, '#action-message')).to.equal('Config reload: applied as version 2 (1 change).');
    expect(reloads).to.equal(1);
    await page.locator('#timeline li.type-config-applied').first().waitFor();
    expect(await text(page, '#timeline li.type-config-applied .event-text')).to.equal('version 2 from the file: configure echo');

    // The refused action is the only thing the browser logged as an error (its 401 response).
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/status of 401/);
  });

  it('shows a firing alert in the strip at the top (severity, name, actor, value) and in the timeline, and takes it off once it resolved', async () => {
    const rules = [{ name: 'busy-backlog', when: { metric: 'inboxDepth', actor: 'busy', op: '>', value: 0 }, severity: 'warning' }];
    const system = await boot({}, { children: [{ id: 'busy', module: actors('busy') }], rules });
    const page = await open();
    const strip = page.locator('#alert-strip');
    expect(await strip.isVisible(), 'nothing fires yet').to.equal(false);
    // The first message holds busy's loop for a while; the ones behind it wait in its inbox, and the rule fires.
    system.ref('busy').tell({ ms: 8000 });
    for (let i = 0; i < 3; i++) system.ref('busy').tell({ ms: 0 });
    await strip.waitFor({ state: 'visible' });
    const alert = page.locator('#alert-list li.alert');
    expect(await alert.count()).to.equal(1);
    expect(await alert.getAttribute('class')).to.equal('alert severity-warning');
    expect(await alert.locator('.alert-severity').innerText()).to.match(/^warning$/i);
    expect(await alert.locator('.alert-name').innerText()).to.equal('busy-backlog');
    expect(await alert.locator('.alert-detail').innerText()).to.match(/^actor busy · value [1-4] · since \S+/);
    await page.locator('#timeline li.type-alert-firing').first().waitFor();
    expect(await text(page, '#timeline li.type-alert-firing .event-text')).to.match(/^firing \(warning\): busy-backlog, value [1-4]$/);
    // The backlog drains once the long message is done: the rule resolves and the strip goes.
    await strip.waitFor({ state: 'hidden' });
    expect(await page.locator('#alert-list li').count()).to.equal(0);
    await page.locator('#timeline li.type-alert-resolved').first().waitFor();
    expect(await text(page, '#timeline li.type-alert-resolved .event-text')).to.equal('resolved (warning): busy-backlog');
    expect(alerts!.list().find((a) => a.name === 'busy-backlog')?.state).to.equal('inactive');
    expect(problems).to.deep.equal([]);
  });

  it('keeps the token for the tab only, and reconnects to a server that came back', async () => {
    const system = await boot({ token: TOKEN });
    const page = await open();
    await page.fill('#token-input', TOKEN);
    await page.click('#token-use');
    expect(await page.evaluate(`sessionStorage.getItem('ringmaster.token')`)).to.equal(TOKEN);
    await page.reload();
    await page.waitForSelector(`${node('echo')}.state-running`);
    expect(await page.locator('#restart-actor').isDisabled(), 'still enabled after a reload of the page').to.equal(false);

    // The server goes away and comes back on the same port: the page picks the new feed up by itself.
    const port = http!.port;
    await http!.close();
    http = null;
    await page.waitForSelector('#connection[data-state="reconnecting"]');
    http = await until(() => startHttp(system, { token: TOKEN, port }).catch(() => undefined), 'the port to be free again');
    await page.waitForSelector('#connection[data-state="live"]');
    await page.waitForSelector(`${node('echo')}.state-running`);
    // While the server was away the browser logged its failed reconnects; nothing else.
    expect(problems.filter((p) => !/api\/live|ERR_CONNECTION_REFUSED|Failed to load resource/.test(p))).to.deep.equal([]);
  });
});
