// The page at `/` for people watching a local pipeline. Self-contained (no
// external assets) so it works offline; it polls the inspection routes once a
// second and only fetches events newer than the last one it showed.

const STYLE = `
:root { color-scheme: light dark; --bad: #c62828; --bad-bg: rgba(198, 40, 40, 0.12); --muted: #888; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
h1 { font-size: 1.3rem; margin: 0 0 0.5rem; }
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

/** The HTML page served at `/`. */
export function renderPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>RunMat telemetry: fake analytics sink</title>
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
<table>
<thead><tr><th>Time</th><th>Destination</th><th>Event</th><th>Distinct id</th><th>Key properties</th></tr></thead>
<tbody id="rows"></tbody>
</table>
<p id="empty" class="muted">No events yet.</p>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
