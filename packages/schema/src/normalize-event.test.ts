import { describe, expect, it } from 'vitest';
import {
  CANONICAL_FINISHED_EXAMPLE,
  INSTALL_COMPLETE_EXAMPLE,
  LEGACY_FINISHED_EXAMPLE,
} from './examples.js';
import { toGa4Event } from './ga4-mapping.js';
import { distinctIdFromSession } from './hash-id.js';
import { normalizeEvent } from './normalize-event.js';
import { parseEvent } from './parse-event.js';
import { toPostHogEvent } from './posthog-mapping.js';

const RECEIVED_AT = 1_779_000_060_000;

function normalized(input: unknown, receivedAt = RECEIVED_AT) {
  const parsed = parseEvent(structuredClone(input));
  if (!parsed.ok) throw new Error(`${parsed.error.code} at ${parsed.error.path}`);
  return normalizeEvent(parsed.event, { receivedAt });
}

describe('normalizeEvent on the documented examples', () => {
  it('maps the canonical runtime.run.finished example exactly', () => {
    expect(normalized(CANONICAL_FINISHED_EXAMPLE)).toEqual({
      event: 'runtime.run.finished',
      wireName: 'runtime.run.finished',
      uuid: '63b4b9a8-5f2b-4cef-95c1-c6e2b8f6c04c',
      distinct_id: 'eac98648-3b42-41c7-a887-7452dd08cbf0',
      timestamp: 1_779_000_000_000,
      properties: {
        os: 'macos',
        arch: 'aarch64',
        release: '0.4.9',
        session_id: '9e2a9d9f-4e37-4090-a1fb-96cb2c6f9f3a',
        run_kind: 'script',
        duration_us: 4412,
        success: false,
        jit_enabled: true,
        jit_used: true,
        accelerate_enabled: true,
        error: 'RuntimeError',
        total_executions: 42,
        jit_compiled: 6,
        interpreter_fallback: 1,
        gpu_wall_ns: 1850000,
        gpu_dispatches: 12,
        gpu_upload_bytes: 262144,
        gpu_download_bytes: 0,
        fusion_cache_hits: 8,
        fusion_cache_misses: 1,
        gpu_ratio: 0.4193,
        fusion_hit_ratio: 0.8889,
        'runtime.failure.stage': 'runtime',
        'runtime.failure.code': 'RunMat:IndexOutOfBounds',
        'runtime.failure.has_span': true,
        'runtime.failure.host': 'cli',
        'runtime.failure.component': 'typecheck',
      },
    });
  });

  it('maps the legacy runtime_finished example with its NVIDIA provider exactly', () => {
    const n = normalized(LEGACY_FINISHED_EXAMPLE);
    expect(n).toEqual({
      event: 'runtime.run.finished',
      wireName: 'runtime_finished',
      uuid: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
      distinct_id: 'eac98648-3b42-41c7-a887-7452dd08cbf0',
      timestamp: RECEIVED_AT,
      properties: {
        os: 'macos',
        arch: 'aarch64',
        session_id: '9e2a9d9f-4e37-4090-a1fb-96cb2c6f9f3a',
        run_kind: 'script',
        duration_us: 4412,
        success: true,
        jit_enabled: true,
        jit_used: true,
        accelerate_enabled: true,
        gpu_wall_ns: 1850000,
        gpu_dispatches: 12,
        gpu_upload_bytes: 262144,
        gpu_download_bytes: 0,
        fusion_cache_hits: 8,
        fusion_cache_misses: 1,
        gpu_ratio: 1850000 / 4412000,
        fusion_hit_ratio: 8 / 9,
        gpu_device_name: 'NVIDIA RTX 4090',
        gpu_device_vendor: 'NVIDIA',
        gpu_backend: 'cuda',
      },
    });
  });
});

describe('normalizeEvent identity rules', () => {
  it('gives a legacy event sent twice the same uuid, and different events different ones', () => {
    const a = normalized(LEGACY_FINISHED_EXAMPLE, 1);
    const b = normalized(LEGACY_FINISHED_EXAMPLE, 2);
    const started = normalized({
      event_label: 'runtime_started',
      session_id: LEGACY_FINISHED_EXAMPLE.session_id,
      os: 'linux',
      arch: 'x86_64',
      run_kind: 'script',
      payload: { jit_enabled: true, accelerate_enabled: false },
    });
    expect(a.uuid).toBe(b.uuid);
    expect(started.uuid).not.toBe(a.uuid);
    expect(started.event).toBe('runtime.run.started');
  });

  it('hashes session_id into the distinct id when there is no cid', () => {
    const { cid: _cid, ...anonymous } = LEGACY_FINISHED_EXAMPLE;
    const n = normalized(anonymous);
    expect(n.distinct_id).toBe(distinctIdFromSession(LEGACY_FINISHED_EXAMPLE.session_id));
    expect(n.distinct_id).not.toContain(LEGACY_FINISHED_EXAMPLE.session_id);
    expect(n.distinct_id).toMatch(/^s_[0-9a-f]{32}$/);
  });

  it('trusts timestamp_ms only inside the sane window', () => {
    const at = (ts: number) =>
      normalized({
        ...CANONICAL_FINISHED_EXAMPLE,
        payload: { ...CANONICAL_FINISHED_EXAMPLE.payload, timestamp_ms: ts },
      }).timestamp;
    expect(at(RECEIVED_AT - 60_000)).toBe(RECEIVED_AT - 60_000);
    expect(at(RECEIVED_AT + 24 * 3600_000)).toBe(RECEIVED_AT);
    expect(at(RECEIVED_AT - 30 * 24 * 3600_000)).toBe(RECEIVED_AT);
  });

  it('keeps flat GPU figures over the legacy provider block', () => {
    const n = normalized({
      ...LEGACY_FINISHED_EXAMPLE,
      payload: { ...LEGACY_FINISHED_EXAMPLE.payload, gpu_dispatches: 99, gpu_ratio: 0.5 },
    });
    expect(n.properties.gpu_dispatches).toBe(99);
    expect(n.properties.gpu_ratio).toBe(0.5);
  });

  it('maps installer events with platform and method', () => {
    const n = normalized(INSTALL_COMPLETE_EXAMPLE);
    expect(n.event).toBe('install_complete');
    expect(n.properties).toEqual({
      os: 'macos',
      arch: 'aarch64',
      release: '0.4.9',
      session_id: INSTALL_COMPLETE_EXAMPLE.session_id,
      run_kind: 'install',
      platform: 'macos-aarch64',
      method: 'shell',
    });
  });
});

describe('dropping what is not in the contract', () => {
  it('drops and counts hostile extra fields at every level', () => {
    const hostile = {
      ...LEGACY_FINISHED_EXAMPLE,
      source: 'x = secret_matrix * 2;',
      env: { AWS_SECRET_ACCESS_KEY: 'AKIA...' },
      payload: {
        ...LEGACY_FINISHED_EXAMPLE.payload,
        file_path: '/home/alice/thesis/model.m',
        stack: 'at foo (/home/alice/x.m:3)',
        counters: { total_executions: 1, workspace: ['A', 'B'] },
        provider: {
          ...LEGACY_FINISHED_EXAMPLE.payload.provider,
          driver_path: 'C:\\Windows\\nvidia',
          device: { ...LEGACY_FINISHED_EXAMPLE.payload.provider.device, serial: 'GPU-1234' },
        },
      },
    };
    const parsed = parseEvent(hostile);
    if (!parsed.ok) throw new Error('expected acceptance');
    expect(parsed.fixes.map((f) => `${f.field} ${f.reason}`).sort()).toEqual(
      [
        '* unknown_field',
        '* unknown_field',
        'payload.* unknown_field',
        'payload.* unknown_field',
        'payload.counters.* unknown_field',
        'payload.provider.* unknown_field',
        'payload.provider.device.* unknown_field',
      ].sort(),
    );
    // The parsed event holds none of them, so nothing can reach a destination.
    expect(JSON.stringify(parsed.event)).not.toMatch(
      /source|env|file_path|stack|workspace|driver_path|serial/,
    );
    const n = normalized(hostile);
    // Fix labels name containers, never a client's key; values never leave.
    const everything = JSON.stringify([n.properties, toPostHogEvent(n), toGa4Event(n)]);
    for (const secret of [
      'secret_matrix',
      'AKIA',
      '/home/alice',
      'nvidia',
      'GPU-1234',
      'workspace',
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('routes an installer event with a stray payload through the installer rules', () => {
    const n = normalized({ ...INSTALL_COMPLETE_EXAMPLE, payload: { success: true, error: 'x' } });
    expect(n.event).toBe('install_complete');
    expect(n.properties.success).toBeUndefined();
    const parsed = parseEvent({
      ...INSTALL_COMPLETE_EXAMPLE,
      payload: { success: true, error: 'x' },
    });
    expect(parsed.ok && parsed.fixes).toEqual([
      { field: 'payload.*', reason: 'unknown_field' },
      { field: 'payload.*', reason: 'unknown_field' },
    ]);
  });
});

describe('destination mappings', () => {
  it('builds an anonymous PostHog event and forwards the IP only when asked', () => {
    const n = normalized(CANONICAL_FINISHED_EXAMPLE);
    const plain = toPostHogEvent(n);
    expect(plain).toMatchObject({
      event: 'runtime.run.finished',
      distinct_id: n.distinct_id,
      uuid: n.uuid,
      timestamp: '2026-05-17T06:40:00.000Z',
    });
    expect(plain.properties.$process_person_profile).toBe(false);
    expect(plain.properties.$geoip_disable).toBe(true);
    expect(plain.properties.$ip).toBeUndefined();
    const withIp = toPostHogEvent(n, { clientIp: '203.0.113.9' });
    expect(withIp.properties.$ip).toBe('203.0.113.9');
    expect(withIp.properties.$geoip_disable).toBe(false);
  });

  it('keeps at most 25 GA4 params, most valuable first', () => {
    const ga = toGa4Event(normalized(CANONICAL_FINISHED_EXAMPLE));
    expect(ga.name).toBe('runtime_run_finished');
    expect(Object.keys(ga.params)).toHaveLength(25);
    expect(ga.params.runtime_failure_stage).toBe('runtime');
    expect(ga.params.success).toBe(0);
    expect(ga.params.fusion_cache_misses).toBeUndefined();
  });

  it('falls back to the current time for a receipt time no Date can hold', () => {
    const { timestamp_ms: _omit, ...payload } = CANONICAL_FINISHED_EXAMPLE.payload;
    const event = { ...CANONICAL_FINISHED_EXAMPLE, payload };
    for (const receivedAt of [1e300, Number.NaN, Number.POSITIVE_INFINITY, -9e15]) {
      const n = normalized(event, receivedAt);
      expect(Math.abs(n.timestamp - Date.now())).toBeLessThan(60_000);
      expect(() => new Date(n.timestamp).toISOString()).not.toThrow();
    }
  });
});
