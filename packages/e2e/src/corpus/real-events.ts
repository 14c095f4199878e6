/**
 * A corpus of telemetry events shaped exactly as RunMat's real public hosts
 * send them (runmat-org/runmat: the Rust CLI and browser host at v0.6.1, the
 * older Rust CLIs, install.sh and install.ps1 across their four shapes, and
 * the older docs page). Deterministic: the same bytes on every call.
 * Where each shape comes from is in SOURCES.md beside this file.
 */
import {
  type AdapterSpec,
  inProcessDevice,
  inProcessSnapshot,
  toTelemetryV1,
  wgpuDevice,
  wgpuSnapshot,
  wgpuTelemetry,
} from './provider-snapshots.js';
import {
  componentForIdentifier,
  dropUndefined,
  type FailureInfo,
  finishedPayload,
  gpuWallNs,
  type RunFinish,
} from './rust-behaviour.js';
import type {
  ProviderSnapshot,
  ProviderTelemetry,
  ProviderTelemetryV1,
  RuntimeExecutionCounters,
} from './rust-shapes.js';
import { SeededRandom } from './seeded-random.js';

export type CorpusClass = 'runtime_started' | 'runtime_finished' | 'installer' | 'legacy';
export type CorpusTransport = 'udp' | 'http' | 'both';
export type CanonicalEvent =
  | 'runtime.run.started'
  | 'runtime.run.finished'
  | 'install_start'
  | 'install_complete'
  | 'install_failed';

/** What the raw event says, read straight from the host's shape (not normalized). */
export interface CorpusExpect {
  /** The canonical name the event maps to. */
  event: CanonicalEvent;
  uuid?: string;
  success?: boolean;
  duration_us?: number;
  /** fused_elementwise + fused_reduction + matmul counts (`ProviderSnapshot::gpu_dispatches`). */
  gpu_dispatches?: number;
  device_name_raw?: string;
  device_vendor?: string;
  device_backend?: string;
  failure_stage?: string;
  failure_code?: string;
  os_raw?: string;
  arch_raw?: string;
  release_raw?: string;
}

export interface CorpusCase {
  /** Unique, kebab-case, says host, shape and what is special. */
  name: string;
  class: CorpusClass;
  /** How the real host delivers it: the CLI sends the same bytes over UDP and HTTP by default. */
  transport: CorpusTransport;
  body: Record<string, unknown>;
  expect: CorpusExpect;
  /** File and commit in runmat-org/runmat (or the seed page) the shape comes from. */
  source: string;
}

const SEED = 0x52554d41; // "RUMA"
/** 2026-05-28T00:00:00Z, the v0.6.1 era. */
const T_NOW = 1_779_926_400_000;
/** 2025-12-10, CLI 0.2.7 (legacy labels, nulls). */
const T_DEC_2025 = 1_765_324_800_000;
/** 2026-02-20, 0.2.8 (legacy labels, skipped options). */
const T_FEB_2026 = 1_771_545_600_000;
/** 2026-03-28, 0.3.2 (canonical labels, pre-solve telemetry). */
const T_MAR_2026 = 1_774_656_000_000;

const SRC = {
  core: 'crates/runmat-core/src/telemetry.rs + crates/runmat-telemetry/src/lib.rs @220976472 (v0.6.1)',
  script: 'crates/runmat-cli/src/commands/script.rs @220976472',
  repl: 'crates/runmat-cli/src/commands/repl.rs @220976472',
  bench: 'crates/runmat-cli/src/commands/benchmark.rs @220976472',
  errors: 'crates/runmat-core/src/error.rs @220976472',
  wasm: 'crates/runmat-wasm/src/api/{init,session}.rs @220976472',
  preSolve: 'crates/runmat-telemetry/src/lib.rs @e0d3c3342 (ProviderTelemetry before ea523783b)',
  legacyV0: 'crates/runmat-cli/src/telemetry.rs @7170595ba (CLI 0.2.7)',
  legacyV1: 'crates/runmat-telemetry/src/lib.rs @9b59d6ffa (0.2.8)',
  seedPage: '/work/shared/seeds/001_b6cc369266e68688.txt (older telemetry page)',
  shCamel: 'website/public/install.sh @d7c3227978ae1e6dbaecbe627078ec76141022f1',
  ps1Camel: 'website/public/install.ps1 @d7c3227978ae1e6dbaecbe627078ec76141022f1',
  shFlat: 'website/public/install.sh @58dcbcbac862271e7843a586907f49d917590ad8',
  ps1Flat: 'website/public/install.ps1 @58dcbcbac862271e7843a586907f49d917590ad8',
  shLabel: 'website/public/install.sh @54d7b3611 (field list of the older page)',
  ps1Label: 'website/public/install.ps1 @54d7b3611 (field list of the older page)',
  shSession: 'website/public/install.sh @eb4f54a8c',
  ps1Session: 'website/public/install.ps1 @eb4f54a8c',
} as const;

// ---------------------------------------------------------------------------
// Adapters: names verbatim as drivers report them, vendor ids as wgpu sees them
// ---------------------------------------------------------------------------

const adapter = (a: Partial<AdapterSpec> & Pick<AdapterSpec, 'name' | 'vendorId' | 'backend'>) =>
  ({
    maxBufferSize: 2_147_483_648,
    precision: 'f32',
    wg: 512,
    reductionWg: 512,
    pointerStyle: 'linux',
    ...a,
  }) satisfies AdapterSpec;

const ADAPTERS = {
  // Vulkan
  llvmpipeVk: adapter({
    name: 'llvmpipe (LLVM 15.0.6, 256 bits)',
    vendorId: 0x10005, // VK_VENDOR_ID_MESA
    backend: 'vulkan',
    maxBufferSize: 2_147_483_648,
    wg: 256,
    reductionWg: 256,
  }),
  intelUhdVk: adapter({
    name: 'Intel(R) UHD Graphics 630',
    vendorId: 0x8086,
    backend: 'vulkan',
    maxBufferSize: 4_294_967_296,
  }),
  radeon780mVk: adapter({
    name: 'AMD Radeon™ 780M Graphics',
    vendorId: 0x1002,
    backend: 'vulkan',
    maxBufferSize: 4_294_967_296,
    pointerStyle: 'windows',
  }),
  rtx4090Vk: adapter({
    name: 'NVIDIA GeForce RTX 4090',
    vendorId: 0x10de,
    backend: 'vulkan',
    maxBufferSize: 2_147_483_647,
    precision: 'f64', // RUNMAT_WGPU_FORCE_PRECISION=f64 on an adapter with SHADER_F64
  }),
  maliVk: adapter({
    name: 'Mali-G610',
    vendorId: 0x13b5,
    backend: 'vulkan',
    maxBufferSize: 1_073_741_824,
    wg: 256,
    reductionWg: 256,
  }),
  mooreVk: adapter({
    name: 'Moore Threads MTT S80',
    vendorId: 0x1ed5,
    backend: 'vulkan',
    maxBufferSize: 4_294_967_296,
    pointerStyle: 'windows',
  }),
  namelessVk: adapter({ name: '', vendorId: 0x1d17, backend: 'vulkan', pointerStyle: 'windows' }),
  // Metal: wgpu reports vendor 0, so the vendor is the first word of the name.
  m2MaxMetal: adapter({
    name: 'Apple M2 Max',
    vendorId: 0,
    backend: 'metal',
    maxBufferSize: 17_179_869_184,
    reductionWg: 512,
    pointerStyle: 'macos',
  }),
  intelUhdMetal: adapter({
    name: 'Intel(R) UHD Graphics 630',
    vendorId: 0,
    backend: 'metal',
    maxBufferSize: 1_073_741_824,
    wg: 256,
    pointerStyle: 'macos',
  }),
  radeonProMetal: adapter({
    name: 'AMD Radeon Pro 5500M',
    vendorId: 0,
    backend: 'metal',
    maxBufferSize: 3_758_096_384,
    pointerStyle: 'macos',
  }),
  // DX12
  rtx3060Dx12: adapter({
    name: 'NVIDIA GeForce RTX 3060',
    vendorId: 0x10de,
    backend: 'dx12',
    maxBufferSize: 2_147_483_648,
    pointerStyle: 'windows',
  }),
  irisXeDx12: adapter({
    name: 'Intel(R) Iris(R) Xe Graphics',
    vendorId: 0x8086,
    backend: 'dx12',
    pointerStyle: 'windows',
  }),
  warpDx12: adapter({
    name: 'Microsoft Basic Render Driver',
    vendorId: 0x1414,
    backend: 'dx12',
    wg: 256,
    reductionWg: 256,
    pointerStyle: 'windows',
  }),
  // GL: wgpu derives the vendor id from GL_VENDOR ("NVIDIA Corporation",
  // "Google Inc. (NVIDIA)" → 0x10de, "Mesa" → 0x10005, unrecognised → 0).
  gtx1050Gl: adapter({
    name: 'NVIDIA GeForce GTX 1050/PCIe/SSE2',
    vendorId: 0x10de,
    backend: 'gl',
    maxBufferSize: 2_147_483_647,
    wg: 256,
    reductionWg: 256,
  }),
  angleGl: adapter({
    name: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)',
    vendorId: 0x10de,
    backend: 'gl',
    maxBufferSize: 2_147_483_647,
    wg: 256,
    reductionWg: 256,
    pointerStyle: 'windows',
  }),
  llvmpipeGl: adapter({
    name: 'llvmpipe (LLVM 15.0.6, 256 bits)',
    vendorId: 0x10005,
    backend: 'gl',
    maxBufferSize: 2_147_483_647,
    wg: 256,
    reductionWg: 256,
  }),
  namelessGl: adapter({
    name: '',
    vendorId: 0,
    backend: 'gl',
    maxBufferSize: 2_147_483_647,
    wg: 256,
    reductionWg: 256,
  }),
} as const;

// ---------------------------------------------------------------------------
// Runtime envelope builders
// ---------------------------------------------------------------------------

type Platform = { os: string; arch: string };
/** `std::env::consts::{OS, ARCH}` of the shipped CLI builds, and the browser host. */
const P = {
  macArm: { os: 'macos', arch: 'aarch64' },
  macIntel: { os: 'macos', arch: 'x86_64' },
  linux: { os: 'linux', arch: 'x86_64' },
  linuxArm: { os: 'linux', arch: 'aarch64' },
  // Windows on ARM runs the x64 build under emulation, so ARCH is x86_64 there too.
  windows: { os: 'windows', arch: 'x86_64' },
  web: { os: 'web', arch: 'wasm32' },
} as const satisfies Record<string, Platform>;

interface Run {
  cid?: string;
  sessionId: string;
  platform: Platform;
  release: string;
  runKind: 'script' | 'repl' | 'benchmark' | 'install';
  jitEnabled: boolean;
  accelerateEnabled: boolean;
  startedMs: number;
}

const CANONICAL_LABEL: Record<string, CanonicalEvent> = {
  'runtime.run.started': 'runtime.run.started',
  'runtime.run.finished': 'runtime.run.finished',
  runtime_started: 'runtime.run.started',
  runtime_finished: 'runtime.run.finished',
  install_start: 'install_start',
  install_complete: 'install_complete',
  install_failed: 'install_failed',
  'install.start': 'install_start',
  'install.completed': 'install_complete',
  'install.failed': 'install_failed',
};

class CorpusBuilder {
  readonly cases: CorpusCase[] = [];
  readonly rng = new SeededRandom(SEED);
  #clock = T_NOW;

  /** A monotonically increasing wall clock so events look like they happened in order. */
  tick(base?: number): number {
    if (base !== undefined) this.#clock = Math.max(this.#clock, base);
    this.#clock += this.rng.int(4_000, 900_000);
    return this.#clock;
  }

  run(r: Partial<Run> & Pick<Run, 'platform' | 'runKind'>, withCid = true): Run {
    return {
      cid: withCid ? this.rng.uuidV4() : undefined,
      sessionId: this.rng.uuidV4(),
      release: '0.6.1',
      jitEnabled: true,
      accelerateEnabled: true,
      startedMs: this.tick(),
      ...r,
    };
  }

  add(c: CorpusCase): void {
    if (this.cases.some((x) => x.name === c.name)) throw new Error(`duplicate case ${c.name}`);
    this.cases.push(c);
  }

  /** crates/runmat-core/src/telemetry.rs `telemetry_run`: the started envelope. */
  started(name: string, r: Run, transport: CorpusTransport, source: string = SRC.core): void {
    const body = dropUndefined({
      event_label: 'runtime.run.started',
      uuid: this.rng.uuidV4(),
      cid: r.cid,
      session_id: r.sessionId,
      os: r.platform.os,
      arch: r.platform.arch,
      release: r.release,
      run_kind: r.runKind,
      payload: {
        jit_enabled: r.jitEnabled,
        accelerate_enabled: r.accelerateEnabled,
        timestamp_ms: r.startedMs,
      },
    });
    this.add({ name, class: 'runtime_started', transport, body, expect: expectOf(body), source });
  }

  /** crates/runmat-core/src/telemetry.rs `TelemetryRunGuard::finish`: the finished envelope. */
  finished<T extends ProviderTelemetry | ProviderTelemetryV1>(
    name: string,
    r: Run,
    f: Omit<RunFinish<T>, 'jitEnabled' | 'accelerateEnabled' | 'timestampMs' | 'durationUs'> & {
      durationUs?: number;
    },
    transport: CorpusTransport,
    source: string,
  ): void {
    const wall = f.provider ? gpuWallNs(f.provider.telemetry) : 0;
    // A run lasts longer than its GPU work unless the caller says otherwise.
    const durationUs =
      f.durationUs ?? Math.max(this.rng.int(900, 40_000), Math.ceil(wall / 1000 / this.ratio()));
    const payload = finishedPayload<T>({
      ...f,
      durationUs,
      jitEnabled: r.jitEnabled,
      accelerateEnabled: r.accelerateEnabled,
      timestampMs: r.startedMs + Math.ceil(durationUs / 1000) + this.rng.int(1, 40),
    });
    const body = dropUndefined({
      event_label: 'runtime.run.finished',
      uuid: this.rng.uuidV4(),
      cid: r.cid,
      session_id: r.sessionId,
      os: r.platform.os,
      arch: r.platform.arch,
      release: r.release,
      run_kind: r.runKind,
      payload,
    });
    this.add({ name, class: 'runtime_finished', transport, body, expect: expectOf(body), source });
  }

  ratio(): number {
    return 0.15 + this.rng.next() * 0.7;
  }

  counters(total: number, jit: number): RuntimeExecutionCounters {
    return { total_executions: total, jit_compiled: jit, interpreter_fallback: total - jit };
  }
}

/** Reads the expectation off the raw body, per shape, without normalizing anything. */
function expectOf(body: Record<string, unknown>): CorpusExpect {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const label = str(body.event_label) ?? str(body.eventLabel) ?? str(body.event) ?? '';
  const event = CANONICAL_LABEL[label];
  if (event === undefined) throw new Error(`unmapped event ${label}`);
  const payload = (body.payload ?? {}) as Record<string, unknown>;
  const provider = (payload.provider ?? undefined) as
    | { device?: Record<string, unknown>; telemetry?: Record<string, unknown> }
    | undefined;
  const device = provider?.device;
  const out: CorpusExpect = {
    event,
    uuid: str(body.uuid),
    success: typeof payload.success === 'boolean' ? payload.success : undefined,
    duration_us: num(payload.duration_us),
    gpu_dispatches: num(payload.gpu_dispatches) ?? num(provider?.telemetry?.gpu_dispatches),
    device_name_raw: str(device?.name),
    device_vendor: str(device?.vendor),
    device_backend: str(device?.backend),
    failure_stage: str(payload['runtime.failure.stage']),
    failure_code: str(payload['runtime.failure.code']),
    os_raw: str(body.os),
    arch_raw: str(body.arch),
    release_raw: str(body.release),
  };
  return dropUndefined(out as unknown as Record<string, unknown>) as unknown as CorpusExpect;
}

// ---------------------------------------------------------------------------
// Canonical runtime events (v0.6.1 CLI and browser host)
// ---------------------------------------------------------------------------

function addStartedEvents(b: CorpusBuilder, runs: Record<string, Run>): void {
  const s = b.started.bind(b);
  s('cli-script-started-macos-aarch64', runs.macScript as Run, 'both', SRC.script);
  s('cli-script-started-linux-x86_64', runs.linuxScript as Run, 'both', SRC.script);
  s('cli-script-started-windows-x86_64', runs.windowsScript as Run, 'both', SRC.script);
  s('cli-repl-started-macos-x86_64', runs.macIntelRepl as Run, 'both', SRC.repl);
  s('cli-repl-started-linux-accelerate-off', runs.linuxReplCpu as Run, 'both', SRC.repl);
  s('cli-benchmark-started-linux', runs.linuxBench as Run, 'both', SRC.bench);
  s(
    'cli-benchmark-started-windows-jit-off',
    b.run({ platform: P.windows, runKind: 'benchmark', jitEnabled: false }),
    'both',
    SRC.bench,
  );
  // install.sh on macOS writes ~/.runmat/telemetry_id with `uuidgen`, which
  // prints upper case; the CLI reads the same file and sends it unchanged.
  s(
    'cli-script-started-uppercase-cid-from-installer',
    b.run({ platform: P.macArm, runKind: 'script', cid: b.rng.uuidV4().toUpperCase() }),
    'both',
    SRC.script,
  );
  // stable_client_id() is None without a home directory: cid is absent.
  s(
    'cli-script-started-no-cid-linux-aarch64',
    b.run({ platform: P.linuxArm, runKind: 'script', release: '0.6.0' }, false),
    'both',
    SRC.script,
  );
  // udp_endpoint = "" in runmat.toml: HTTP only (HTTP can never be turned off).
  s(
    'cli-script-started-http-only',
    b.run({ platform: P.windows, runKind: 'script', release: '0.5.6', jitEnabled: false }),
    'http',
    SRC.script,
  );
  s(
    'cli-repl-started-old-release-0.4.1',
    b.run({ platform: P.linux, runKind: 'repl', release: '0.4.1' }),
    'both',
    SRC.repl,
  );
  // Browser host: os/arch fixed to web/wasm32, run kind from telemetryRunKind
  // (default repl), cid only when the page passes telemetryId.
  s(
    'wasm-repl-started-with-telemetry-id',
    b.run({ platform: P.web, runKind: 'repl', accelerateEnabled: false }),
    'http',
    SRC.wasm,
  );
  s(
    'wasm-script-started-no-cid',
    b.run({ platform: P.web, runKind: 'script', accelerateEnabled: true }, false),
    'http',
    SRC.wasm,
  );
  s(
    'wasm-install-run-kind-started',
    b.run({ platform: P.web, runKind: 'install', jitEnabled: false, accelerateEnabled: false }),
    'http',
    SRC.wasm,
  );
}

function addWgpuFinished(b: CorpusBuilder, runs: Record<string, Run>): void {
  const { rng } = b;
  const cli = { host: 'cli' as const };
  const success = (snap: ProviderSnapshot, counters?: RuntimeExecutionCounters) => ({
    ...cli,
    success: true,
    jitUsed: true,
    counters,
    provider: snap,
  });

  // --- vulkan 0 / 10 / 64
  b.finished(
    'cli-script-finished-vulkan-0-launches-llvmpipe',
    b.run({ platform: P.linux, runKind: 'script' }),
    success(wgpuSnapshot(rng, ADAPTERS.llvmpipeVk, { launches: 0 })),
    'both',
    SRC.script,
  );
  b.finished(
    'cli-script-finished-vulkan-10-launches-intel-uhd',
    runs.linuxScript as Run,
    success(wgpuSnapshot(rng, ADAPTERS.intelUhdVk, { launches: 10 })),
    'both',
    SRC.script,
  );
  // Benchmark: duration is the sum of iteration times (whole ms) while the
  // provider also counted the 3 warm-up runs, so GPU wall time can exceed the
  // duration and gpu_ratio clamps to 1.
  {
    const snap = wgpuSnapshot(rng, ADAPTERS.radeon780mVk, { launches: 2_480, withSolves: true });
    b.finished(
      'cli-benchmark-finished-vulkan-64-launches-radeon-780m-ratio-clamped',
      b.run({ platform: P.windows, runKind: 'benchmark' }),
      {
        ...success(snap, b.counters(20, 20)),
        durationUs: Math.floor((gpuWallNs(snap.telemetry) * 0.8) / 1_000_000) * 1000,
      },
      'both',
      SRC.bench,
    );
  }
  b.finished(
    'cli-script-finished-vulkan-64-launches-rtx-4090-f64',
    b.run({ platform: P.linux, runKind: 'script' }),
    success(wgpuSnapshot(rng, ADAPTERS.rtx4090Vk, { launches: 3_100, withSolves: true })),
    'both',
    SRC.script,
  );

  // --- metal 0 / 10 / 64
  b.finished(
    'cli-repl-finished-metal-0-launches-intel-mac',
    runs.macIntelRepl as Run,
    {
      ...success(wgpuSnapshot(rng, ADAPTERS.intelUhdMetal, { launches: 0 }), b.counters(7, 5)),
      jitUsed: true,
      durationUs: 412_337_912,
    },
    'both',
    SRC.repl,
  );
  b.finished(
    'cli-script-finished-metal-10-launches-radeon-pro',
    b.run({ platform: P.macIntel, runKind: 'script', release: '0.5.6' }),
    success(wgpuSnapshot(rng, ADAPTERS.radeonProMetal, { launches: 10 })),
    'both',
    SRC.script,
  );
  b.finished(
    'cli-script-finished-metal-64-launches-apple-m2-max',
    runs.macScript as Run,
    success(wgpuSnapshot(rng, ADAPTERS.m2MaxMetal, { launches: 1_337, withSolves: true })),
    'both',
    SRC.script,
  );

  // --- dx12 0 / 10 / 64
  b.finished(
    'cli-script-finished-dx12-0-launches-warp',
    b.run({ platform: P.windows, runKind: 'script' }),
    success(wgpuSnapshot(rng, ADAPTERS.warpDx12, { launches: 0 })),
    'both',
    SRC.script,
  );
  b.finished(
    'cli-script-finished-dx12-10-launches-iris-xe',
    b.run({ platform: P.windows, runKind: 'script', jitEnabled: false }),
    { ...success(wgpuSnapshot(rng, ADAPTERS.irisXeDx12, { launches: 10 })), jitUsed: false },
    'both',
    SRC.script,
  );
  b.finished(
    'cli-script-finished-dx12-64-launches-rtx-3060',
    runs.windowsScript as Run,
    success(wgpuSnapshot(rng, ADAPTERS.rtx3060Dx12, { launches: 640 })),
    'both',
    SRC.script,
  );

  // --- gl 0 / 10 / 64
  b.finished(
    'cli-script-finished-gl-0-launches-empty-adapter-name',
    b.run({ platform: P.linux, runKind: 'script' }),
    success(wgpuSnapshot(rng, ADAPTERS.namelessGl, { launches: 0 })),
    'both',
    SRC.script,
  );
  b.finished(
    'cli-repl-finished-gl-10-launches-gtx-1050',
    b.run({ platform: P.linux, runKind: 'repl' }),
    {
      ...success(wgpuSnapshot(rng, ADAPTERS.gtx1050Gl, { launches: 10 }), b.counters(31, 12)),
      durationUs: 1_804_220_117,
    },
    'both',
    SRC.repl,
  );
  b.finished(
    'cli-benchmark-finished-gl-64-launches-angle',
    b.run({ platform: P.windows, runKind: 'benchmark', jitEnabled: false }),
    {
      ...success(wgpuSnapshot(rng, ADAPTERS.angleGl, { launches: 410 }), b.counters(50, 0)),
      jitUsed: false,
    },
    'both',
    SRC.bench,
  );

  // --- the size range of a full 64-entry log: a loop of tiny matmuls (the
  // smallest entries there are) and a loop of reductions over wide fused
  // expressions (the largest entries, and one bind-group layout per input count).
  b.finished(
    'cli-script-finished-vulkan-64-launches-small-matmul-loop-size-floor',
    b.run({ platform: P.linux, runKind: 'script' }),
    success(
      wgpuSnapshot(rng, ADAPTERS.intelUhdVk, { launches: 5_000, only: ['matmul'], small: true }),
    ),
    'both',
    SRC.script,
  );
  b.finished(
    'cli-script-finished-metal-64-launches-reduction-loop-wide-fusion-size-ceiling',
    b.run({ platform: P.macArm, runKind: 'script' }),
    success(
      wgpuSnapshot(rng, ADAPTERS.m2MaxMetal, {
        launches: 6_000,
        only: ['fused_reduction', 'fused_reduction', 'fused_elementwise'],
        wide: true,
      }),
    ),
    'both',
    SRC.script,
  );
  // A long REPL session that fused many different expressions: one
  // bind_group_cache_by_layout entry per (inputs) and (inputs, outputs) layout,
  // a list with no bound in the source. Over 16 KiB on the wire.
  b.finished(
    'cli-repl-finished-metal-64-launches-long-session-over-16kib',
    b.run({ platform: P.macArm, runKind: 'repl' }),
    {
      ...success(
        wgpuSnapshot(rng, ADAPTERS.m2MaxMetal, {
          launches: 20_000,
          only: ['fused_reduction', 'fused_elementwise_multi', 'fused_elementwise'],
          wide: true,
        }),
        b.counters(388, 361),
      ),
      durationUs: 7_212_000_417,
    },
    'both',
    SRC.repl,
  );

  // --- more adapter name and vendor forms
  b.finished(
    'cli-script-finished-gl-10-launches-llvmpipe-mesa-vendor',
    b.run({ platform: P.linux, runKind: 'script', release: '0.5.6' }),
    success(wgpuSnapshot(rng, ADAPTERS.llvmpipeGl, { launches: 10 })),
    'both',
    SRC.script,
  );
  b.finished(
    'cli-script-finished-vulkan-10-launches-mali-linux-aarch64',
    b.run({ platform: P.linuxArm, runKind: 'script', release: '0.6.0' }),
    success(wgpuSnapshot(rng, ADAPTERS.maliVk, { launches: 10 })),
    'both',
    SRC.script,
  );
  b.finished(
    'cli-script-finished-vulkan-10-launches-unlisted-pci-vendor',
    b.run({ platform: P.windows, runKind: 'script' }),
    success(wgpuSnapshot(rng, ADAPTERS.mooreVk, { launches: 10 })),
    'both',
    SRC.script,
  );
  b.finished(
    'cli-script-finished-vulkan-0-launches-empty-name-unlisted-vendor',
    b.run({ platform: P.windows, runKind: 'script' }),
    success(wgpuSnapshot(rng, ADAPTERS.namelessVk, { launches: 0 })),
    'both',
    SRC.script,
  );
  // The same adapter as the cid-less started event above, still no cid.
  b.finished(
    'cli-script-finished-no-cid',
    b.run({ platform: P.linuxArm, runKind: 'script', release: '0.6.0' }, false),
    success(wgpuSnapshot(rng, ADAPTERS.maliVk, { launches: 3 })),
    'both',
    SRC.script,
  );
}

function addInProcessFinished(b: CorpusBuilder, runs: Record<string, Run>): void {
  const { rng } = b;
  // accelerate.enabled = false: the in-process provider is registered "for
  // compatibility" and its snapshot is still attached.
  b.finished(
    'cli-script-finished-inprocess-accelerate-off',
    b.run({ platform: P.macArm, runKind: 'script', accelerateEnabled: false }),
    {
      host: 'cli',
      success: true,
      jitUsed: true,
      provider: inProcessSnapshot(rng, { solves: 0, uploadBytes: 0, downloadBytes: 0 }),
    },
    'both',
    SRC.script,
  );
  b.finished(
    'cli-repl-finished-inprocess-with-solve-fallbacks',
    runs.linuxReplCpu as Run,
    {
      host: 'cli',
      success: true,
      jitUsed: false,
      counters: b.counters(42, 0),
      provider: inProcessSnapshot(rng, { solves: 6, uploadBytes: 98_304, downloadBytes: 49_152 }),
      durationUs: 96_512_004,
    },
    'both',
    SRC.repl,
  );
  b.finished(
    'cli-benchmark-finished-inprocess',
    runs.linuxBench as Run,
    {
      host: 'cli',
      success: true,
      jitUsed: true,
      counters: b.counters(100, 100),
      provider: inProcessSnapshot(rng, { solves: 0, uploadBytes: 8_000, downloadBytes: 8 }),
      durationUs: 1_234_000,
    },
    'both',
    SRC.bench,
  );
}

/** A failure as `RunError::telemetry_failure_info` builds it. */
function failure(stage: string, code: string, hasSpan: boolean, identifier = true): FailureInfo {
  const info: FailureInfo = { stage, code, has_span: hasSpan };
  // Parser failures always carry component "unknown"; the rest use the
  // identifier heuristic, and a missing identifier (fallback code) has none.
  const component =
    stage === 'parser'
      ? 'unknown'
      : identifier
        ? componentForIdentifier(code)
        : componentForIdentifier(undefined);
  if (component !== undefined) info.component = component;
  return info;
}

function addFailures(b: CorpusBuilder): void {
  const { rng } = b;
  // Err(RunError) path of execute_script_request: error = failure code, the
  // failure buckets are set, and the provider snapshot is captured anyway.
  const errPath: [string, FailureInfo][] = [
    ['parser', failure('parser', 'RunMat:ParserError', true)],
    ['hir-undefined-variable', failure('hir', 'RunMat:UndefinedVariable', true)],
    ['hir-import-ambiguous-no-span', failure('hir', 'RunMat:ImportAmbiguous', false)],
    [
      'hir-validator-unknown-component-io',
      failure('hir', 'RunMat:FunctionArgumentValidationUnknownValidator', true),
    ],
    ['hir-aggregate-shape-no-component', failure('hir', 'RunMat:AggregateShapeMismatch', true)],
    ['hir-fallback-code', failure('hir', 'RunMat:HirError', false, false)],
    ['compile-mir-index-context', failure('compile', 'RunMat:MirIndexContextInvalid', true)],
    [
      'compile-function-handle-name-no-span',
      failure('compile', 'RunMat:MirFunctionHandleNameMissing', false),
    ],
    ['compile-fallback-code', failure('compile', 'RunMat:CompileError', false, false)],
    ['runtime-fallback-code', failure('runtime', 'RunMat:RuntimeError', false)],
    ['runtime-index-out-of-bounds', failure('runtime', 'RunMat:IndexOutOfBounds', true)],
    ['runtime-cancelled', failure('runtime', 'RunMat:ExecutionCancelled', false)],
    ['runtime-network', failure('runtime', 'RunMat:imread:NetworkError', true)],
    ['runtime-timeout', failure('runtime', 'RunMat:read:Timeout', true)],
    ['runtime-internal', failure('runtime', 'RunMat:stepinfo:Internal', false)],
    ['runtime-diary-io', failure('runtime', 'RunMat:diary:IO', false)],
    ['runtime-invalid-dimension', failure('runtime', 'RunMat:sort:InvalidDimension', true)],
  ];
  const platforms = [P.macArm, P.linux, P.windows, P.macIntel];
  errPath.forEach(([label, info], i) => {
    const platform = platforms[i % platforms.length] as Platform;
    const provider =
      i % 3 === 0
        ? inProcessSnapshot(rng, { solves: 0, uploadBytes: 0, downloadBytes: 0 })
        : wgpuSnapshot(rng, i % 2 ? ADAPTERS.intelUhdVk : ADAPTERS.m2MaxMetal, { launches: 0 });
    b.finished(
      `cli-script-finished-failure-${label}`,
      b.run({ platform, runKind: 'script' }),
      {
        host: 'cli',
        success: false,
        jitUsed: false,
        error: info.code,
        failure: info,
        provider,
        durationUs: rng.int(300, 9_000),
      },
      'both',
      `${SRC.errors}; ${SRC.script}`,
    );
  });

  // A runtime failure after GPU work, with the quirky "io" component.
  b.finished(
    'cli-script-finished-failure-acceleration-after-10-launches',
    b.run({ platform: P.linux, runKind: 'script' }),
    {
      host: 'cli',
      success: false,
      jitUsed: false,
      error: 'RunMat:AccelerationOperationFailed',
      failure: failure('runtime', 'RunMat:AccelerationOperationFailed', false),
      provider: wgpuSnapshot(rng, ADAPTERS.rtx4090Vk, { launches: 10 }),
    },
    'both',
    `${SRC.errors}; ${SRC.script}`,
  );

  // Benchmark Err path in iteration 7: counters describe the 6 iterations done.
  b.finished(
    'cli-benchmark-finished-failure-iteration-7',
    b.run({ platform: P.macArm, runKind: 'benchmark' }),
    {
      host: 'cli',
      success: false,
      jitUsed: false,
      error: 'RunMat:UndefinedFunction',
      failure: failure('runtime', 'RunMat:UndefinedFunction', true),
      counters: b.counters(6, 6),
      provider: wgpuSnapshot(rng, ADAPTERS.m2MaxMetal, { launches: 36 }),
      durationUs: 61_000,
    },
    'both',
    `${SRC.errors}; ${SRC.bench}`,
  );

  // Benchmark warm-up failure (diagnostic, not Err): total_time is still zero,
  // so duration_us is 0, gpu_ratio is absent and counters are all zero.
  b.finished(
    'cli-benchmark-finished-warmup-diagnostic-zero-duration',
    b.run({ platform: P.linux, runKind: 'benchmark' }),
    {
      host: 'cli',
      success: false,
      jitUsed: true,
      error: 'RunMat:IndexOutOfBounds',
      counters: b.counters(0, 0),
      provider: wgpuSnapshot(rng, ADAPTERS.intelUhdVk, { launches: 2 }),
      durationUs: 0,
    },
    'both',
    SRC.bench,
  );

  // The docs list stage "unknown"; no host in the source produces it.
  b.finished(
    'doc-only-failure-stage-unknown',
    b.run({ platform: P.linux, runKind: 'script' }),
    {
      host: 'cli',
      success: false,
      jitUsed: false,
      failure: { stage: 'unknown', code: 'RunMat:RuntimeError', has_span: false },
      provider: inProcessSnapshot(rng, { solves: 0, uploadBytes: 0, downloadBytes: 0 }),
    },
    'both',
    'docs/development/telemetry.md @220976472 (stage list); no producer in source',
  );
}

function addDiagnosticErrors(b: CorpusBuilder): void {
  const { rng } = b;
  // Ok(outcome) with an error diagnostic: error = the diagnostic code (the
  // runtime error identifier after namespace normalization), no failure
  // buckets, host still "cli". The identifier can be user text: error() with a
  // struct or MException keeps any identifier, prefixed "RunMat:" when it has
  // no colon; normalize_error_namespace swaps everything before the first ':'.
  const diag: [string, string][] = [
    ['undefined-function', 'RunMat:UndefinedFunction'],
    ['matlab-namespace-normalized', 'RunMat:badsubscript'],
    ['user-identifier-normalized', 'RunMat:loadFailed'],
    [
      'free-text-identifier-with-path',
      'RunMat:Data load failed for /home/jane/experiments/run 42.csv',
    ],
    [
      'free-text-identifier-unicode',
      'RunMat:Überprüfung fehlgeschlagen – Datei „messdaten_2026.csv“ nicht gefunden',
    ],
    [
      'free-text-identifier-truncated-at-256-bytes',
      `RunMat:${'Simulation diverged after step 1048576 because the Jacobian of the coupled thermal model was singular; '.repeat(4)}`,
    ],
  ];
  diag.forEach(([label, code], i) => {
    b.finished(
      `cli-script-finished-diagnostic-${label}`,
      b.run({ platform: i % 2 ? P.linux : P.macArm, runKind: 'script' }),
      {
        host: 'cli',
        success: false,
        jitUsed: i % 2 === 0,
        error: code,
        provider:
          i === 0
            ? wgpuSnapshot(rng, ADAPTERS.rtx3060Dx12, { launches: 10 })
            : inProcessSnapshot(rng, { solves: 0, uploadBytes: 0, downloadBytes: 0 }),
      },
      'both',
      `${SRC.script}; crates/runmat-runtime/src/builtins/diagnostics/error.rs; crates/runmat-core/src/session/compile.rs normalize_error_namespace`,
    );
  });

  // Browser host: no component ever, no provider, error falls back to the
  // literal "runtime_error" when the error has no identifier.
  b.finished(
    'wasm-finished-failure-runtime-no-identifier',
    b.run({ platform: P.web, runKind: 'repl', accelerateEnabled: false }),
    {
      host: 'wasm',
      success: false,
      jitUsed: false,
      error: 'runtime_error',
      failure: { stage: 'runtime', code: 'RunMat:RuntimeError', has_span: false },
      durationUs: 14_000,
    },
    'http',
    SRC.wasm,
  );
  b.finished(
    'wasm-finished-failure-hir-no-cid',
    b.run({ platform: P.web, runKind: 'script' }, false),
    {
      host: 'wasm',
      success: false,
      jitUsed: false,
      error: 'RunMat:UndefinedVariable',
      failure: { stage: 'hir', code: 'RunMat:UndefinedVariable', has_span: true },
      durationUs: 2_000,
    },
    'http',
    SRC.wasm,
  );
  b.finished(
    'wasm-finished-success',
    b.run({ platform: P.web, runKind: 'repl' }),
    { host: 'wasm', success: true, jitUsed: false, durationUs: 37_000 },
    'http',
    SRC.wasm,
  );
}

/** Canonical labels and uuid, but the ProviderTelemetry of March 2026 (no solve fields). */
function addPreSolveCanonical(b: CorpusBuilder): void {
  const { rng } = b;
  const r = b.run({
    platform: P.macArm,
    runKind: 'script',
    release: '0.3.2',
    startedMs: T_MAR_2026,
  });
  const t = toTelemetryV1(wgpuTelemetry(rng, ADAPTERS.m2MaxMetal, { launches: 10 }));
  b.finished<ProviderTelemetryV1>(
    'cli-script-finished-0.3.2-pre-solve-telemetry',
    r,
    {
      host: 'cli',
      success: true,
      jitUsed: true,
      provider: { device: wgpuDevice(ADAPTERS.m2MaxMetal), telemetry: t },
    },
    'both',
    SRC.preSolve,
  );
}

// ---------------------------------------------------------------------------
// Legacy runtime events
// ---------------------------------------------------------------------------

function addLegacy(b: CorpusBuilder): void {
  const { rng } = b;
  const add = (name: string, body: Record<string, unknown>, source: string) =>
    b.add({ name, class: 'legacy', transport: 'both', body, expect: expectOf(body), source });

  // The older page's example, verbatim (no uuid, no release).
  add(
    'seed-page-runtime-finished-example',
    {
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
    },
    SRC.seedPage,
  );
  // The page's runtime_started field list: session_id, cid, run_kind (incl.
  // kernel), os, arch, CLI version, acceleration/JIT flags.
  add(
    'seed-page-runtime-started-kernel-run-kind',
    {
      event_label: 'runtime_started',
      cid: rng.uuidV4(),
      session_id: rng.uuidV4(),
      run_kind: 'kernel',
      os: 'linux',
      arch: 'x86_64',
      release: '0.2.7',
      payload: { jit_enabled: true, accelerate_enabled: false },
    },
    SRC.seedPage,
  );

  // CLI 0.2.7: no skip attributes, so every None is an explicit null; error
  // was the full message ("Execution failed: …"), free text up to 256 bytes.
  const v0Session = rng.uuidV4();
  const v0Cid = rng.uuidV4();
  const v0Start = T_DEC_2025 + rng.int(0, 86_400_000);
  add(
    'cli-0.2.7-runtime-started',
    {
      event_label: 'runtime_started',
      cid: v0Cid,
      session_id: v0Session,
      os: 'macos',
      arch: 'aarch64',
      release: '0.2.7',
      run_kind: 'script',
      payload: { jit_enabled: true, accelerate_enabled: true, timestamp_ms: v0Start },
    },
    SRC.legacyV0,
  );
  add(
    'cli-0.2.7-runtime-started-null-cid',
    {
      event_label: 'runtime_started',
      cid: null,
      session_id: rng.uuidV4(),
      os: 'linux',
      arch: 'x86_64',
      release: '0.2.7',
      run_kind: 'repl',
      payload: { jit_enabled: true, accelerate_enabled: false, timestamp_ms: v0Start + 5_000 },
    },
    SRC.legacyV0,
  );
  {
    const snap: ProviderSnapshot<ProviderTelemetryV1> = {
      device: wgpuDevice(ADAPTERS.m2MaxMetal),
      telemetry: toTelemetryV1(wgpuTelemetry(rng, ADAPTERS.m2MaxMetal, { launches: 10 })),
    };
    const p = finishedPayload<ProviderTelemetryV1>({
      durationUs: 2_400_118,
      success: false,
      jitEnabled: true,
      jitUsed: false,
      accelerateEnabled: true,
      timestampMs: v0Start + 2_401,
      error:
        "Execution failed: Error using readmatrix: unable to open '/Users/jane/Documents/grant-2025/data.csv'",
      provider: snap,
    });
    add(
      'cli-0.2.7-runtime-finished-free-text-error',
      {
        event_label: 'runtime_finished',
        cid: v0Cid,
        session_id: v0Session,
        os: 'macos',
        arch: 'aarch64',
        release: '0.2.7',
        run_kind: 'script',
        payload: {
          duration_us: p.duration_us ?? null,
          success: p.success,
          jit_enabled: p.jit_enabled,
          jit_used: p.jit_used,
          accelerate_enabled: p.accelerate_enabled,
          timestamp_ms: p.timestamp_ms,
          error: p.error ?? null,
          counters: null,
          provider: p.provider ?? null,
          gpu_wall_ns: p.gpu_wall_ns ?? null,
          gpu_ratio: p.gpu_ratio ?? null,
          gpu_dispatches: p.gpu_dispatches ?? null,
          gpu_upload_bytes: p.gpu_upload_bytes ?? null,
          gpu_download_bytes: p.gpu_download_bytes ?? null,
          fusion_cache_hits: p.fusion_cache_hits ?? null,
          fusion_cache_misses: p.fusion_cache_misses ?? null,
          fusion_hit_ratio: p.fusion_hit_ratio ?? null,
        },
      },
      SRC.legacyV0,
    );
  }
  add(
    'cli-0.2.7-runtime-finished-all-nulls',
    {
      event_label: 'runtime_finished',
      cid: null,
      session_id: rng.uuidV4(),
      os: 'windows',
      arch: 'x86_64',
      release: '0.2.7',
      run_kind: 'repl',
      payload: {
        duration_us: 188_004_551,
        success: true,
        jit_enabled: true,
        jit_used: true,
        accelerate_enabled: false,
        timestamp_ms: v0Start + 188_010,
        error: null,
        counters: { total_executions: 14, jit_compiled: 9, interpreter_fallback: 5 },
        provider: null,
        gpu_wall_ns: null,
        gpu_ratio: null,
        gpu_dispatches: null,
        gpu_upload_bytes: null,
        gpu_download_bytes: null,
        fusion_cache_hits: null,
        fusion_cache_misses: null,
        fusion_hit_ratio: null,
      },
    },
    SRC.legacyV0,
  );

  // 0.2.8 (runmat-telemetry crate, before e0d3c3342): options skip when None,
  // no uuid, no failure buckets, error = identifier or "runtime_error".
  const v1Session = rng.uuidV4();
  const v1Cid = rng.uuidV4();
  const v1Start = T_FEB_2026 + rng.int(0, 86_400_000);
  add(
    'cli-0.2.8-runtime-started',
    {
      event_label: 'runtime_started',
      cid: v1Cid,
      session_id: v1Session,
      os: 'windows',
      arch: 'x86_64',
      release: '0.2.8',
      run_kind: 'benchmark',
      payload: { jit_enabled: true, accelerate_enabled: true, timestamp_ms: v1Start },
    },
    SRC.legacyV1,
  );
  {
    const snap: ProviderSnapshot<ProviderTelemetryV1> = {
      device: wgpuDevice(ADAPTERS.rtx3060Dx12),
      telemetry: toTelemetryV1(wgpuTelemetry(rng, ADAPTERS.rtx3060Dx12, { launches: 900 })),
    };
    const wall = gpuWallNs(snap.telemetry);
    const durationUs = Math.ceil(wall / 1000 / 0.62);
    add(
      'cli-0.2.8-runtime-finished-64-launches',
      {
        event_label: 'runtime_finished',
        cid: v1Cid,
        session_id: v1Session,
        os: 'windows',
        arch: 'x86_64',
        release: '0.2.8',
        run_kind: 'benchmark',
        payload: finishedPayload<ProviderTelemetryV1>({
          durationUs,
          success: true,
          jitEnabled: true,
          jitUsed: true,
          accelerateEnabled: true,
          timestampMs: v1Start + Math.ceil(durationUs / 1000) + 12,
          counters: { total_executions: 40, jit_compiled: 40, interpreter_fallback: 0 },
          provider: snap,
        }),
      },
      SRC.legacyV1,
    );
  }
  add(
    'cli-0.2.8-runtime-finished-runtime-error-class',
    {
      event_label: 'runtime_finished',
      cid: rng.uuidV4(),
      session_id: rng.uuidV4(),
      os: 'linux',
      arch: 'x86_64',
      release: '0.2.8',
      run_kind: 'script',
      payload: finishedPayload<ProviderTelemetryV1>({
        durationUs: 5_120,
        success: false,
        jitEnabled: true,
        jitUsed: false,
        accelerateEnabled: false,
        timestampMs: v1Start + 3_600_000,
        error: 'runtime_error',
        provider: {
          device: inProcessDevice(0),
          telemetry: {
            fused_elementwise: { count: 0, total_wall_time_ns: 0 },
            fused_reduction: { count: 0, total_wall_time_ns: 0 },
            matmul: { count: 0, total_wall_time_ns: 0 },
            upload_bytes: 0,
            download_bytes: 0,
            fusion_cache_hits: 0,
            fusion_cache_misses: 0,
            bind_group_cache_hits: 0,
            bind_group_cache_misses: 0,
            bind_group_cache_by_layout: null,
            kernel_launches: [],
          },
        },
      }),
    },
    SRC.legacyV1,
  );
}

// ---------------------------------------------------------------------------
// Installer events
// ---------------------------------------------------------------------------

interface InstallRun {
  cid: string | null;
  sessionId: string;
  os: string;
  arch: string;
  platform: string;
  method: 'shell' | 'powershell';
}

function addInstallers(b: CorpusBuilder): void {
  const { rng } = b;
  const add = (name: string, body: Record<string, unknown>, source: string) =>
    b.add({ name, class: 'installer', transport: 'http', body, expect: expectOf(body), source });

  // `uuidgen` prints upper case on macOS and lower case on Linux; python3's
  // uuid4 is lower case; with neither, "$(date +%s)-$RANDOM".
  const macId = () => rng.uuidV4().toUpperCase();
  const linuxId = () => rng.uuidV4();
  const epochId = () => `${Math.floor(b.tick() / 1000)}-${rng.int(0, 32767)}`;

  /** install.sh @d7c3227: the literal key order of its --data string. */
  const shCamel = (event: string, r: InstallRun, release: string, uuid: string) => ({
    event,
    eventLabel: event,
    distinctId: r.cid,
    uuid,
    sessionId: r.sessionId,
    runKind: 'install',
    os: r.os,
    arch: r.arch,
    release,
    method: 'shell',
    source: 'website-install-script',
    payload: { platform: r.platform },
    properties: {},
    context: {},
  });
  /** install.ps1 @d7c3227: a hashtable, so ConvertTo-Json's key order is unspecified. */
  const ps1Camel = (event: string, r: InstallRun, release: string) => {
    const entries = rng.shuffle(
      Object.entries({
        event,
        eventLabel: event,
        distinctId: r.cid,
        uuid: rng.uuidV4(),
        sessionId: r.sessionId,
        runKind: 'install',
        os: r.os,
        arch: r.arch,
        release,
        method: 'powershell',
        source: 'website-install-script',
        payload: { platform: r.platform },
        properties: {},
        context: {},
      }),
    );
    return Object.fromEntries(entries);
  };

  // --- install.sh, camelCase envelope. Start is sent before the release is
  // fetched, so its release is always "unknown".
  const macArm: InstallRun = {
    cid: macId(),
    sessionId: macId(),
    os: 'darwin',
    arch: 'arm64',
    platform: 'macos-aarch64',
    method: 'shell',
  };
  add(
    'install-sh-start-darwin-arm64',
    shCamel('install.start', macArm, 'unknown', macId()),
    SRC.shCamel,
  );
  add(
    'install-sh-completed-darwin-arm64',
    shCamel('install.completed', macArm, 'v0.4.1', macId()),
    SRC.shCamel,
  );
  const macIntel: InstallRun = {
    // telemetry_id written earlier by the Rust CLI: lower case, unlike the ids uuidgen prints.
    cid: rng.uuidV4(),
    sessionId: macId(),
    os: 'darwin',
    arch: 'x86_64',
    platform: 'macos-x86_64',
    method: 'shell',
  };
  add(
    'install-sh-start-darwin-x86_64',
    shCamel('install.start', macIntel, 'unknown', macId()),
    SRC.shCamel,
  );
  add(
    'install-sh-completed-darwin-x86_64',
    shCamel('install.completed', macIntel, 'v0.4.1', macId()),
    SRC.shCamel,
  );
  // The ERR trap fires on a failing command under `set -e` (not on the
  // script's own error(), which exits): before the release fetch the release
  // is "unknown", after it the tag.
  add(
    'install-sh-failed-darwin-arm64-release-unknown',
    shCamel('install.failed', { ...macArm, sessionId: macId() }, 'unknown', macId()),
    SRC.shCamel,
  );
  const linux: InstallRun = {
    cid: linuxId(),
    sessionId: linuxId(),
    os: 'linux',
    arch: 'x86_64',
    platform: 'linux-x86_64',
    method: 'shell',
  };
  add(
    'install-sh-start-linux-x86_64',
    shCamel('install.start', linux, 'unknown', linuxId()),
    SRC.shCamel,
  );
  add(
    'install-sh-completed-linux-x86_64',
    shCamel('install.completed', linux, 'v0.4.1', linuxId()),
    SRC.shCamel,
  );
  add(
    'install-sh-failed-linux-x86_64-after-release-fetch',
    shCamel('install.failed', { ...linux, sessionId: linuxId() }, 'v0.4.1', linuxId()),
    SRC.shCamel,
  );
  // GitHub API unreachable: the script falls back to "v0.0.1".
  add(
    'install-sh-completed-linux-fallback-release',
    shCamel('install.completed', { ...linux, sessionId: linuxId() }, 'v0.0.1', linuxId()),
    SRC.shCamel,
  );
  // No uuidgen and no python3: every id is "<epoch>-<RANDOM>".
  {
    const r: InstallRun = { ...linux, cid: epochId(), sessionId: epochId() };
    add(
      'install-sh-start-linux-epoch-random-ids',
      shCamel('install.start', r, 'unknown', epochId()),
      SRC.shCamel,
    );
  }
  // An empty ~/.runmat/telemetry_id: `cat` prints nothing, distinctId is "".
  add(
    'install-sh-completed-linux-empty-distinct-id',
    shCamel('install.completed', { ...linux, cid: '', sessionId: linuxId() }, 'v0.6.1', linuxId()),
    SRC.shCamel,
  );

  // --- install.ps1, camelCase envelope. No failure event exists in this script.
  const winX64: InstallRun = {
    cid: rng.uuidV4(),
    sessionId: rng.uuidV4(),
    os: 'windows',
    arch: 'AMD64',
    platform: 'windows-x86_64',
    method: 'powershell',
  };
  add(
    'install-ps1-start-windows-amd64',
    ps1Camel('install.start', winX64, 'unknown'),
    SRC.ps1Camel,
  );
  add(
    'install-ps1-completed-windows-amd64',
    ps1Camel('install.completed', winX64, 'v0.4.1'),
    SRC.ps1Camel,
  );
  const winArm: InstallRun = {
    ...winX64,
    cid: rng.uuidV4(),
    sessionId: rng.uuidV4(),
    arch: 'ARM64',
    platform: 'windows-aarch64',
  };
  add(
    'install-ps1-start-windows-arm64',
    ps1Camel('install.start', winArm, 'unknown'),
    SRC.ps1Camel,
  );
  add(
    'install-ps1-completed-windows-arm64',
    ps1Camel('install.completed', winArm, 'v0.4.1'),
    SRC.ps1Camel,
  );
  // An empty telemetry_id file: Get-Content returns $null, ConvertTo-Json writes null.
  add(
    'install-ps1-start-null-distinct-id',
    ps1Camel('install.start', { ...winX64, cid: null, sessionId: rng.uuidV4() }, 'unknown'),
    SRC.ps1Camel,
  );
  // Creating the id file threw: "anon-" + (Get-Random).
  add(
    'install-ps1-completed-anon-distinct-id',
    ps1Camel(
      'install.completed',
      { ...winX64, cid: `anon-${rng.int(0, 2_147_483_646)}`, sessionId: rng.uuidV4() },
      'v0.4.1',
    ),
    SRC.ps1Camel,
  );

  // --- The flat shape (install.sh / install.ps1 @58dcbcb).
  const flat = (event: string, r: InstallRun, release: string) => ({
    event,
    os: r.os,
    arch: r.arch,
    platform: r.platform,
    release,
    method: r.method,
    cid: r.cid,
  });
  const flatMac = { ...macArm, cid: macId() };
  add('install-flat-sh-start', flat('install_start', flatMac, 'unknown'), SRC.shFlat);
  add('install-flat-sh-complete', flat('install_complete', flatMac, 'v0.0.2'), SRC.shFlat);
  add(
    'install-flat-sh-failed',
    flat('install_failed', { ...linux, cid: linuxId() }, 'v0.0.2'),
    SRC.shFlat,
  );
  const flatWin = { ...winX64, cid: rng.uuidV4() };
  // ConvertTo-Json of a hashtable: unspecified key order.
  add(
    'install-flat-ps1-start',
    Object.fromEntries(rng.shuffle(Object.entries(flat('install_start', flatWin, 'unknown')))),
    SRC.ps1Flat,
  );
  add(
    'install-flat-ps1-complete',
    Object.fromEntries(rng.shuffle(Object.entries(flat('install_complete', flatWin, 'v0.0.2')))),
    SRC.ps1Flat,
  );

  // --- The older page's field list: event_label, no session id.
  const labelled = (event: string, r: InstallRun, release: string) => ({
    event_label: event,
    os: r.os,
    arch: r.arch,
    platform: r.platform,
    release,
    method: r.method,
    cid: r.cid,
  });
  const labMac = { ...macArm, cid: macId() };
  add('install-label-sh-start', labelled('install_start', labMac, 'unknown'), SRC.shLabel);
  add('install-label-sh-complete', labelled('install_complete', labMac, 'v0.2.7'), SRC.shLabel);
  add(
    'install-label-sh-failed',
    labelled('install_failed', { ...linux, cid: linuxId() }, 'v0.2.7'),
    SRC.shLabel,
  );
  add(
    'install-label-ps1-complete',
    Object.fromEntries(
      rng.shuffle(
        Object.entries(labelled('install_complete', { ...winX64, cid: rng.uuidV4() }, 'v0.2.7')),
      ),
    ),
    SRC.ps1Label,
  );

  // --- event_label plus session_id and run_kind (Dec 2025 – Mar 2026).
  const sessioned = (event: string, r: InstallRun, release: string) => ({
    ...labelled(event, r, release),
    session_id: r.sessionId,
    run_kind: 'install',
  });
  const sesLinux = { ...linux, cid: linuxId(), sessionId: linuxId() };
  add('install-session-sh-start', sessioned('install_start', sesLinux, 'unknown'), SRC.shSession);
  add(
    'install-session-sh-complete',
    sessioned('install_complete', sesLinux, 'v0.2.8'),
    SRC.shSession,
  );
  add(
    'install-session-ps1-complete-arm64',
    Object.fromEntries(
      rng.shuffle(
        Object.entries(
          sessioned(
            'install_complete',
            { ...winArm, cid: rng.uuidV4(), sessionId: rng.uuidV4() },
            'v0.2.8',
          ),
        ),
      ),
    ),
    SRC.ps1Session,
  );
}

/**
 * Builds the corpus: every runtime and installer shape RunMat's public hosts
 * have sent, with seeded ids and values. Pure and deterministic.
 */
export function buildCorpus(): CorpusCase[] {
  const b = new CorpusBuilder();
  // Runs that get both a started and a finished event (same session and cid).
  const runs: Record<string, Run> = {
    macScript: b.run({ platform: P.macArm, runKind: 'script' }),
    linuxScript: b.run({ platform: P.linux, runKind: 'script' }),
    windowsScript: b.run({ platform: P.windows, runKind: 'script' }),
    macIntelRepl: b.run({ platform: P.macIntel, runKind: 'repl', release: '0.5.6' }),
    linuxReplCpu: b.run({ platform: P.linux, runKind: 'repl', accelerateEnabled: false }),
    linuxBench: b.run({ platform: P.linux, runKind: 'benchmark' }),
  };
  addStartedEvents(b, runs);
  addWgpuFinished(b, runs);
  addInProcessFinished(b, runs);
  addFailures(b);
  addDiagnosticErrors(b);
  addPreSolveCanonical(b);
  addLegacy(b);
  addInstallers(b);
  return b.cases;
}
