import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CANONICAL_FINISHED_EXAMPLE, INSTALL_COMPLETE_EXAMPLE } from './examples.js';
import { analyticsNameOf, FIELD_POLICY, renderFieldPolicyTable } from './field-policy.js';
import { deviceName, vendor } from './field-types.js';
import { normalizeEvent } from './normalize-event.js';
import { type FieldFix, parseEvent } from './parse-event.js';

const RECEIVED_AT = 1_779_000_000_000;

function accept(input: unknown) {
  const r = parseEvent(structuredClone(input));
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.error)}`);
  return { ...r, normalized: normalizeEvent(r.event, { receivedAt: RECEIVED_AT }) };
}

const finished = (payload: Record<string, unknown>) => ({
  ...CANONICAL_FINISHED_EXAMPLE,
  payload: { ...CANONICAL_FINISHED_EXAMPLE.payload, ...payload },
});
const withDevice = (device: Record<string, unknown>) =>
  finished({ provider: { device: { device_id: 0, memory_bytes: null, ...device } } });

const fix = (field: string, reason: FieldFix['reason']): FieldFix => ({ field, reason });

describe('device names as drivers report them', () => {
  it.each([
    ['AMD Radeon™ 780M Graphics', 'AMD Radeon 780M Graphics'],
    [
      'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)',
      'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)',
    ],
    ['NVIDIA GeForce GTX 1050/PCIe/SSE2', 'NVIDIA GeForce GTX 1050 PCIe SSE2'],
    ['Intel(R) UHD Graphics 630', 'Intel(R) UHD Graphics 630'],
    ['llvmpipe (LLVM 15.0.6, 256 bits)', 'llvmpipe (LLVM 15.0.6, 256 bits)'],
    ['Apple M2 Max', 'Apple M2 Max'],
    ['  Radeon\u00ae Pro W7900  ', 'Radeon Pro W7900'],
    ['GeForce\tRTX\n4090', 'GeForce RTX 4090'],
    ['C:\\Windows\\System32\\nvapi.dll', 'C: Windows System32 nvapi.dll'],
    ['Caf\u00e9 GPU', 'Cafe GPU'],
  ])('%j becomes %j and the event is kept', (raw, expected) => {
    const r = accept(withDevice({ name: raw, vendor: 'NVIDIA', backend: 'vulkan' }));
    expect(r.normalized.properties.gpu_device_name).toBe(expected);
    const changed = r.fixes.some((f) => f.field === 'payload.provider.device.name');
    expect(changed).toBe(raw !== expected);
  });

  it('drops an empty or unprintable name and keeps the rest of the device', () => {
    for (const name of ['', '™', '   ', '\u0000\u0001']) {
      const r = accept(withDevice({ name, vendor: 'NVIDIA', backend: 'vulkan' }));
      expect(r.normalized.properties.gpu_device_name).toBeUndefined();
      expect(r.normalized.properties.gpu_device_vendor).toBe('NVIDIA');
      expect(r.fixes).toContainEqual(fix('payload.provider.device.name', 'invalid_string'));
    }
  });

  it('cuts a long name to 96 characters and never returns an empty one', () => {
    const checked = deviceName.check(`GPU ${'x'.repeat(200)}`);
    expect(checked.ok && checked.value.length).toBe(96);
    expect(deviceName.check('x'.repeat(10_000)).ok).toBe(false);
  });

  it('maps PCI vendor ids to names', () => {
    for (const [raw, name] of [
      ['4318', 'NVIDIA'],
      ['0x10de', 'NVIDIA'],
      [4098, 'AMD'],
      ['0x8086', 'Intel'],
      ['Apple', 'Apple'],
    ] as const) {
      const checked = vendor.check(raw);
      expect(checked.ok && checked.value).toBe(name);
    }
    expect(vendor.check('__proto__').ok).toBe(true);
    expect(vendor.check('constructor').ok && vendor.check('constructor')).toMatchObject({
      value: 'constructor',
    });
  });

  it('lower-cases the backend and treats null (the in-process provider) as absent', () => {
    const r = accept(withDevice({ name: 'RunMat In-Process', vendor: 'RunMat', backend: null }));
    expect(r.normalized.properties.gpu_backend).toBeUndefined();
    expect(accept(withDevice({ backend: 'Vulkan' })).normalized.properties.gpu_backend).toBe(
      'vulkan',
    );
  });
});

describe('the Rust runtime provider snapshot', () => {
  const stats = (count: number, total_wall_time_ns: number) => ({ count, total_wall_time_ns });
  const snapshot = {
    device: {
      device_id: 1,
      name: 'NVIDIA GeForce RTX 4090',
      vendor: 'NVIDIA',
      memory_bytes: 25_757_220_864,
      backend: 'vulkan',
    },
    telemetry: {
      fused_elementwise: stats(7, 1_000),
      fused_reduction: stats(2, 500),
      matmul: stats(3, 2_500),
      linsolve: stats(1, 99),
      mldivide: stats(0, 0),
      mrdivide: stats(0, 0),
      upload_bytes: 4096,
      download_bytes: 1024,
      solve_fallbacks: [{ reason: 'singular', count: 1 }],
      fusion_cache_hits: 5,
      fusion_cache_misses: 1,
      bind_group_cache_hits: 10,
      bind_group_cache_misses: 2,
      bind_group_cache_by_layout: [{ layout: 'layout#3', hits: 4, misses: 1 }],
      kernel_launches: Array.from({ length: 64 }, (_, i) => ({
        kernel: `fused_elementwise_${i}`,
        precision: 'f32',
        shape: [{ key: 'n', value: 1024 }],
        tuning: [{ key: 'wg', value: 256 }],
      })),
    },
  };
  const rustFinished = () => {
    const {
      gpu_wall_ns: _w,
      gpu_dispatches: _d,
      gpu_upload_bytes: _u,
      gpu_download_bytes: _dl,
      fusion_cache_hits: _h,
      fusion_cache_misses: _m,
      gpu_ratio: _r,
      fusion_hit_ratio: _f,
      ...payload
    } = CANONICAL_FINISHED_EXAMPLE.payload;
    return { ...CANONICAL_FINISHED_EXAMPLE, payload: { ...payload, provider: snapshot } };
  };

  it('is accepted whole and projected to the allowlist', () => {
    const r = accept(rustFinished());
    expect(r.normalized.properties).toMatchObject({
      gpu_dispatches: 12,
      gpu_wall_ns: 4_000,
      gpu_upload_bytes: 4096,
      gpu_download_bytes: 1024,
      fusion_cache_hits: 5,
      fusion_cache_misses: 1,
      gpu_matmul_dispatches: 3,
      gpu_fused_elementwise_dispatches: 7,
      gpu_fused_reduction_dispatches: 2,
      gpu_device_name: 'NVIDIA GeForce RTX 4090',
      gpu_device_vendor: 'NVIDIA',
      gpu_backend: 'vulkan',
    });
    const text = JSON.stringify(r.event);
    for (const secret of ['memory_bytes', 'device_id', 'kernel_launches', 'layout#3', 'singular']) {
      expect(text).not.toContain(secret);
    }
    expect(r.fixes.filter((f) => f.reason === 'not_forwarded').map((f) => f.field)).toEqual([
      'payload.provider.device.device_id',
      'payload.provider.device.memory_bytes',
      'payload.provider.telemetry.solve_fallbacks',
      'payload.provider.telemetry.bind_group_cache_hits',
      'payload.provider.telemetry.bind_group_cache_misses',
      'payload.provider.telemetry.bind_group_cache_by_layout',
      'payload.provider.telemetry.kernel_launches',
    ]);
  });

  it('keeps flat figures the event carries over the snapshot sums', () => {
    const event = rustFinished();
    const r = accept({ ...event, payload: { ...event.payload, gpu_dispatches: 99 } });
    expect(r.normalized.properties.gpu_dispatches).toBe(99);
  });

  it('does not sum when a category count is invalid, and drops only that field', () => {
    const event = rustFinished();
    const telemetry = { ...snapshot.telemetry, matmul: stats(-3, 10) };
    const r = accept({
      ...event,
      payload: { ...event.payload, provider: { ...snapshot, telemetry } },
    });
    expect(r.normalized.properties.gpu_dispatches).toBeUndefined();
    expect(r.normalized.properties.gpu_fused_elementwise_dispatches).toBe(7);
    expect(r.fixes).toContainEqual(fix('payload.provider.telemetry.matmul.count', 'out_of_range'));
  });

  it('drops a provider that is not an object and keeps the event', () => {
    const r = accept(finished({ provider: 'NVIDIA' }));
    expect(r.fixes).toContainEqual(fix('payload.provider', 'wrong_type'));
  });
});

describe('failure buckets', () => {
  it('normalizes an unknown stage to unknown and drops an unknown component or host', () => {
    const r = accept(
      finished({
        'runtime.failure.stage': 'Semantic',
        'runtime.failure.component': 'quantum',
        'runtime.failure.host': 'toaster',
      }),
    );
    expect(r.normalized.properties['runtime.failure.stage']).toBe('unknown');
    expect(r.normalized.properties['runtime.failure.component']).toBeUndefined();
    expect(r.normalized.properties['runtime.failure.host']).toBeUndefined();
    expect(r.normalized.properties['runtime.failure.code']).toBe('RunMat:IndexOutOfBounds');
    expect(r.fixes).toEqual(
      expect.arrayContaining([
        fix('payload.runtime.failure.stage', 'normalized'),
        fix('payload.runtime.failure.component', 'invalid_value'),
        fix('payload.runtime.failure.host', 'invalid_value'),
      ]),
    );
  });

  it('keeps every stage, component and host the runtime sends', () => {
    for (const stage of ['parser', 'hir', 'compile', 'runtime', 'unknown']) {
      for (const component of ['unknown', 'name_resolution', 'typecheck', 'io', 'internal']) {
        const r = accept(
          finished({ 'runtime.failure.stage': stage, 'runtime.failure.component': component }),
        );
        expect(r.fixes).toEqual([]);
      }
    }
  });
});

describe('envelope vocabulary', () => {
  it('canonicalizes os, arch and release, and accepts `event` for `event_label`', () => {
    const { event_label, ...rest } = CANONICAL_FINISHED_EXAMPLE;
    const r = accept({
      ...rest,
      event: event_label,
      os: 'Darwin',
      arch: 'arm64',
      release: 'v0.4.1',
    });
    expect(r.normalized.properties).toMatchObject({
      os: 'macos',
      arch: 'aarch64',
      release: '0.4.1',
    });
    expect(r.event.event_label).toBe('runtime.run.finished');
  });

  it('drops os, arch or release outside their bound and keeps the run', () => {
    const r = accept({ ...CANONICAL_FINISHED_EXAMPLE, os: '/home/alice', release: 'x'.repeat(65) });
    expect(r.normalized.properties.os).toBeUndefined();
    expect(r.normalized.properties.release).toBeUndefined();
    expect(r.fixes).toEqual([fix('os', 'invalid_string'), fix('release', 'invalid_string')]);
  });

  it('accepts runtime events without os and arch (the Rust envelope skips them when unknown)', () => {
    const { os: _o, arch: _a, ...rest } = CANONICAL_FINISHED_EXAMPLE;
    expect(accept(rest).fixes).toEqual([]);
  });

  it('still refuses what identifies an event', () => {
    const refused = (input: unknown) => {
      const r = parseEvent(input);
      return r.ok ? 'accepted' : `${r.error.code} ${r.error.path}`;
    };
    const { uuid: _u, ...noUuid } = CANONICAL_FINISHED_EXAMPLE;
    expect(refused(noUuid)).toBe('missing_field /uuid');
    expect(refused({ ...CANONICAL_FINISHED_EXAMPLE, uuid: 'nope' })).toBe('invalid_string /uuid');
    expect(refused({ ...CANONICAL_FINISHED_EXAMPLE, cid: 'a b' })).toBe('invalid_string /cid');
    expect(refused({ ...CANONICAL_FINISHED_EXAMPLE, run_kind: 'notebook' })).toBe(
      'invalid_value /run_kind',
    );
    expect(refused({ ...CANONICAL_FINISHED_EXAMPLE, payload: [] })).toBe('wrong_type /payload');
    expect(refused({ ...CANONICAL_FINISHED_EXAMPLE, event_label: 'runtime.run.paused' })).toBe(
      'unknown_event /event_label',
    );
    expect(refused(finished({ success: 1 }))).toBe('wrong_type /payload/success');
  });
});

describe('installer shapes', () => {
  const sessionId = '0b3c6f4e-8f7a-4c1d-9e2b-5a6d7c8e9f01';
  const cid = 'eac98648-3b42-41c7-a887-7452dd08cbf0';

  it('normalizes the camelCase envelope of install.sh and install.ps1', () => {
    const r = accept({
      event: 'install.completed',
      eventLabel: 'install.completed',
      distinctId: cid,
      uuid: '5F0E5D1C-2B7A-4C39-8D51-0A6F3E9B2C47',
      sessionId,
      runKind: 'install',
      os: 'windows',
      arch: 'AMD64',
      release: 'v0.4.1',
      method: 'powershell',
      payload: { platform: 'windows-x86_64' },
    });
    expect(r.normalized).toMatchObject({
      event: 'install_complete',
      uuid: '5f0e5d1c-2b7a-4c39-8d51-0a6f3e9b2c47',
      distinct_id: cid,
      properties: {
        os: 'windows',
        arch: 'x86_64',
        release: '0.4.1',
        platform: 'windows-x86_64',
        method: 'powershell',
        run_kind: 'install',
        session_id: sessionId,
      },
    });
  });

  it('accepts the flat shape and the older page field list without a session id', () => {
    const flat = {
      event: 'install_start',
      os: 'darwin',
      arch: 'arm64',
      platform: 'macos-aarch64',
      release: 'unknown',
      method: 'shell',
      cid,
    };
    const page = {
      event_label: 'install_failed',
      os: 'linux',
      arch: 'x86_64',
      platform: 'linux-x86_64',
      release: '0.4.1',
      method: 'shell',
      cid,
    };
    expect(accept(flat).normalized).toMatchObject({ event: 'install_start', distinct_id: cid });
    expect(accept(page).normalized.properties).toMatchObject({ os: 'linux', release: '0.4.1' });
  });

  it('derives one uuid for the same installer event sent twice, another for another event', () => {
    const page = {
      event_label: 'install_start',
      os: 'linux',
      arch: 'x86_64',
      platform: 'linux-x86_64',
      release: '0.4.1',
      method: 'shell',
      cid,
    };
    const a = accept(page).normalized.uuid;
    expect(accept({ ...page, os: 'Linux' }).normalized.uuid).toBe(a);
    expect(accept({ ...page, event_label: 'install_complete' }).normalized.uuid).not.toBe(a);
    expect(accept({ ...page, cid: 'another-machine' }).normalized.uuid).not.toBe(a);
  });

  it('refuses an installer event that nothing identifies, or with another run kind', () => {
    const { cid: _c, session_id: _s, ...anonymous } = INSTALL_COMPLETE_EXAMPLE;
    const r = parseEvent(anonymous);
    expect(r.ok || r.error).toMatchObject({ code: 'missing_field', path: '/session_id' });
    const k = parseEvent({ ...INSTALL_COMPLETE_EXAMPLE, run_kind: 'script' });
    expect(k.ok || k.error.code).toBe('invalid_value');
  });

  it('drops an unknown method instead of refusing the install', () => {
    const r = accept({ ...INSTALL_COMPLETE_EXAMPLE, method: 'homebrew' });
    expect(r.normalized.properties.method).toBeUndefined();
    expect(r.fixes).toEqual([fix('method', 'invalid_value')]);
  });
});

describe('the policy table', () => {
  it('is what the schema README shows', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('<!-- field-policy:start -->');
    const end = readme.indexOf('<!-- field-policy:end -->');
    expect(start, 'README has the field-policy markers').toBeGreaterThan(0);
    // Compared cell by cell: the formatter pads the columns.
    const cells = (table: string) =>
      table
        .trim()
        .split('\n')
        .map((row) => row.split(/(?<!\\)\|/).map((c) => c.trim().replace(/^-{3,}$/, '---')));
    const shown = readme.slice(start + '<!-- field-policy:start -->'.length, end);
    expect(cells(shown), 'run `pnpm --filter @runmat-telemetry/schema docs`').toEqual(
      cells(renderFieldPolicyTable()),
    );
  });

  it('forwards only allowlisted places', () => {
    for (const p of FIELD_POLICY) {
      if (p.to === undefined) continue;
      expect(p.to).not.toMatch(/device_id|memory_bytes|kernel|layout|solve_fallbacks/);
    }
  });
});

describe('what real installers got wrong', () => {
  it('treats an empty distinctId (an empty id file) as absent and keeps the event', () => {
    const r = accept({
      event: 'install.start',
      eventLabel: 'install.start',
      distinctId: '',
      uuid: '6a1c2e0f-5b4d-4e3a-9f8b-7c6d5e4f3a2b',
      sessionId: '2f1e0d9c-8b7a-4c5d-9e3f-1a2b3c4d5e6f',
      runKind: 'install',
      os: 'darwin',
      arch: 'arm64',
      release: 'unknown',
      method: 'shell',
      source: 'website-install-script',
      payload: { platform: 'macos-aarch64' },
      properties: {},
      context: {},
    });
    expect(r.normalized.distinct_id).toMatch(/^s_[0-9a-f]{32}$/);
    expect(r.fixes).toEqual(
      expect.arrayContaining([
        fix('distinctId', 'invalid_string'),
        fix('source', 'not_forwarded'),
        fix('properties', 'not_forwarded'),
        fix('context', 'not_forwarded'),
      ]),
    );
    expect(r.fixes.some((f) => f.reason === 'unknown_field')).toBe(false);
  });
});

describe('analyticsNameOf', () => {
  it('names what normalizeEvent really produces for every kept field', () => {
    // The examples plus the fields they lack: every kept field of the policy.
    const finishedEvent = structuredClone(CANONICAL_FINISHED_EXAMPLE) as Record<string, unknown>;
    const payload = finishedEvent.payload as Record<string, unknown>;
    payload.gpu_matmul_dispatches = 1;
    payload.gpu_fused_elementwise_dispatches = 2;
    payload.gpu_fused_reduction_dispatches = 3;
    payload.provider = { device: { name: 'GPU', vendor: 'NVIDIA', backend: 'vulkan' } };
    const n = accept(finishedEvent).normalized;
    const install = accept(INSTALL_COMPLETE_EXAMPLE).normalized;
    const produced = new Set([
      ...Object.keys(n.properties),
      ...Object.keys(install.properties),
      'uuid',
      'distinct_id',
      'timestamp',
    ]);
    for (const p of FIELD_POLICY) {
      if (p.to === undefined) continue;
      expect(produced.has(analyticsNameOf(p.to)), `${p.field} → ${analyticsNameOf(p.to)}`).toBe(
        true,
      );
    }
  });
});
