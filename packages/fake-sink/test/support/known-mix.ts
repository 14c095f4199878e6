// A known mix of RunMat events as the worker forwards them to PostHog (its
// allowlisted, normalized properties), and the insights it must produce.
import { randomUUID } from 'node:crypto';
import type { ReleaseInsights, SinkInsights } from '../../src/insights.js';

export interface MixEvent {
  event: string;
  distinctId: string;
  uuid: string;
  properties: Record<string, string | number | boolean>;
}

function install(
  event: 'install_start' | 'install_complete' | 'install_failed',
  os: string,
  arch: string,
): MixEvent {
  const session = randomUUID();
  return {
    event,
    distinctId: randomUUID(),
    uuid: randomUUID(),
    properties: {
      os,
      arch,
      release: '0.5.0',
      session_id: session,
      run_kind: 'install',
      platform: `${os}-${arch}`,
      method: os === 'windows' ? 'powershell' : 'shell',
    },
  };
}

function finished(props: Record<string, string | number | boolean>): MixEvent {
  return {
    event: 'runtime.run.finished',
    distinctId: randomUUID(),
    uuid: randomUUID(),
    properties: { session_id: randomUUID(), duration_us: 1000, ...props },
  };
}

/** Fresh ids on every call, so each test starts from its own events. */
export function knownMix(): MixEvent[] {
  const r1 = finished({
    os: 'macos',
    arch: 'aarch64',
    release: '0.4.9',
    run_kind: 'script',
    success: true,
    jit_enabled: true,
    jit_used: true,
    accelerate_enabled: true,
    gpu_dispatches: 12,
    gpu_backend: 'metal',
    gpu_device_vendor: 'Apple',
    gpu_device_name: 'Apple M2 Max',
  });
  return [
    install('install_start', 'macos', 'aarch64'),
    install('install_complete', 'macos', 'aarch64'),
    install('install_start', 'macos', 'aarch64'),
    install('install_complete', 'macos', 'aarch64'),
    install('install_start', 'linux', 'x86_64'),
    install('install_complete', 'linux', 'x86_64'),
    install('install_start', 'linux', 'x86_64'),
    install('install_start', 'windows', 'x86_64'),
    install('install_failed', 'windows', 'x86_64'),
    {
      event: 'runtime.run.started',
      distinctId: randomUUID(),
      uuid: randomUUID(),
      properties: {
        os: 'macos',
        arch: 'aarch64',
        release: '0.4.9',
        run_kind: 'script',
        jit_enabled: true,
        accelerate_enabled: true,
      },
    },
    r1,
    // The same event again (a retry, or UDP and HTTP both delivering): counted once.
    { ...r1, properties: { ...r1.properties } },
    finished({
      os: 'linux',
      arch: 'x86_64',
      release: '0.4.9',
      run_kind: 'script',
      success: false,
      jit_enabled: true,
      jit_used: false,
      accelerate_enabled: true,
      gpu_dispatches: 0,
      gpu_backend: 'vulkan',
      gpu_device_vendor: 'NVIDIA',
      'runtime.failure.stage': 'runtime',
      'runtime.failure.code': 'RunMat:IndexOutOfBounds',
      'runtime.failure.has_span': true,
      'runtime.failure.host': 'cli',
      'runtime.failure.component': 'typecheck',
    }),
    finished({
      os: 'linux',
      arch: 'x86_64',
      release: '0.5.0',
      run_kind: 'repl',
      success: true,
      jit_enabled: true,
      jit_used: true,
      accelerate_enabled: true,
      gpu_dispatches: 40,
      gpu_backend: 'vulkan',
      gpu_device_vendor: 'NVIDIA',
    }),
    finished({
      os: 'windows',
      arch: 'x86_64',
      release: '0.5.0',
      run_kind: 'script',
      success: false,
      jit_enabled: false,
      jit_used: false,
      accelerate_enabled: false,
      'runtime.failure.stage': 'parser',
      'runtime.failure.code': 'RunMat:ParseError',
      'runtime.failure.has_span': true,
      'runtime.failure.host': 'cli',
      'runtime.failure.component': 'unknown',
    }),
    finished({
      os: 'linux',
      arch: 'aarch64',
      release: '0.5.0',
      run_kind: 'kernel',
      success: false,
      jit_enabled: true,
      jit_used: false,
      accelerate_enabled: true,
      'runtime.failure.stage': 'runtime',
      'runtime.failure.code': 'RunMat:IndexOutOfBounds',
      'runtime.failure.host': 'kernel',
    }),
    finished({
      os: 'linux',
      arch: 'x86_64',
      release: '0.4.10',
      run_kind: 'benchmark',
      success: true,
      jit_enabled: true,
      jit_used: true,
      accelerate_enabled: true,
      gpu_dispatches: 5,
      gpu_backend: 'cuda',
      gpu_device_vendor: 'NVIDIA',
      gpu_device_name: 'NVIDIA RTX 4090',
    }),
  ];
}

/** What the mix implies, worked out by hand. */
export const KNOWN_MIX_INSIGHTS: SinkInsights = {
  events: 16,
  installs: [
    { os: 'linux', arch: 'x86_64', started: 2, completed: 1, failed: 0 },
    { os: 'macos', arch: 'aarch64', started: 2, completed: 2, failed: 0 },
    { os: 'windows', arch: 'x86_64', started: 1, completed: 0, failed: 1 },
  ],
  runs: {
    finished: 6,
    by_kind: { script: 3, benchmark: 1, kernel: 1, repl: 1 },
    jit_enabled: 5,
    jit_used: 3,
    accelerate_enabled: 5,
    gpu_used: 3,
    succeeded: 3,
  },
  failures: {
    by_stage: { runtime: 2, parser: 1 },
    by_code: { 'RunMat:IndexOutOfBounds': 2, 'RunMat:ParseError': 1 },
    by_component: { typecheck: 1, unknown: 1 },
    by_host: { cli: 2, kernel: 1 },
  },
  devices: {
    by_backend: { vulkan: 2, cuda: 1, metal: 1 },
    by_vendor: { NVIDIA: 3, Apple: 1 },
  },
};

export const KNOWN_MIX_RELEASES: ReleaseInsights = {
  releases: [
    {
      release: '0.4.9',
      finished: 2,
      jit_enabled: 2,
      jit_used: 1,
      accelerate_enabled: 2,
      gpu_used: 1,
      succeeded: 1,
    },
    {
      release: '0.4.10',
      finished: 1,
      jit_enabled: 1,
      jit_used: 1,
      accelerate_enabled: 1,
      gpu_used: 1,
      succeeded: 1,
    },
    {
      release: '0.5.0',
      finished: 3,
      jit_enabled: 2,
      jit_used: 1,
      accelerate_enabled: 2,
      gpu_used: 1,
      succeeded: 1,
    },
  ],
};

/** A posthog-node style `/batch/` body for events. */
export function batchBody(apiKey: string, events: MixEvent[]) {
  return {
    api_key: apiKey,
    batch: events.map((e) => ({
      event: e.event,
      distinct_id: e.distinctId,
      uuid: e.uuid,
      timestamp: new Date().toISOString(),
      type: 'capture',
      library: 'posthog-node',
      properties: { ...e.properties, $lib: 'posthog-node', $process_person_profile: false },
    })),
    sent_at: new Date().toISOString(),
  };
}
