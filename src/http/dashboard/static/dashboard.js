// The Ringmaster dashboard: draws what the live feed (/api/live, Server-Sent
// Events) sends and calls the token-guarded action routes. Every string that
// comes from the system (ids, reasons, problems) reaches the page as text
// (textContent, text nodes), never as HTML.

const TOKEN_KEY = 'ringmaster.token';
/** Events kept and listed by the page. */
const MAX_EVENTS = 500;
const CHART_HEIGHT = 140;

const $ = (id) => document.getElementById(id);

/** A new element: `text` becomes its text, `class` its class, other attributes are set as they are; children are nodes or strings (text). */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

const view = {
  actions: { token: false, reload: false },
  status: [],
  byId: new Map(),
  history: [],
  historyLimit: 300,
  events: [],
  lastSeq: 0,
  dropped: 0,
  selected: decodeURIComponent(location.hash.slice(1)) || null,
  /** id → the tree node's elements. */
  nodes: new Map(),
  /** id → time until which the node flashes after a crash. */
  flashUntil: new Map(),
  charts: null,
  busy: false,
};

// ---- formatting ------------------------------------------------------------

const missing = (x) => x === null || x === undefined;
const fmtRate = (x) => (missing(x) ? '–' : x < 10 ? x.toFixed(1) : String(Math.round(x)));
const fmtMs = (x) => (missing(x) ? '–' : x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(1) : String(Math.round(x)));
const fmtAge = (ms) => (missing(ms) ? '–' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
const fmtPeriod = (ms) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);
const fmtTime = (at) => new Date(at).toLocaleTimeString([], { hour12: false });
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The state a node is drawn in: an actor waiting out its backoff after a crash is shown as crashed. */
function shownState(s) {
  if (s.state === 'crashed') return 'crashed';
  if (s.kind === 'actor' && s.state === 'backing-off' && s.lastCrash && s.lastCrash.incarnation === s.incarnation) return 'crashed';
  return s.state;
}

function stateLabel(s) {
  const shown = shownState(s);
  if (shown === 'crashed' && s.state === 'backing-off') return 'crashed · backing off';
  return shown.replace('-', ' ');
}

const latest = (id) => view.history.at(-1)?.actors[id] ?? null;

// ---- the supervision tree --------------------------------------------------

function makeNode(s) {
  const card = el('div', { class: 'node' });
  card.dataset.id = s.id;
  const parts = {
    id: el('span', { class: 'node-id', text: s.id }),
    label: el('span', { class: 'state-label' }),
    meta: el('span', { class: 'node-meta' }),
    stats: s.kind === 'actor' ? el('span', { class: 'node-stats' }) : null,
  };
  card.append(parts.id, parts.label, parts.meta, ...(parts.stats ? [parts.stats] : []));
  if (s.kind === 'actor') {
    card.tabIndex = 0;
    card.setAttribute('role', 'button');
    card.addEventListener('click', () => select(s.id));
    card.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        select(s.id);
      }
    });
  }
  const children = s.kind === 'supervisor' ? el('ul') : null;
  const li = el('li', {}, card, children);
  return { kind: s.kind, li, card, children, ...parts };
}

function updateNode(node, s) {
  const shown = shownState(s);
  const flashing = (view.flashUntil.get(s.id) ?? 0) > Date.now();
  node.card.className = `node kind-${s.kind} state-${shown}${s.id === view.selected ? ' selected' : ''}${flashing ? ' flash' : ''}`;
  node.card.dataset.state = shown;
  node.label.textContent = stateLabel(s);
  if (s.kind === 'supervisor') {
    node.meta.textContent = `${s.strategy} · restart budget ${s.restartBudgetLeft}/${s.intensity} per ${fmtPeriod(s.periodMs)}`;
    return;
  }
  const extras = [s.pool ? `pool of ${s.pool.threads}` : '', s.breaker && s.breaker !== 'closed' ? `breaker ${s.breaker}` : ''].filter(Boolean);
  node.meta.textContent = [`incarnation ${s.incarnation}`, plural(s.restarts, 'restart'), ...extras].join(' · ');
  const p = latest(s.id);
  node.stats.textContent = p ? `in ${fmtRate(p.in)}/s · out ${fmtRate(p.out)}/s · p99 ${fmtMs(p.p99)} ms · inbox ${s.inboxDepth}` : `inbox ${s.inboxDepth}`;
  node.card.title = s.lastCrash ? `last crash at ${fmtTime(s.lastCrash.at)} (incarnation ${s.lastCrash.incarnation}, ${s.lastCrash.cause}): ${s.lastCrash.reason}` : '';
}

/** Keyed update: nodes are made once and moved only when their place changes (a moved node would lose focus). */
function renderTree() {
  const root = $('tree');
  const placed = new Map();
  const seen = new Set();
  for (const s of view.status) {
    seen.add(s.id);
    let node = view.nodes.get(s.id);
    if (!node || node.kind !== s.kind) {
      node?.li.remove();
      node = makeNode(s);
      view.nodes.set(s.id, node);
    }
    const list = (s.parent !== null && view.nodes.get(s.parent)?.children) || root;
    const prev = placed.get(list);
    const want = prev ? prev.nextSibling : list.firstChild;
    if (want !== node.li) list.insertBefore(node.li, want);
    placed.set(list, node.li);
    updateNode(node, s);
  }
  for (const [id, node] of view.nodes) {
    if (!seen.has(id)) {
      node.li.remove();
      view.nodes.delete(id);
    }
  }
}

// ---- the selected actor ----------------------------------------------------

function select(id) {
  view.selected = id;
  history.replaceState(null, '', `#${encodeURIComponent(id)}`);
  renderTree();
  renderActor();
}

function makeCharts() {
  if (typeof uPlot === 'undefined') return null;
  const width = chartWidth();
  const chart = (target, title, series, axes) =>
    new uPlot({ title, width, height: CHART_HEIGHT, series: [{}, ...series], axes: [{}, ...axes], legend: { live: false } }, [[], ...series.map(() => [])], $(target));
  return {
    rate: chart('chart-rate', 'messages / s', [{ label: 'in', stroke: '#2f6fb5' }, { label: 'out', stroke: '#2f7d4f' }], [{ size: 50 }]),
    latency: chart('chart-latency', 'handler latency, ms', [{ label: 'p50', stroke: '#2f7d4f' }, { label: 'p99', stroke: '#c62828' }], [{ size: 50 }]),
    resources: chart(
      'chart-resources',
      'inbox (messages) and heap (MB)',
      [
        { label: 'inbox', stroke: '#c77700', scale: 'n' },
        { label: 'heap MB', stroke: '#6b7280', scale: 'mb' },
      ],
      [
        { scale: 'n', size: 50 },
        { scale: 'mb', side: 1, size: 50, grid: { show: false } },
      ],
    ),
  };
}

const chartWidth = () => Math.max(200, $('actor-detail').clientWidth - 4);

function renderCharts(id) {
  if (!view.charts) view.charts = makeCharts();
  if (!view.charts) return;
  const xs = view.history.map((p) => p.t / 1000);
  const col = (key) => view.history.map((p) => p.actors[id]?.[key] ?? null);
  view.charts.rate.setData([xs, col('in'), col('out')]);
  view.charts.latency.setData([xs, col('p50'), col('p99')]);
  view.charts.resources.setData([xs, col('inbox'), col('heapMb')]);
}

function renderActor() {
  const s = view.selected ? view.byId.get(view.selected) : null;
  const shown = Boolean(s && s.kind === 'actor');
  $('actor-empty').hidden = shown;
  $('actor-detail').hidden = !shown;
  $('actor-title').textContent = shown ? s.id : '';
  renderAccess();
  if (!shown) return;
  const p = latest(s.id) ?? {};
  const rows = [
    ['state', stateLabel(s)],
    ['incarnation', s.incarnation],
    ['restarts', s.restarts],
    ['standby', s.standby ?? 'none'],
    ['in', `${fmtRate(p.in)} msg/s`],
    ['out', `${fmtRate(p.out)} msg/s`],
    ['latency p50', `${fmtMs(p.p50)} ms`],
    ['latency p99', `${fmtMs(p.p99)} ms`],
    ['inbox', s.inboxDepth],
    ['heartbeat age', fmtAge(p.heartbeatAgeMs)],
    ['memory', missing(p.heapMb) ? '–' : `${p.heapMb} MB heap`],
    ['event loop busy', missing(p.cpuPct) ? '–' : `${p.cpuPct} %`],
  ];
  if (s.breaker) rows.push(['breaker', s.breaker]);
  if (s.pool) {
    rows.push(['pool threads', s.pool.threads], ['pool queue', s.pool.queueSize], ['pool running', s.pool.running]);
    rows.push(['pool tasks', `${s.pool.completed} done, ${s.pool.failed} failed`], ['pool utilisation', `${Math.round(s.pool.utilization * 100)} %`]);
  }
  const figures = rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v), 'data-field': k })]);
  if (s.lastCrash) {
    const c = s.lastCrash;
    const text = `${fmtTime(c.at)}, incarnation ${c.incarnation}, ${c.cause}: ${c.reason}`;
    figures.push(el('dt', { text: 'last crash' }), el('dd', { class: 'wide', text, 'data-field': 'last crash' }));
    if (c.stack) {
      // The stack of what the actor threw, folded; text, never markup.
      const stack = el('details', { class: 'crash-stack' }, el('summary', { text: 'stack' }), el('pre', { text: c.stack, 'data-field': 'crash stack' }));
      figures.push(el('dt', { text: '' }), el('dd', { class: 'wide' }, stack));
    }
    if (c.recent && c.recent.length > 0) {
      // The flight recorder: the last messages before the crash, newest last (the one it died on has no handler time).
      // Payloads are there only with flightRecorder.payloadBytes set: then a column of short previews (text, never markup).
      const payloads = c.recent.some((m) => 'payload' in m);
      const head = el('tr', {}, ...['at', 'kind', 'from', 'topic', 'bytes', 'handler', ...(payloads ? ['payload'] : [])].map((h) => el('th', { text: h })));
      const body = c.recent.map((m) =>
        el(
          'tr',
          {},
          ...[fmtTime(m.at), m.kind, m.from ?? '?', m.topic ?? '', String(m.bytes), m.handlerMs === null ? 'died in it' : `${m.handlerMs} ms`].map((v) => el('td', { text: v })),
          ...(payloads ? [el('td', { class: 'payload', text: payloadPreview(m), 'data-field': 'recorded payload' })] : []),
        ),
      );
      const table = el('table', { class: 'recorder', 'data-field': 'crash recorder' }, el('thead', {}, head), el('tbody', {}, ...body));
      const box = el('details', { class: 'crash-recorder' }, el('summary', { text: `last ${c.recent.length} messages` }), table);
      figures.push(el('dt', { text: '' }), el('dd', { class: 'wide' }, box));
    }
  }
  $('actor-figures').replaceChildren(...figures);
  renderCharts(s.id);
}

/** Longest payload preview in the crash detail, characters. */
const PAYLOAD_PREVIEW = 80;

/** A recorded payload in a line: its JSON, cut; or, when the recorder kept only its first bytes, how many of how many. */
function payloadPreview(m) {
  if (!('payload' in m)) return '';
  const p = m.payload;
  if (p !== null && typeof p === 'object' && p.truncated === true && typeof p.bytes === 'string' && typeof p.size === 'number') {
    return `${p.size} bytes, cut (first ${Math.floor((p.bytes.length * 3) / 4) - (p.bytes.match(/=+$/)?.[0].length ?? 0)} kept)`;
  }
  const json = JSON.stringify(p) ?? String(p);
  return json.length > PAYLOAD_PREVIEW ? `${json.slice(0, PAYLOAD_PREVIEW - 1)}…` : json;
}

// ---- the event timeline ----------------------------------------------------

/** The ids an event concerns, for the filter. */
function eventIds(e) {
  if (e.type === 'dead-letter') return [e.letter.to, e.letter.from];
  if (e.type === 'config-applied') return e.changes.map((c) => c.id);
  return [e.actor ?? e.supervisor].filter(Boolean);
}

function describe(e) {
  switch (e.type) {
    case 'started':
      return `started as incarnation ${e.incarnation}`;
    case 'restarted':
      return `back as incarnation ${e.incarnation}`;
    case 'crashed':
      return `incarnation ${e.incarnation} crashed (${e.cause}): ${e.reason}`;
    case 'restarting':
      return e.delayMs > 0 ? `restarting in ${e.delayMs} ms (${e.strategy})` : `restarting (${e.strategy})`;
    case 'stopped':
      return `incarnation ${e.incarnation} stopped: ${e.reason}`;
    case 'escalated':
      return `gave up and escalated: ${e.reason}`;
    case 'auto-shutdown':
      return `shut down: ${e.reason}`;
    case 'dead-letter':
      return `${e.letter.kind} from ${e.letter.from} to ${e.letter.to}: ${e.letter.reason}`;
    case 'system-stopped':
      return `the system stopped: ${e.reason}`;
    case 'config-applied': {
      const changes = e.changes.length === 0 ? 'no tree changes' : e.changes.map((c) => `${c.kind} ${c.id}`).join(', ');
      return e.source === 'rollback' ? `rolled back to version ${e.restored} as version ${e.version}: ${changes}` : `version ${e.version} from the file: ${changes}`;
    }
    case 'config-rejected':
      return `${e.source === 'rollback' ? 'rollback' : 'file change'} rejected, the running config is kept: ${e.problems.join('; ')}`;
    case 'node-up':
      return `cluster node ${e.node} is up`;
    case 'node-down':
      return `cluster node ${e.node} is down (${e.reason})`;
    case 'alert-firing':
      return `${e.repeat ? 'still firing' : 'firing'} (${e.severity}): ${e.alert}${e.value === null ? '' : `, value ${e.value}`}`;
    case 'alert-resolved':
      return `resolved (${e.severity}): ${e.alert}`;
    default:
      return '';
  }
}

function eventItem(e) {
  const who = e.type === 'dead-letter' ? e.letter.to : (e.actor ?? e.supervisor ?? e.node ?? (e.type.startsWith('config') ? 'config' : e.type.startsWith('alert') ? 'alerts' : 'system'));
  const li = el(
    'li',
    { class: `event type-${e.type}` },
    el('time', { text: fmtTime(e.at) }),
    el('span', { class: 'event-type', text: e.type.replace('-', ' ') }),
    el('span', { class: 'event-actor', text: who }),
    el('span', { class: 'event-text', text: describe(e) }),
  );
  li.dataset.seq = String(e.seq);
  return li;
}

const passes = (e, filter) => !filter || eventIds(e).includes(filter);

function renderTimeline() {
  const filter = $('timeline-filter').value;
  $('timeline').replaceChildren(...view.events.filter((e) => passes(e, filter)).reverse().map(eventItem));
}

function addEvents(events) {
  const fresh = events.filter((e) => e.seq > view.lastSeq);
  if (fresh.length === 0) return;
  view.lastSeq = fresh[fresh.length - 1].seq;
  view.events.push(...fresh);
  if (view.events.length > MAX_EVENTS) view.events.splice(0, view.events.length - MAX_EVENTS);
  const filter = $('timeline-filter').value;
  const list = $('timeline');
  for (const e of fresh) {
    if (passes(e, filter)) list.prepend(eventItem(e));
    if (e.type === 'crashed') view.flashUntil.set(e.actor, Date.now() + 1500);
  }
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
}

function renderFilter() {
  const select = $('timeline-filter');
  const ids = view.status.map((s) => s.id);
  const have = [...select.options].slice(1).map((o) => o.value);
  if (ids.join('\n') === have.join('\n')) return;
  const keep = select.value;
  select.replaceChildren(el('option', { value: '', text: 'all' }), ...ids.map((id) => el('option', { value: id, text: id })));
  select.value = ids.includes(keep) ? keep : '';
  if (select.value !== keep) renderTimeline();
}

// ---- the token and the actions ---------------------------------------------

const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

function renderAccess() {
  const { token: serverHasToken, reload } = view.actions;
  const have = token() !== '';
  $('token-box').hidden = !serverHasToken;
  $('reload-config').hidden = !reload;
  $('token-forget').disabled = !have;
  const notice = $('access-notice');
  notice.hidden = serverHasToken && have;
  if (!serverHasToken) {
    notice.textContent =
      'Read-only: this server has no HTTP token configured, so restart, stop and reload are off. Start it with one (http.token in the config file, or RINGMASTER_HTTP_TOKEN) to enable them.';
  } else if (!have) {
    notice.textContent = 'Read-only: paste the bearer token the server was started with to restart or stop actors and reload the config.';
  }
  const can = serverHasToken && have && !view.busy;
  for (const id of ['restart-actor', 'stop-actor', 'reload-config']) $(id).disabled = !can;
}

function say(kind, text) {
  const m = $('action-message');
  m.hidden = false;
  m.dataset.kind = kind;
  m.textContent = text;
}

/** POST an action with the token; say what came of it. `done` turns the answer's body into the success text. */
async function act(path, what, done) {
  view.busy = true;
  renderAccess();
  say('pending', `${what}…`);
  try {
    let res;
    try {
      res = await fetch(path, { method: 'POST', headers: { authorization: `Bearer ${token()}` } });
    } catch (err) {
      say('error', `${what} failed: the server did not answer (${err.message}).`);
      return;
    }
    const body = await res.json().catch(() => null);
    const message = body?.error?.message ?? res.statusText;
    if (res.ok) say('ok', `${what}: ${done(body)}.`);
    else if (res.status === 401) say('error', `${what} refused (401): the token was not accepted. Paste the token the server was started with.`);
    else if (res.status === 403) say('error', `${what} refused (403): ${message}`);
    else say('error', `${what} failed (${res.status}): ${message}`);
  } finally {
    view.busy = false;
    renderAccess();
  }
}

function reloadOutcome(body) {
  const r = body?.result ?? {};
  if (r.status === 'applied') return `applied as version ${r.version} (${plural(r.changes.length, 'change')})`;
  if (r.status === 'unchanged') return `the file is unchanged (version ${r.version})`;
  if (r.status === 'ignored') return `ignored: ${r.reason}`;
  return 'done';
}

function wireControls() {
  const input = $('token-input');
  const use = () => {
    const value = input.value.trim();
    if (value === '') return;
    sessionStorage.setItem(TOKEN_KEY, value);
    input.value = '';
    say('ok', 'Token kept for this browser tab (sessionStorage); actions are enabled.');
    renderAccess();
  };
  // The form only gathers the token: it is never sent anywhere as a form (the page's CSP forbids that too).
  $('token-box').addEventListener('submit', (e) => {
    e.preventDefault();
    use();
  });
  $('token-forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    say('ok', 'Token forgotten; the page is read-only.');
    renderAccess();
  });
  const actorAction = (verb, label) => () => {
    const id = view.selected;
    void act(`/api/actors/${encodeURIComponent(id)}/${verb}`, `${label} of '${id}'`, (b) => `done, now ${b.status.state} (incarnation ${b.status.incarnation})`);
  };
  $('restart-actor').addEventListener('click', actorAction('restart', 'Restart'));
  $('stop-actor').addEventListener('click', actorAction('stop', 'Stop'));
  $('reload-config').addEventListener('click', () => void act('/api/config/reload', 'Config reload', reloadOutcome));
  $('timeline-filter').addEventListener('change', renderTimeline);
  window.addEventListener('resize', () => {
    if (!view.charts || $('actor-detail').hidden) return;
    for (const c of Object.values(view.charts)) c.setSize({ width: chartWidth(), height: CHART_HEIGHT });
  });
}

// ---- the live feed ---------------------------------------------------------

function applyStatus(state, status) {
  view.status = status;
  view.byId = new Map(status.map((s) => [s.id, s]));
  const badge = $('system-state');
  badge.textContent = state;
  badge.className = `badge state-${state}`;
  if (!view.byId.has(view.selected)) view.selected = status.find((s) => s.kind === 'actor')?.id ?? null;
}

function render() {
  renderTree();
  renderActor();
  renderFilter();
  const dropped = $('timeline-dropped');
  dropped.hidden = view.dropped === 0;
  dropped.textContent = `${plural(view.dropped, 'event')} came too fast to be shown.`;
}

/** How often the alert strip asks GET /api/alerts, ms (and at once after an alert event). */
const ALERTS_POLL_MS = 2000;
let alertsTimer = null;

/** The strip of firing alerts at the top: rule names and values as text only. */
function renderAlerts(alerts) {
  const firing = alerts.filter((a) => a.state === 'firing');
  const strip = $('alert-strip');
  strip.hidden = firing.length === 0;
  $('alert-list').replaceChildren(
    ...firing.map((a) =>
      el(
        'li',
        { class: `alert severity-${a.severity}` },
        el('span', { class: 'alert-severity', text: a.severity }),
        el('span', { class: 'alert-name', text: a.name }),
        el('span', { class: 'alert-detail', text: [a.actor ? `actor ${a.actor}` : null, a.value === null ? null : `value ${a.value}`, `since ${fmtTime(a.since)}`].filter(Boolean).join(' · ') }),
      ),
    ),
  );
}

async function refreshAlerts() {
  window.clearTimeout(alertsTimer);
  try {
    const res = await fetch('/api/alerts');
    if (res.ok) renderAlerts((await res.json()).alerts ?? []);
  } catch {
    // the feed's connection state already says the server is away
  }
  alertsTimer = window.setTimeout(() => void refreshAlerts(), ALERTS_POLL_MS);
}

function onHello(h) {
  view.actions = h.actions ?? { token: false, reload: false };
  view.historyLimit = h.historyPoints ?? view.historyLimit;
  view.history = h.history.slice(-view.historyLimit);
  view.events = [];
  view.lastSeq = 0;
  view.dropped = 0;
  $('system-name').textContent = h.name;
  document.title = `${h.name} · Ringmaster`;
  applyStatus(h.state, h.status);
  addEvents(h.events);
  renderTimeline();
  render();
}

function onUpdate(u) {
  const lastT = view.history.at(-1)?.t ?? 0;
  view.history.push(...u.samples.filter((p) => p.t > lastT));
  if (view.history.length > view.historyLimit) view.history.splice(0, view.history.length - view.historyLimit);
  view.dropped += u.dropped;
  applyStatus(u.state, u.status);
  addEvents(u.events);
  render();
  if (u.events.some((e) => e.type.startsWith('alert-'))) void refreshAlerts();
}

function setConnection(state, text) {
  const c = $('connection');
  c.dataset.state = state;
  c.textContent = text;
}

function connect() {
  // EventSource reconnects by itself (after the server's `retry:`), e.g. when the server restarts; a new hello then resets the page.
  const source = new EventSource('/api/live');
  source.addEventListener('open', () => setConnection('live', 'live'));
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) setConnection('closed', 'disconnected: reload the page');
    else setConnection('reconnecting', 'reconnecting…');
  });
  source.addEventListener('hello', (m) => onHello(JSON.parse(m.data)));
  source.addEventListener('update', (m) => onUpdate(JSON.parse(m.data)));
  source.addEventListener('closing', () => setConnection('reconnecting', 'the server closed the feed; reconnecting…'));
}

wireControls();
renderAccess();
connect();
void refreshAlerts();
