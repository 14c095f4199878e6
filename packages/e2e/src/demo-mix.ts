/**
 * A demo mix of RunMat telemetry for a local pipeline: enough installs and
 * runs, over several OSes, architectures and releases, for every panel of the
 * fake sink's Insights view (`/` and `GET /_sink/insights`) to show
 * something: installs per os/arch with a failed one and one without an
 * outcome, JIT on and off, GPU runs on three backends and vendors, and
 * parser, hir and runtime failures with their components.
 *
 * Events are built in the contract's canonical wire shape (what RunMat's
 * runtime and installers send after normalization: see
 * `@runmat-telemetry/schema` examples) with fresh ids on every call, so
 * sending the mix twice adds a second copy rather than being deduplicated.
 * Every event goes to the worker over HTTP; when a UDP endpoint is given the
 * runtime events are also sent as datagrams, as a RunMat client configured
 * with both transports does, and the worker forwards each uuid once.
 */
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import {
  type CanonicalFinishedEvent,
  type CanonicalStartedEvent,
  type FinishedPayload,
  INGESTION_KEY_HEADER,
  type InstallEvent,
  type RunKind,
} from '@runmat-telemetry/schema';
import { request } from 'undici';

export interface DemoMixOptions {
  /** The worker's single-event route, e.g. `http://127.0.0.1:8080/v1/t`. */
  httpEndpoint: string;
  /** The worker's ingestion key (sent as `x-telemetry-key`). */
  key: string;
  /** The forwarder's UDP host; with `udpPort`, runtime events are sent over UDP too. */
  udpHost?: string;
  udpPort?: number;
}

export type DemoEvent = CanonicalStartedEvent | CanonicalFinishedEvent | InstallEvent;

/** One machine of the mix: an anonymous client id per os/arch. */
interface Machine {
  cid: string;
  os: string;
  arch: string;
}

type Failure = Pick<
  FinishedPayload,
  | 'runtime.failure.stage'
  | 'runtime.failure.code'
  | 'runtime.failure.has_span'
  | 'runtime.failure.host'
  | 'runtime.failure.component'
>;

interface RunSpec {
  machine: Machine;
  release: string;
  runKind: RunKind;
  jit: 'off' | 'enabled' | 'used';
  accelerate: boolean;
  /** A GPU device and its dispatches (0: a device, but no GPU work). */
  gpu?: { name: string; vendor: string; backend: string; dispatches: number };
  failure?: Failure;
}

function failure(
  stage: NonNullable<Failure['runtime.failure.stage']>,
  code: string,
  host: NonNullable<Failure['runtime.failure.host']>,
  component?: Failure['runtime.failure.component'],
): Failure {
  const f: Failure = {
    'runtime.failure.stage': stage,
    'runtime.failure.code': code,
    'runtime.failure.has_span': stage !== 'runtime',
    'runtime.failure.host': host,
  };
  if (component !== undefined) f['runtime.failure.component'] = component;
  return f;
}

function runEvents(spec: RunSpec, timestampMs: number): DemoEvent[] {
  const { machine } = spec;
  const envelope = {
    cid: machine.cid,
    session_id: randomUUID(),
    os: machine.os,
    arch: machine.arch,
    release: spec.release,
    run_kind: spec.runKind,
  };
  const jitEnabled = spec.jit !== 'off';
  const started: CanonicalStartedEvent = {
    event_label: 'runtime.run.started',
    uuid: randomUUID(),
    ...envelope,
    payload: {
      jit_enabled: jitEnabled,
      accelerate_enabled: spec.accelerate,
      timestamp_ms: timestampMs,
    },
  };
  const durationUs = spec.gpu ? 182_000 : 9_400;
  const payload: FinishedPayload = {
    duration_us: durationUs,
    success: spec.failure === undefined,
    jit_enabled: jitEnabled,
    jit_used: spec.jit === 'used',
    accelerate_enabled: spec.accelerate,
    timestamp_ms: timestampMs + Math.round(durationUs / 1000),
    counters: {
      total_executions: 64,
      jit_compiled: spec.jit === 'used' ? 12 : 0,
      interpreter_fallback: spec.jit === 'used' ? 1 : 64,
    },
  };
  if (spec.failure !== undefined) {
    // The runtime reports the failure code as the error class too.
    payload.error = spec.failure['runtime.failure.code'];
    Object.assign(payload, spec.failure);
  }
  if (spec.gpu !== undefined) {
    const { name, vendor, backend, dispatches } = spec.gpu;
    payload.provider = { device: { name, vendor, backend } };
    payload.gpu_dispatches = dispatches;
    if (dispatches > 0) {
      payload.gpu_wall_ns = 61_000_000;
      payload.gpu_upload_bytes = 4_194_304;
      payload.gpu_download_bytes = 1_048_576;
      payload.fusion_cache_hits = 14;
      payload.fusion_cache_misses = 2;
    }
  }
  const finished: CanonicalFinishedEvent = {
    event_label: 'runtime.run.finished',
    uuid: randomUUID(),
    ...envelope,
    payload,
  };
  return [started, finished];
}

function installEvents(
  machine: Machine,
  release: string,
  outcome: 'complete' | 'failed' | 'none',
  timestampMs: number,
): InstallEvent[] {
  const base = {
    cid: machine.cid,
    session_id: randomUUID(),
    os: machine.os,
    arch: machine.arch,
    platform: `${machine.os}-${machine.arch}`,
    release,
    method: machine.os === 'windows' ? ('powershell' as const) : ('shell' as const),
    run_kind: 'install' as const,
  };
  const events: InstallEvent[] = [
    { event_label: 'install_start', ...base, timestamp_ms: timestampMs },
  ];
  if (outcome !== 'none') {
    events.push({
      event_label: outcome === 'complete' ? 'install_complete' : 'install_failed',
      ...base,
      timestamp_ms: timestampMs + 8_000,
    });
  }
  return events;
}

/**
 * The demo mix, oldest first, with fresh ids. Timestamps lie in the last few
 * minutes before `now` (well inside GA4's 72-hour window).
 */
export function demoMixEvents(now: number = Date.now()): DemoEvent[] {
  const machine = (os: string, arch: string): Machine => ({ cid: randomUUID(), os, arch });
  const macArm = machine('macos', 'aarch64');
  const macIntel = machine('macos', 'x86_64');
  const linux = machine('linux', 'x86_64');
  const linuxArm = machine('linux', 'aarch64');
  const windows = machine('windows', 'x86_64');

  const apple = { name: 'Apple M2 Max', vendor: 'Apple', backend: 'metal' };
  const rtx = { name: 'NVIDIA GeForce RTX 4090', vendor: 'NVIDIA', backend: 'vulkan' };
  const radeon = { name: 'AMD Radeon RX 7900 XTX', vendor: 'AMD', backend: 'dx12' };

  const runs: RunSpec[] = [
    {
      machine: macArm,
      release: '0.5.0',
      runKind: 'script',
      jit: 'used',
      accelerate: true,
      gpu: { ...apple, dispatches: 48 },
    },
    {
      machine: linux,
      release: '0.5.0',
      runKind: 'benchmark',
      jit: 'used',
      accelerate: true,
      gpu: { ...rtx, dispatches: 120 },
    },
    {
      machine: windows,
      release: '0.5.0',
      runKind: 'script',
      jit: 'used',
      accelerate: true,
      gpu: { ...radeon, dispatches: 9 },
    },
    {
      machine: macArm,
      release: '0.5.0',
      runKind: 'repl',
      jit: 'enabled',
      accelerate: true,
      // A device, but the run stayed on the CPU: not counted as GPU work.
      gpu: { ...apple, dispatches: 0 },
    },
    {
      machine: windows,
      release: '0.4.9',
      runKind: 'script',
      jit: 'off',
      accelerate: false,
      failure: failure('parser', 'RunMat:ParserError', 'cli', 'unknown'),
    },
    {
      machine: linux,
      release: '0.4.9',
      runKind: 'script',
      jit: 'enabled',
      accelerate: true,
      failure: failure('runtime', 'RunMat:IndexOutOfBounds', 'cli', 'typecheck'),
    },
    {
      machine: linuxArm,
      release: '0.4.9',
      runKind: 'kernel',
      jit: 'off',
      accelerate: false,
      failure: failure('hir', 'RunMat:UndefinedVariable', 'kernel', 'name_resolution'),
    },
    {
      machine: macIntel,
      release: '0.4.8',
      runKind: 'script',
      jit: 'used',
      accelerate: false,
    },
    {
      machine: linux,
      release: '0.4.8',
      runKind: 'repl',
      jit: 'off',
      accelerate: true,
      failure: failure('runtime', 'RunMat:IndexOutOfBounds', 'cli', 'typecheck'),
    },
  ];

  const start = now - 10 * 60_000;
  const events: DemoEvent[] = [
    ...installEvents(macArm, '0.5.0', 'complete', start),
    ...installEvents(macArm, '0.5.0', 'complete', start + 20_000),
    ...installEvents(macIntel, '0.4.8', 'complete', start + 40_000),
    ...installEvents(linux, '0.5.0', 'complete', start + 60_000),
    ...installEvents(linux, '0.5.0', 'failed', start + 80_000),
    ...installEvents(linuxArm, '0.4.9', 'none', start + 100_000),
    ...installEvents(windows, '0.5.0', 'complete', start + 120_000),
    ...installEvents(windows, '0.5.0', 'failed', start + 140_000),
  ];
  runs.forEach((spec, i) => {
    events.push(...runEvents(spec, start + 180_000 + i * 30_000));
  });
  return events;
}

async function postEvent(url: string, key: string, event: DemoEvent): Promise<void> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [INGESTION_KEY_HEADER]: key },
    body: JSON.stringify(event),
  });
  const text = await res.body.text();
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw new Error(
      `demo mix: POST ${url} answered ${res.statusCode} for ${event.event_label}: ${text.slice(0, 200)}`,
    );
  }
}

async function sendDatagrams(host: string, port: number, events: DemoEvent[]): Promise<void> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    for (const event of events) {
      const bytes = Buffer.from(JSON.stringify(event));
      await new Promise<void>((resolve, reject) => {
        socket.send(bytes, port, host, (err) => (err ? reject(err) : resolve()));
      });
    }
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

/**
 * Sends the demo mix to a worker (and, with `udpHost`/`udpPort`, the runtime
 * events to a forwarder as well). Resolves with the number of distinct events
 * sent, once the worker has accepted every HTTP request; rejects on the first
 * non-2xx answer (a wrong key, say) with the status and body.
 */
export async function sendDemoMix(opts: DemoMixOptions): Promise<{ sent: number }> {
  const events = demoMixEvents();
  if (opts.udpHost !== undefined && opts.udpPort !== undefined) {
    const runtime = events.filter((e) => e.event_label.startsWith('runtime.'));
    await sendDatagrams(opts.udpHost, opts.udpPort, runtime);
  }
  for (const event of events) await postEvent(opts.httpEndpoint, opts.key, event);
  return { sent: events.length };
}
