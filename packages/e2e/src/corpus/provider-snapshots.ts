/**
 * Provider snapshots as RunMat's providers produce them: the wgpu provider's
 * counters and 64-entry kernel launch log, and the in-process provider's
 * mostly-empty telemetry. Kernel names, shape and tuning keys are the literal
 * ones recorded in crates/runmat-accelerate/src/backend/wgpu/provider/
 * (helpers.rs, ops/telemetry.rs, ops/solve.rs); values are realistic, seeded.
 */
import { canonicalVendorName } from './rust-behaviour.js';
import type {
  ApiDeviceInfo,
  BindGroupLayoutTelemetry,
  KernelLaunchTelemetry,
  ProviderDispatchStats,
  ProviderSnapshot,
  ProviderTelemetry,
  ProviderTelemetryV1,
} from './rust-shapes.js';
import type { SeededRandom } from './seeded-random.js';

/** crates/runmat-accelerate/src/telemetry.rs `MAX_KERNEL_LAUNCH_EVENTS`. */
export const MAX_KERNEL_LAUNCH_EVENTS = 64;

/** `format!("{:?}", wgpu::Backend).to_ascii_lowercase()` for the native backends. */
export type WgpuBackend = 'vulkan' | 'metal' | 'dx12' | 'gl';

/** What `wgpu::AdapterInfo` and the adapter limits give the provider. */
export interface AdapterSpec {
  /** `AdapterInfo::name`, verbatim from the driver. */
  name: string;
  /** `AdapterInfo::vendor` (PCI id; 0 on Metal and for unrecognised GL vendors). */
  vendorId: number;
  backend: WgpuBackend;
  /** `Limits::max_buffer_size`, reported as `memory_bytes`. */
  maxBufferSize: number;
  /** `precision_tag()`: f32 unless forced to f64 on an adapter with SHADER_F64. */
  precision: 'f32' | 'f64';
  /** `effective_workgroup_size()` (512 unless clamped by adapter limits or RUNMAT_WG). */
  wg: number;
  /** Default reduction workgroup size. */
  reductionWg: number;
  /** Heap-address style for untagged `layout_ptr_0x…` bind group tags. */
  pointerStyle: 'macos' | 'linux' | 'windows';
}

export function wgpuDevice(adapter: AdapterSpec, deviceId = 1): ApiDeviceInfo {
  return {
    device_id: deviceId,
    name: adapter.name,
    vendor: canonicalVendorName(adapter.name, adapter.vendorId),
    memory_bytes: adapter.maxBufferSize > 0 ? adapter.maxBufferSize : null,
    backend: adapter.backend,
  };
}

/** crates/runmat-accelerate/src/simple_provider.rs `device_info_struct`. */
export function inProcessDevice(deviceId = 1): ApiDeviceInfo {
  return {
    device_id: deviceId,
    name: 'InProcess',
    vendor: 'RunMat',
    memory_bytes: null,
    backend: 'inprocess',
  };
}

/** The kernel names the wgpu provider records (literal `&'static str`s at its call sites). */
export type KernelKind =
  | 'fused_elementwise'
  | 'fused_elementwise_multi'
  | 'fused_reduction'
  | 'matmul'
  | 'linsolve_posdef_chol'
  | 'linsolve_tall_qr'
  | 'linsolve_wide_qr'
  | 'linsolve_triangular';

interface Launch {
  kind: KernelKind;
  entry: KernelLaunchTelemetry;
  wallNs: number;
  layout: string;
  uploadBytes: number;
}

const attrs = (pairs: [string, number][]) => pairs.map(([key, value]) => ({ key, value }));

function pointerTag(rng: SeededRandom, style: AdapterSpec['pointerStyle']): string {
  // `format!("layout_ptr_{:#x}", ptr)` of a heap address.
  const body =
    style === 'macos'
      ? `6000${rng.hex(8)}`
      : style === 'linux'
        ? `55${rng.pick(['5', 'd', 'e', 'f'])}${rng.hex(9)}`
        : `1${rng.pick(['d', 'e', 'f'])}${rng.hex(8)}`;
  return `layout_ptr_0x${body.replace(/.$/, '0')}`;
}

/** One launch, recorded exactly as the wgpu provider's record_* helpers shape it. */
function launch(
  rng: SeededRandom,
  kind: KernelKind,
  a: AdapterSpec,
  untagged: Record<string, string>,
  small = false,
  wide = false,
): Launch {
  const p = a.precision;
  const elem = p === 'f64' ? 8 : 4;
  const rank = rng.pick([2, 2, 2, 1, 3]);
  switch (kind) {
    case 'fused_elementwise':
    case 'fused_elementwise_multi': {
      const len = rng.pick([4096, 65536, 262144, 1048576, 1048576, 4194304, 16777216]);
      const inputs = rng.int(1, small ? 2 : wide ? 12 : 4);
      const shape: [string, number][] = [
        ['len', len],
        ['inputs', inputs],
        ['rank', rank],
      ];
      let layout = `runmat-fusion-layout-${inputs}`;
      if (kind === 'fused_elementwise_multi') {
        const outs = rng.int(2, 3);
        shape.push(['num_outputs', outs]);
        layout = `runmat-fusion-multi-layout-${inputs}-${outs}`;
      }
      return {
        kind,
        entry: { kernel: kind, precision: p, shape: attrs(shape), tuning: attrs([['wg', a.wg]]) },
        wallNs: Math.round((len / 1048576) * rng.int(60_000, 240_000) + rng.int(9_000, 40_000)),
        layout,
        uploadBytes: rng.next() < 0.04 ? len * elem : 0,
      };
    }
    case 'fused_reduction': {
      const reduceLen = rng.pick([256, 1024, 4096, 65536, 1048576]);
      const slices = rng.pick([1, 64, 1024, 4096]);
      const inputs = rng.int(1, 2);
      const twoPass = reduceLen * slices >= 262_144 && rng.next() < 0.5;
      return {
        kind,
        entry: {
          kernel: kind,
          precision: p,
          shape: attrs([
            ['reduce_len', reduceLen],
            ['slices', slices],
            ['rank', rank],
          ]),
          // flavor: Sum 0, Mean 1, CustomScale 2.
          tuning: attrs([
            ['wg', a.reductionWg],
            ['flavor', rng.pick([0, 0, 1, 1, 2])],
          ]),
        },
        wallNs: rng.int(35_000, 900_000),
        layout: twoPass
          ? rng.pick(['runmat-reduction-p1-bgl', 'runmat-reduction-p2-bgl'])
          : `runmat-reduction-layout-${inputs}`,
        uploadBytes: 0,
      };
    }
    case 'matmul': {
      const dims = small ? [8, 16, 32, 64] : [64, 128, 256, 512, 1024, 2048, 4096];
      const m = rng.pick(dims);
      const n = rng.pick(dims);
      const k = !small && rng.next() < 0.1 ? 16384 : rng.pick(dims);
      const vec4 = p === 'f32' && n % 4 === 0 && rng.next() < 0.8 ? 1 : 0;
      const chunked = k >= 16384 ? 1 : 0;
      untagged.matmul ??= pointerTag(rng, a.pointerStyle);
      return {
        kind,
        entry: {
          kernel: kind,
          precision: p,
          shape: attrs([
            ['m', m],
            ['n', n],
            ['k', k],
          ]),
          tuning: attrs([
            ['vec4', vec4],
            ['chunked', chunked],
          ]),
        },
        wallNs: Math.round(
          ((m * n * k) / 1e9) * rng.int(180_000, 900_000) + rng.int(40_000, 90_000),
        ),
        layout: untagged.matmul,
        uploadBytes: rng.next() < 0.08 ? (m * k + k * n) * elem : 0,
      };
    }
    case 'linsolve_posdef_chol':
    case 'linsolve_tall_qr':
    case 'linsolve_wide_qr':
    case 'linsolve_triangular': {
      const rows = rng.pick([32, 64, 128, 256, 512]);
      const rhs = rng.pick([1, 1, 4, 16]);
      const transpose = rng.next() < 0.2 ? 1 : 0;
      let shape: [string, number][];
      let tuning: [string, number][];
      let layout: string;
      if (kind === 'linsolve_posdef_chol') {
        shape = [
          ['rows', rows],
          ['rhs_cols', rhs],
          ['transpose', transpose],
        ];
        tuning = [
          ['method', 4],
          ['symmetric', 1],
        ];
        untagged.chol ??= pointerTag(rng, a.pointerStyle);
        layout = untagged.chol;
      } else if (kind === 'linsolve_triangular') {
        shape = [
          ['rows', rows],
          ['rhs_cols', rhs],
          ['steps', rows],
        ];
        tuning = [
          ['transpose', transpose],
          ['lower', rng.int(0, 1)],
        ];
        layout = 'runmat-triangular-solve-layout';
      } else {
        const tall = kind === 'linsolve_tall_qr';
        const cols = tall ? Math.max(8, rows / 4) : rows * 2;
        shape = [
          ['rows', rows],
          ['cols', cols],
          ['rhs_cols', rhs],
        ];
        tuning = [
          ['method', tall ? 2 : 3],
          ['transpose', transpose],
        ];
        untagged.qr ??= pointerTag(rng, a.pointerStyle);
        layout = untagged.qr;
      }
      return {
        kind,
        entry: { kernel: kind, precision: p, shape: attrs(shape), tuning: attrs(tuning) },
        wallNs: rng.int(900_000, 28_000_000),
        layout,
        uploadBytes: rng.next() < 0.5 ? rows * rows * elem : 0,
      };
    }
  }
}

function pickKind(
  rng: SeededRandom,
  withSolves: boolean,
  only?: readonly KernelKind[],
): KernelKind {
  if (only !== undefined) return rng.pick(only);
  const r = rng.next();
  if (r < 0.44) return 'fused_elementwise';
  if (r < 0.49) return 'fused_elementwise_multi';
  if (r < 0.75) return 'fused_reduction';
  if (r < 0.94 || !withSolves) return 'matmul';
  return rng.pick([
    'linsolve_posdef_chol',
    'linsolve_tall_qr',
    'linsolve_wide_qr',
    'linsolve_triangular',
  ] as const);
}

export interface WgpuRunOptions {
  /** Launches since the provider started; the log keeps the newest 64. */
  launches: number;
  /** Emit solve kernels and `solve_fallbacks` entries. */
  withSolves?: boolean;
  /** Extra download traffic (gather of results to host). */
  downloadBytes?: number;
  /** Restrict the workload to these kernels (e.g. a loop of reductions). */
  only?: readonly KernelKind[];
  /** Small matrices and few inputs: the smallest entries a full log can have. */
  small?: boolean;
  /** Fused expressions with up to 12 inputs: many distinct fusion layouts. */
  wide?: boolean;
}

/** The counters a run of `launches` kernels leaves in the wgpu provider, and its log. */
export function wgpuTelemetry(
  rng: SeededRandom,
  a: AdapterSpec,
  opts: WgpuRunOptions,
): ProviderTelemetry {
  const zero = (): ProviderDispatchStats => ({ count: 0, total_wall_time_ns: 0 });
  const stats = {
    fused_elementwise: zero(),
    fused_reduction: zero(),
    matmul: zero(),
    linsolve: zero(),
    mldivide: zero(),
    mrdivide: zero(),
  };
  const log: KernelLaunchTelemetry[] = [];
  const perLayout = new Map<string, { hits: number; misses: number }>();
  const fusedShaders = new Set<string>();
  const untagged: Record<string, string> = {};
  let fusedLaunches = 0;
  let upload = 0;
  const withSolves = opts.withSolves ?? false;

  for (let i = 0; i < opts.launches; i++) {
    const l = launch(
      rng,
      pickKind(rng, withSolves, opts.only),
      a,
      untagged,
      opts.small ?? false,
      opts.wide ?? false,
    );
    const cat =
      l.kind === 'fused_elementwise' || l.kind === 'fused_elementwise_multi'
        ? stats.fused_elementwise
        : l.kind === 'fused_reduction'
          ? stats.fused_reduction
          : l.kind === 'matmul'
            ? stats.matmul
            : stats.linsolve;
    cat.count += 1;
    cat.total_wall_time_ns += l.wallNs;
    if (l.kind.startsWith('fused')) {
      fusedLaunches += 1;
      // The fusion pipeline cache keys on the generated shader; loops reuse a few.
      fusedShaders.add(`${l.kind}:${l.layout}:${rng.int(0, 5)}`);
    }
    upload += l.uploadBytes;
    const counter = perLayout.get(l.layout) ?? { hits: 0, misses: 0 };
    // A bind group misses when it binds buffers not seen with this layout before.
    if (counter.hits + counter.misses === 0 || rng.next() < 0.12) counter.misses += 1;
    else counter.hits += 1;
    perLayout.set(l.layout, counter);
    if (log.length >= MAX_KERNEL_LAUNCH_EVENTS)
      log.splice(0, log.length + 1 - MAX_KERNEL_LAUNCH_EVENTS);
    log.push(l.entry);
  }

  // mldivide/mrdivide route through linsolve; a few of them are counted on their own.
  if (withSolves && stats.linsolve.count > 0) {
    stats.mldivide.count = Math.ceil(stats.linsolve.count / 2);
    stats.mldivide.total_wall_time_ns = Math.round(stats.linsolve.total_wall_time_ns * 0.55);
    stats.mrdivide.count = Math.floor(stats.linsolve.count / 5);
    stats.mrdivide.total_wall_time_ns = stats.mrdivide.count * rng.int(1_100_000, 6_000_000);
  }
  const solveFallbacks =
    withSolves && stats.linsolve.count > 0
      ? [
          {
            reason: 'linsolve:host_reupload',
            count: Math.max(1, Math.floor(stats.linsolve.count / 7)),
          },
          {
            reason: 'mldivide:host_reupload',
            count: Math.max(1, Math.floor(stats.mldivide.count / 4)),
          },
        ]
      : [];

  const fusionMisses = Math.min(fusedShaders.size, fusedLaunches);
  const byLayout: BindGroupLayoutTelemetry[] = rng
    .shuffle([...perLayout.entries()])
    .map(([tag, c]) => ({ tag, hits: c.hits, misses: c.misses }));

  return {
    ...stats,
    upload_bytes: upload,
    download_bytes:
      opts.downloadBytes ?? (opts.launches > 0 ? rng.pick([8, 4096, 262144, 4194304]) : 0),
    solve_fallbacks: solveFallbacks,
    fusion_cache_hits: fusedLaunches - fusionMisses,
    fusion_cache_misses: fusionMisses,
    bind_group_cache_hits: byLayout.reduce((s, e) => s + e.hits, 0),
    bind_group_cache_misses: byLayout.reduce((s, e) => s + e.misses, 0),
    bind_group_cache_by_layout: byLayout,
    kernel_launches: log,
  };
}

export function wgpuSnapshot(
  rng: SeededRandom,
  a: AdapterSpec,
  opts: WgpuRunOptions,
  deviceId = 1,
): ProviderSnapshot {
  return { device: wgpuDevice(a, deviceId), telemetry: wgpuTelemetry(rng, a, opts) };
}

/**
 * The in-process provider: `telemetry.snapshot(0, 0, 0, 0, None)`. It records
 * only upload/download bytes and the solve categories, never fused or matmul
 * counts or kernel launches, so its `gpu_dispatches` is always 0.
 */
export function inProcessSnapshot(
  rng: SeededRandom,
  opts: { solves: number; uploadBytes: number; downloadBytes: number; deviceId?: number },
): ProviderSnapshot {
  const solveStat = (n: number): ProviderDispatchStats => ({
    count: n,
    total_wall_time_ns: n === 0 ? 0 : n * rng.int(40_000, 2_500_000),
  });
  const mldivide = Math.floor(opts.solves / 2);
  const solveFallbacks = [];
  if (opts.solves > 0)
    solveFallbacks.push({ reason: 'linsolve:host_reupload', count: opts.solves });
  if (mldivide > 0) solveFallbacks.push({ reason: 'mldivide:host_reupload', count: mldivide });
  return {
    device: inProcessDevice(opts.deviceId ?? 1),
    telemetry: {
      fused_elementwise: { count: 0, total_wall_time_ns: 0 },
      fused_reduction: { count: 0, total_wall_time_ns: 0 },
      matmul: { count: 0, total_wall_time_ns: 0 },
      linsolve: solveStat(opts.solves),
      mldivide: solveStat(mldivide),
      mrdivide: solveStat(0),
      upload_bytes: opts.uploadBytes,
      download_bytes: opts.downloadBytes,
      solve_fallbacks: solveFallbacks,
      fusion_cache_hits: 0,
      fusion_cache_misses: 0,
      bind_group_cache_hits: 0,
      bind_group_cache_misses: 0,
      bind_group_cache_by_layout: null,
      kernel_launches: [],
    },
  };
}

/** The same snapshot as the pre-2026-04 struct (no solve categories, no fallbacks). */
export function toTelemetryV1(t: ProviderTelemetry): ProviderTelemetryV1 {
  return {
    fused_elementwise: t.fused_elementwise,
    fused_reduction: t.fused_reduction,
    matmul: t.matmul,
    upload_bytes: t.upload_bytes,
    download_bytes: t.download_bytes,
    fusion_cache_hits: t.fusion_cache_hits,
    fusion_cache_misses: t.fusion_cache_misses,
    bind_group_cache_hits: t.bind_group_cache_hits,
    bind_group_cache_misses: t.bind_group_cache_misses,
    bind_group_cache_by_layout: t.bind_group_cache_by_layout,
    // Before ea523783b the only logged kernels were these three.
    kernel_launches: t.kernel_launches.filter((k) => !k.kernel.startsWith('linsolve')),
  };
}
