/**
 * Example payloads from RunMat's public telemetry documentation, used by the
 * tests, the benchmark and `runmat-telemetry emit`.
 *
 * The legacy example is the docs' "Example runtime payload" verbatim. The
 * canonical example keeps the docs' envelope (ids, run kind, platform) and
 * fills the payload with the fields the docs list for `runtime.run.finished`,
 * using the same GPU figures as the legacy example.
 */
export const CANONICAL_FINISHED_EXAMPLE = {
  event_label: 'runtime.run.finished',
  uuid: '63b4b9a8-5f2b-4cef-95c1-c6e2b8f6c04c',
  cid: 'eac98648-3b42-41c7-a887-7452dd08cbf0',
  session_id: '9e2a9d9f-4e37-4090-a1fb-96cb2c6f9f3a',
  run_kind: 'script',
  os: 'macos',
  arch: 'aarch64',
  release: '0.4.9',
  payload: {
    duration_us: 4412,
    success: false,
    jit_enabled: true,
    jit_used: true,
    accelerate_enabled: true,
    timestamp_ms: 1779000000000,
    error: 'RuntimeError',
    counters: { total_executions: 42, jit_compiled: 6, interpreter_fallback: 1 },
    gpu_wall_ns: 1850000,
    gpu_ratio: 0.4193,
    gpu_dispatches: 12,
    gpu_upload_bytes: 262144,
    gpu_download_bytes: 0,
    fusion_cache_hits: 8,
    fusion_cache_misses: 1,
    fusion_hit_ratio: 0.8889,
    'runtime.failure.stage': 'runtime',
    'runtime.failure.code': 'RunMat:IndexOutOfBounds',
    'runtime.failure.has_span': true,
    'runtime.failure.host': 'cli',
    'runtime.failure.component': 'typecheck',
  },
} as const;

/** The docs' legacy `runtime_finished` example, with its NVIDIA provider block. */
export const LEGACY_FINISHED_EXAMPLE = {
  event_label: 'runtime_finished',
  cid: 'eac98648-3b42-41c7-a887-7452dd08cbf0',
  session_id: '9e2a9d9f-4e37-4090-a1fb-96cb2c6f9f3a',
  run_kind: 'script',
  os: 'macos',
  arch: 'aarch64',
  payload: {
    duration_us: 4412,
    success: true,
    jit_enabled: true,
    jit_used: true,
    accelerate_enabled: true,
    provider: {
      device: { name: 'NVIDIA RTX 4090', vendor: 'NVIDIA', backend: 'cuda' },
      telemetry: {
        gpu_dispatches: 12,
        gpu_wall_ns: 1850000,
        upload_bytes: 262144,
        download_bytes: 0,
        fusion_cache_hits: 8,
        fusion_cache_misses: 1,
      },
    },
  },
} as const;

export const CANONICAL_STARTED_EXAMPLE = {
  event_label: 'runtime.run.started',
  uuid: '1f0e5d1c-2b7a-4c39-8d51-0a6f3e9b2c47',
  cid: 'eac98648-3b42-41c7-a887-7452dd08cbf0',
  session_id: '9e2a9d9f-4e37-4090-a1fb-96cb2c6f9f3a',
  run_kind: 'script',
  os: 'macos',
  arch: 'aarch64',
  release: '0.4.9',
  payload: { jit_enabled: true, accelerate_enabled: true },
} as const;

export const INSTALL_COMPLETE_EXAMPLE = {
  event_label: 'install_complete',
  cid: 'eac98648-3b42-41c7-a887-7452dd08cbf0',
  session_id: '5d6c1a2e-8f34-4b7d-9e10-3c2b1a0f9e8d',
  os: 'macos',
  arch: 'aarch64',
  platform: 'macos-aarch64',
  release: '0.4.9',
  method: 'shell',
  run_kind: 'install',
} as const;
