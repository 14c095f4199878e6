// The page at `/` for people watching a local pipeline. Self-contained (no
// external assets) so it works offline; it polls the inspection routes once a
// second and only fetches events newer than the last one it showed. The
// Insights view above the table answers RunMat's product questions from
// `/_sink/insights` and `/_sink/insights/releases`, with charts drawn as
// inline SVG by the page's own script (no library, nothing from a CDN).
//
// The page is served with a strict Content-Security-Policy: its one script
// and one style sheet are allowed by hash, and it may only talk to the sink.
// So the script builds everything through the DOM and never uses eval,
// inline event handlers or style attributes.

import { createHash } from 'node:crypto';

const STYLE = `
:root { color-scheme: light dark; --bad: #c62828; --bad-bg: rgba(198, 40, 40, 0.12); --muted: #888;
  --ok: #2e7d32; --accent: #1565c0; --accent2: #6a1b9a; --accent3: #00838f; --gpu: #ef6c00;
  --track: rgba(136, 136, 136, 0.18); --line: rgba(136, 136, 136, 0.3); }
@media (prefers-color-scheme: dark) {
  :root { --bad: #ef5350; --ok: #66bb6a; --accent: #64b5f6; --accent2: #ce93d8; --accent3: #4dd0e1;
    --gpu: #ffb74d; }
}
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
h1 { font-size: 1.3rem; margin: 0 0 0.5rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 0.6rem; }
h2 .muted { font-size: 0.85rem; font-weight: normal; }
h3 { font-size: 0.95rem; margin: 0 0 0.6rem; }
h4 { font-size: 0.8rem; margin: 0.6rem 0 0.3rem; color: var(--muted); font-weight: 600;
  text-transform: uppercase; letter-spacing: 0.04em; }
.counts { display: flex; gap: 1rem; flex-wrap: wrap; margin: 0.75rem 0; }
.count { border: 1px solid #8884; border-radius: 6px; padding: 0.4rem 0.8rem; }
.count b { font-size: 1.2rem; display: block; }
.count.bad b { color: var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #8883; vertical-align: top; }
th { position: sticky; top: 0; background: Canvas; }
td.props { font-family: ui-monospace, monospace; font-size: 12px; }
tr.violation { background: var(--bad-bg); }
.violations { color: var(--bad); font-weight: 600; }
.dest { font-variant: small-caps; }
.muted { color: var(--muted); }
button { font: inherit; }
.grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); }
.panel { border: 1px solid var(--line); border-radius: 8px; padding: 0.8rem 1rem; min-width: 0; }
.panel.wide { grid-column: 1 / -1; }
.panel .empty-panel { margin: 0.4rem 0; }
.num, .pct { font-variant-numeric: tabular-nums; }
.ok-text { color: var(--ok); }
.bad-text { color: var(--bad); }
svg .track { fill: var(--track); }
svg .ok { fill: var(--ok); }
svg .bad { fill: var(--bad); }
svg .pending { fill: var(--muted); opacity: 0.45; }
svg .fill, svg .jit { fill: var(--accent); }
svg .jit-used { fill: var(--accent2); }
svg .accel { fill: var(--accent3); }
svg .gpu { fill: var(--gpu); }
svg.bar { display: block; height: 12px; }
.list { display: grid; grid-template-columns: minmax(4rem, max-content) minmax(3rem, 1fr) minmax(2rem, max-content);
  gap: 0.25rem 0.6rem; align-items: center; }
.list .key { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 14rem;
  font-family: ui-monospace, monospace; font-size: 12px; }
.list .num { text-align: right; }
.funnel { display: grid; gap: 0.7rem; }
.funnel-row .head { display: flex; justify-content: space-between; align-items: baseline; gap: 0.5rem;
  margin-bottom: 0.2rem; }
.funnel-row .key { font-family: ui-monospace, monospace; font-size: 12px; font-weight: 600; }
.funnel-row .rate { font-size: 1.05rem; font-weight: 700; }
.funnel-row .rate-label { font-size: 12px; color: var(--muted); margin-left: 0.3rem; }
.funnel-row .detail { font-size: 12px; color: var(--muted); margin-top: 0.2rem; }
.funnel-row .detail .num { color: CanvasText; font-weight: 600; }
.funnel-row .detail .num.ok-text { color: var(--ok); }
.funnel-row .detail .num.bad-text { color: var(--bad); }
.legend { display: flex; gap: 0.9rem; flex-wrap: wrap; font-size: 12px; color: var(--muted); margin-top: 0.6rem; }
.legend svg { vertical-align: -1px; margin-right: 0.3rem; }
.gauges { display: flex; gap: 0.75rem; flex-wrap: wrap; }
.gauge { margin: 0; text-align: center; width: 6.5rem; }
.gauge .dial { position: relative; width: 84px; height: 84px; margin: 0 auto; }
.gauge .dial svg { display: block; }
.gauge .dial .pct { position: absolute; inset: 0; display: flex; align-items: center;
  justify-content: center; font-weight: 700; font-size: 0.95rem; }
.gauge figcaption { font-size: 12px; margin-top: 0.25rem; }
.gauge figcaption .of { color: var(--muted); display: block; }
svg .ring-track { fill: none; stroke: var(--track); stroke-width: 9; }
svg .ring { fill: none; stroke-width: 9; stroke-linecap: round; }
svg .ring.jit { stroke: var(--accent); }
svg .ring.jit-used { stroke: var(--accent2); }
svg .ring.accel { stroke: var(--accent3); }
svg .ring.gpu { stroke: var(--gpu); }
svg .ring.ok { stroke: var(--ok); }
.split { display: grid; gap: 0.5rem 1.5rem; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); }
table.releases td, table.releases th { border-bottom: 1px solid var(--line); vertical-align: middle; }
table.releases th { position: static; font-size: 12px; color: var(--muted); font-weight: 600; }
table.releases td.release { font-family: ui-monospace, monospace; font-size: 12px; }
table.releases .cell { display: grid; grid-template-columns: minmax(3rem, 1fr) 3.6rem; gap: 0.5rem;
  align-items: center; }
table.releases .cell .pct { text-align: right; }
.summary { margin: 0 0 0.5rem; }
.summary .num, .summary .pct { font-weight: 700; }
`;

const SCRIPT = `
const KEY_PROPS = ['os', 'arch', 'release', 'run_kind', 'success', 'duration_us', 'jit_used', 'error',
  'runtime.failure.stage', 'runtime.failure.code', 'method', 'platform', 'session_id'];
const rows = document.getElementById('rows');
const statusEl = document.getElementById('status');
let lastSeq = 0;
let generation = '';
// Enough rows to scroll back through a session without slowing the page down.
const MAX_ROWS = 1000;

function keyProps(props) {
  const names = KEY_PROPS.filter((k) => k in props);
  for (const k of Object.keys(props)) {
    if (names.length >= 8) break;
    if (!names.includes(k) && !k.startsWith('$')) names.push(k);
  }
  return names.map((k) => k + '=' + JSON.stringify(props[k])).join('  ');
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function addRow(e) {
  const tr = document.createElement('tr');
  tr.dataset.seq = String(e.seq);
  cell(tr, new Date(e.receivedAt).toLocaleTimeString());
  cell(tr, e.destination, 'dest');
  cell(tr, e.event);
  cell(tr, e.distinct_id);
  const props = cell(tr, keyProps(e.properties || {}), 'props');
  if (e.violations && e.violations.length > 0) {
    tr.className = 'violation';
    for (const v of e.violations) {
      const div = document.createElement('div');
      div.className = 'violations';
      div.textContent = v.validationCode + ' ' + v.fieldPath + ': ' + v.description;
      props.appendChild(div);
    }
  }
  rows.insertBefore(tr, rows.firstChild);
}

// ---- Insights ------------------------------------------------------------
// Every number shown carries data-insight="<path>" into /_sink/insights (or,
// for paths starting "releases.", /_sink/insights/releases). A percentage
// also carries data-of="<path>": it shows insight / of, to one decimal place.

const SVG_NS = 'http://www.w3.org/2000/svg';
const STAGE_ORDER = ['parser', 'hir', 'compile', 'runtime', 'unknown'];
const TOP_CODES = 8;
const insightsEl = document.getElementById('insights');
let insightsKey = '';

function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]));
  return e;
}

function fmtPct(n, d) {
  if (!d) return '\\u2014';
  return String(Math.round((n / d) * 1000) / 10) + '%';
}

function num(path, value, cls) {
  const e = h('span', cls ? 'num ' + cls : 'num', String(value));
  e.dataset.insight = path;
  return e;
}

function pct(path, ofPath, n, d, cls) {
  const e = h('span', cls ? 'pct ' + cls : 'pct', fmtPct(n, d));
  e.dataset.insight = path;
  e.dataset.of = ofPath;
  return e;
}

function width(f) {
  return (Math.min(1, Math.max(0, f)) * 100).toFixed(2) + '%';
}

// A horizontal bar: segments [{ value, cls }] laid end to end over a track scaled to max.
function stackBar(segments, max) {
  const s = svg('svg', { class: 'bar', width: '100%', height: 12, 'aria-hidden': 'true' });
  s.appendChild(svg('rect', { class: 'track', x: 0, y: 0, width: '100%', height: 12, rx: 3 }));
  let x = 0;
  for (const seg of segments) {
    if (!max || seg.value <= 0) continue;
    const f = seg.value / max;
    s.appendChild(svg('rect', { class: seg.cls, x: width(x), y: 0, width: width(f), height: 12 }));
    x += f;
  }
  return s;
}

function swatch(cls) {
  const s = svg('svg', { width: 10, height: 10, 'aria-hidden': 'true' });
  s.appendChild(svg('rect', { class: cls, x: 0, y: 0, width: 10, height: 10, rx: 2 }));
  return s;
}

function legend(items) {
  const l = h('div', 'legend');
  for (const [cls, text] of items) {
    const span = h('span');
    span.append(swatch(cls), text);
    l.appendChild(span);
  }
  return l;
}

function empty(text) {
  return h('p', 'muted empty-panel', text);
}

// Label | bar | count, one row per key, largest first (or in the given order).
function barList(tally, base, cls, order, limit) {
  let entries = Object.entries(tally || {});
  if (order) {
    const rank = (k) => (order.indexOf(k) === -1 ? order.length : order.indexOf(k));
    entries.sort((a, b) => rank(a[0]) - rank(b[0]));
  }
  if (limit) entries = entries.slice(0, limit);
  if (entries.length === 0) return empty('None yet.');
  const max = Math.max(...entries.map((e) => e[1]));
  const list = h('div', 'list');
  for (const [key, count] of entries) {
    const label = h('span', 'key', key);
    label.title = key;
    list.append(label, stackBar([{ value: count, cls: cls }], max), num(base + '.' + key, count));
  }
  return list;
}

function gauge(title, path, ofPath, n, d, cls) {
  const fig = h('figure', 'gauge');
  const dial = h('div', 'dial');
  const r = 36;
  const c = 2 * Math.PI * r;
  const s = svg('svg', { viewBox: '0 0 84 84', width: 84, height: 84, 'aria-hidden': 'true' });
  s.appendChild(svg('circle', { class: 'ring-track', cx: 42, cy: 42, r: r }));
  const f = d ? Math.min(1, n / d) : 0;
  if (f > 0) {
    s.appendChild(svg('circle', { class: 'ring ' + cls, cx: 42, cy: 42, r: r,
      'stroke-dasharray': (f * c).toFixed(2) + ' ' + c.toFixed(2), transform: 'rotate(-90 42 42)' }));
  }
  dial.append(s, pct(path, ofPath, n, d));
  const cap = h('figcaption', '', title);
  const counts = h('span', 'of');
  counts.append(num(path, n), ' of ', num(ofPath, d), ' runs');
  cap.appendChild(counts);
  fig.append(dial, cap);
  return fig;
}

function panel(title, cls) {
  const p = h('article', cls ? 'panel ' + cls : 'panel');
  p.appendChild(h('h3', '', title));
  return p;
}

function renderInstalls(installs) {
  const p = panel('Installs by OS and architecture');
  p.id = 'panel-installs';
  if (installs.length === 0) {
    p.appendChild(empty('No installer events yet.'));
    return p;
  }
  const max = Math.max(...installs.map((r) => Math.max(r.started, r.completed + r.failed)));
  const funnel = h('div', 'funnel');
  for (const r of installs) {
    const key = 'installs.' + r.os + '/' + r.arch;
    const open = Math.max(0, r.started - r.completed - r.failed);
    const detail = h('div', 'detail');
    detail.append(num(key + '.started', r.started), ' started \\u00b7 ',
      num(key + '.completed', r.completed, 'ok-text'), ' completed \\u00b7 ',
      num(key + '.failed', r.failed, r.failed > 0 ? 'bad-text' : ''), ' failed');
    const rate = h('span');
    rate.append(pct(key + '.completed', key + '.started', r.completed, r.started, 'rate'),
      h('span', 'rate-label', 'succeeded'));
    rate.title = 'completed / started';
    const head = h('div', 'head');
    head.append(h('span', 'key', r.os + ' / ' + r.arch), rate);
    const row = h('div', 'funnel-row');
    row.append(head, stackBar([{ value: r.completed, cls: 'ok' }, { value: r.failed, cls: 'bad' },
      { value: open, cls: 'pending' }], max), detail);
    funnel.appendChild(row);
  }
  p.appendChild(funnel);
  const l = legend([['ok', 'completed'], ['bad', 'failed'], ['pending', 'started, no outcome']]);
  l.appendChild(h('span', '', 'succeeded = completed / started'));
  p.appendChild(l);
  return p;
}

function renderRuns(runs) {
  const p = panel('JIT and acceleration');
  p.id = 'panel-runs';
  if (runs.finished === 0) {
    p.appendChild(empty('No finished runs yet.'));
    return p;
  }
  const g = h('div', 'gauges');
  g.append(
    gauge('JIT enabled', 'runs.jit_enabled', 'runs.finished', runs.jit_enabled, runs.finished, 'jit'),
    gauge('JIT used', 'runs.jit_used', 'runs.finished', runs.jit_used, runs.finished, 'jit-used'),
    gauge('Acceleration on', 'runs.accelerate_enabled', 'runs.finished', runs.accelerate_enabled,
      runs.finished, 'accel'),
  );
  p.appendChild(g);
  p.appendChild(h('h4', '', 'Runs by kind'));
  p.appendChild(barList(runs.by_kind, 'runs.by_kind', 'fill'));
  return p;
}

function renderGpu(runs, devices) {
  const p = panel('GPU work and devices');
  p.id = 'panel-gpu';
  if (runs.finished === 0) {
    p.appendChild(empty('No finished runs yet.'));
    return p;
  }
  const g = h('div', 'gauges');
  g.appendChild(gauge('GPU work', 'runs.gpu_used', 'runs.finished', runs.gpu_used,
    runs.finished, 'gpu'));
  p.appendChild(g);
  const split = h('div', 'split');
  const backends = h('div');
  backends.append(h('h4', '', 'Backends'), barList(devices.by_backend, 'devices.by_backend', 'gpu'));
  const vendors = h('div');
  vendors.append(h('h4', '', 'Vendors'), barList(devices.by_vendor, 'devices.by_vendor', 'gpu'));
  split.append(backends, vendors);
  p.appendChild(split);
  return p;
}

const RELEASE_RATES = [
  ['jit_enabled', 'JIT enabled', 'jit'],
  ['jit_used', 'JIT used', 'jit-used'],
  ['accelerate_enabled', 'Acceleration on', 'accel'],
  ['gpu_used', 'GPU work', 'gpu'],
];

function renderReleases(releases) {
  const p = panel('Per release', 'wide');
  p.id = 'panel-releases';
  if (releases.length === 0) {
    p.appendChild(empty('No finished runs yet.'));
    return p;
  }
  const table = h('table', 'releases');
  const head = h('tr');
  head.append(h('th', '', 'Release'), h('th', '', 'Runs'));
  for (const col of RELEASE_RATES) head.appendChild(h('th', '', col[1]));
  table.appendChild(h('thead')).appendChild(head);
  const body = table.appendChild(h('tbody'));
  for (const r of releases) {
    const key = 'releases.' + r.release;
    const tr = h('tr');
    tr.appendChild(h('td', 'release', r.release));
    tr.appendChild(h('td')).appendChild(num(key + '.finished', r.finished));
    for (const [field, , cls] of RELEASE_RATES) {
      const box = h('div', 'cell');
      box.append(stackBar([{ value: r[field], cls: cls }], r.finished),
        pct(key + '.' + field, key + '.finished', r[field], r.finished));
      tr.appendChild(h('td')).appendChild(box);
    }
    body.appendChild(tr);
  }
  p.appendChild(table);
  return p;
}

function renderFailures(runs, failures) {
  const p = panel('Failures', 'wide');
  p.id = 'panel-failures';
  if (runs.finished === 0) {
    p.appendChild(empty('No finished runs yet.'));
    return p;
  }
  const summary = h('p', 'summary');
  summary.append(pct('runs.succeeded', 'runs.finished', runs.succeeded, runs.finished), ' of runs succeeded (',
    num('runs.succeeded', runs.succeeded), ' of ', num('runs.finished', runs.finished), ').');
  p.appendChild(summary);
  const split = h('div', 'split');
  const part = (title, list) => {
    const d = h('div');
    d.append(h('h4', '', title), list);
    split.appendChild(d);
  };
  part('By stage', barList(failures.by_stage, 'failures.by_stage', 'bad', STAGE_ORDER));
  part('Top codes', barList(failures.by_code, 'failures.by_code', 'bad', null, TOP_CODES));
  part('By component', barList(failures.by_component, 'failures.by_component', 'bad'));
  part('By host', barList(failures.by_host, 'failures.by_host', 'bad'));
  p.appendChild(split);
  return p;
}

function renderInsights(insights, releases) {
  document.getElementById('insight-events').replaceChildren(
    num('events', insights.events), ' distinct PostHog events, ',
    num('runs.finished', insights.runs.finished), ' finished runs');
  document.getElementById('insight-panels').replaceChildren(
    renderInstalls(insights.installs),
    renderRuns(insights.runs),
    renderGpu(insights.runs, insights.devices),
    renderReleases(releases.releases),
    renderFailures(insights.runs, insights.failures),
  );
}

async function refreshInsights(stats) {
  // Recompute only when something arrived, was evicted or was cleared.
  const key = generation + ':' + stats.posthog.events + ':' + stats.evicted;
  if (key === insightsKey) return;
  const [insightsRes, releasesRes] = await Promise.all([
    fetch('/_sink/insights'), fetch('/_sink/insights/releases')]);
  renderInsights(await insightsRes.json(), await releasesRes.json());
  insightsKey = key;
  insightsEl.dataset.rendered = key;
}

async function refresh() {
  try {
    const [eventsRes, statsRes] = await Promise.all([
      fetch('/_sink/events?limit=' + MAX_ROWS + '&after=' + lastSeq), fetch('/_sink/stats')]);
    const { events } = await eventsRes.json();
    const stats = await statsRes.json();
    // Someone cleared the sink (or it restarted): start the table over.
    const current = stats.startedAt + ':' + stats.clears;
    if (generation !== '' && current !== generation) {
      rows.textContent = '';
      lastSeq = 0;
      generation = '';
      return refresh();
    }
    generation = current;
    for (const e of events) addRow(e);
    if (events.length > 0) lastSeq = events[events.length - 1].seq;
    while (rows.children.length > MAX_ROWS) rows.removeChild(rows.lastChild);
    document.getElementById('posthog').textContent = stats.posthog.events;
    document.getElementById('ga4').textContent = stats.ga4.events;
    document.getElementById('violations').textContent = stats.ga4.violations;
    document.getElementById('violations-box').classList.toggle('bad', stats.ga4.violations > 0);
    document.getElementById('evicted').textContent = stats.evicted;
    document.getElementById('faults').textContent = stats.faults.injected;
    document.getElementById('empty').hidden = rows.children.length > 0;
    await refreshInsights(stats);
    statusEl.textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (err) {
    statusEl.textContent = 'sink unreachable: ' + err;
  }
}

document.getElementById('clear').addEventListener('click', () => {
  fetch('/_sink/events', { method: 'DELETE' });
});
// Chained rather than setInterval so a slow answer never overlaps the next poll.
async function poll() {
  await refresh();
  setTimeout(poll, 1000);
}
poll();
`;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page's Content-Security-Policy: nothing but its own script and style
 * (by hash) and requests back to the sink.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The HTML page served at `/`. */
export function renderPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>RunMat telemetry: fake analytics sink</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<h1>Fake analytics sink</h1>
<p class="muted">PostHog and GA4 events as they arrive. Updates every second.
<span id="status"></span> <button id="clear" type="button">Clear</button></p>
<div class="counts">
  <div class="count"><b id="posthog">0</b>PostHog events</div>
  <div class="count"><b id="ga4">0</b>GA4 events</div>
  <div class="count" id="violations-box"><b id="violations">0</b>GA4 rule violations</div>
  <div class="count"><b id="evicted">0</b>evicted</div>
  <div class="count"><b id="faults">0</b>faults injected</div>
</div>
<section id="insights" aria-labelledby="insights-title">
<h2 id="insights-title">Insights <span class="muted">from <span id="insight-events">the events held</span>, each uuid once (<a href="/_sink/insights">JSON</a>)</span></h2>
<div class="grid" id="insight-panels"></div>
</section>
<section id="arrivals" aria-labelledby="arrivals-title">
<h2 id="arrivals-title">Arrivals <span class="muted">newest first</span></h2>
<table>
<thead><tr><th>Time</th><th>Destination</th><th>Event</th><th>Distinct id</th><th>Key properties</th></tr></thead>
<tbody id="rows"></tbody>
</table>
<p id="empty" class="muted">No events yet.</p>
</section>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
