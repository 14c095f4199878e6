// A browser host as a web page would be: it imports the bundled browser
// entry and runs one RunMat run. Everything is driven from the page itself
// (never from the test's evaluate, which would sidestep the page's CSP);
// the test reads window.__result and body[data-state].
//
// Query: id (telemetryId), consent=false, mode (run, unload-click,
// unload-beforeunload, finish-on-pagehide, quota, eval-probe), fetch=off (a
// browser without fetch: only the beacon is left), pagehide=off
// (flushOnPageHide false), n (runs for mode=quota).
import { createBrowserTelemetry } from './runmat-telemetry.js';

const q = new URLSearchParams(location.search);
const meta = (name) =>
  document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
const mode = q.get('mode') ?? 'run';
const result = { mode, logs: [] };
window.__result = result;
const state = (s) => {
  document.body.dataset.state = s;
};

if (q.get('fetch') === 'off') window.fetch = undefined;
// Registered before the telemetry's own listener, so it runs first: the run
// finishes while the page is being left, and the telemetry's pagehide flush
// sends it in the same event.
let onLeave;
window.addEventListener('pagehide', () => onLeave?.());
// Counts what navigator.sendBeacon was asked and answered (the browser's own, still doing the work).
result.beaconCalls = { accepted: 0, refused: 0 };
const realBeacon = navigator.sendBeacon.bind(navigator);
navigator.sendBeacon = (url, data) => {
  const ok = realBeacon(url, data);
  result.beaconCalls[ok ? 'accepted' : 'refused']++;
  return ok;
};

const telemetry = createBrowserTelemetry({
  httpEndpoint: meta('runmat-endpoint'),
  ingestionKey: meta('runmat-key'),
  telemetryId: q.get('id') || undefined,
  telemetryConsent: q.get('consent') !== 'false',
  flushOnPageHide: q.get('pagehide') !== 'off',
  release: '0.4.9',
  log: (msg, fields) => result.logs.push(`${msg} ${JSON.stringify(fields)}`),
});
result.clientId = telemetry.clientId;
result.deliveryEnabled = telemetry.deliveryEnabled;

const provider = {
  device: { name: 'Apple M2 Max (Metal)', vendor: 'Apple', backend: 'metal' },
  telemetry: { gpu_wall_ns: 1000, gpu_dispatches: 2, fusion_cache_hits: 1, fusion_cache_misses: 1 },
};
const finishOptions = {
  success: true,
  jitUsed: false,
  host: 'wasm',
  counters: { total_executions: 3, jit_compiled: 0, interpreter_fallback: 0 },
  provider,
};
const startOptions = { kind: 'repl', jitEnabled: false, accelerateEnabled: true };

if (mode === 'run') {
  // Started and finished, then wait for the collector's answers.
  const run = telemetry.startRun(startOptions);
  result.summary = run.finish(finishOptions);
  await telemetry.flush();
  result.stats = telemetry.stats();
  state('done');
} else if (mode === 'unload-click') {
  // Started delivered; finished on a click, and the test closes the tab right after.
  const run = telemetry.startRun(startOptions);
  await telemetry.flush();
  result.startedStats = telemetry.stats();
  document.getElementById('finish').addEventListener('click', () => {
    result.summary = run.finish(finishOptions);
    state('finished');
  });
  state('ready');
} else if (mode === 'unload-beforeunload') {
  // The run finishes while the tab closes (beforeunload): only the pagehide flush can send it.
  const run = telemetry.startRun(startOptions);
  await telemetry.flush();
  result.startedStats = telemetry.stats();
  window.addEventListener('beforeunload', () => {
    run.finish(finishOptions);
  });
  state('ready');
} else if (mode === 'finish-on-pagehide') {
  const run = telemetry.startRun(startOptions);
  await telemetry.flush();
  result.startedStats = telemetry.stats();
  onLeave = () => run.finish(finishOptions);
  state('ready');
} else if (mode === 'quota') {
  // n runs finish in one task, then the page is left before the scheduled
  // flush: the pagehide flush sends them all, past the 64 KiB keepalive budget.
  const n = Number(q.get('n') ?? '100');
  for (let i = 0; i < n; i++) telemetry.startRun(startOptions).finish(finishOptions);
  window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
  await telemetry.flush();
  result.stats = telemetry.stats();
  state('done');
} else if (mode === 'eval-probe') {
  // Control: shows the page's CSP really refuses run-time code generation.
  try {
    result.evalResult = new Function('return 1')();
  } catch (err) {
    result.evalError = err?.name ?? String(err);
  }
  state('done');
}
