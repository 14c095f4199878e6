import { parseEvent } from '@runmat-telemetry/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RunEmitter, RunGuard } from './run-guard.js';

function recorder(collectProvider = true) {
  const events: Record<string, unknown>[] = [];
  let n = 0;
  const emitter: RunEmitter = {
    context: {
      os: 'linux',
      arch: 'x86_64',
      session_id: 'session-1',
      cid: 'client-1',
      release: '0.4.9',
    },
    newUuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    emit: (e) => {
      events.push(e);
      return true;
    },
    collectProvider,
  };
  return { emitter, events };
}

const busyWait = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: the duration must be measured, not assumed
  }
};

describe('RunGuard', () => {
  it('emits a valid started event at once and a valid finished event with the measured duration', () => {
    const { emitter, events } = recorder();
    const run = new RunGuard(emitter, {
      kind: 'benchmark',
      jitEnabled: true,
      accelerateEnabled: false,
    });
    expect(events).toHaveLength(1);
    busyWait(5);
    const summary = run.finish({ success: true, jitUsed: true });
    expect(summary.durationUs).toBeGreaterThanOrEqual(5000);
    expect(summary.durationUs).toBeLessThan(5_000_000);
    const [started, finished] = events;
    expect(parseEvent(started).ok).toBe(true);
    expect(parseEvent(finished).ok).toBe(true);
    expect(started).toMatchObject({
      event_label: 'runtime.run.started',
      run_kind: 'benchmark',
      cid: 'client-1',
      payload: { jit_enabled: true, accelerate_enabled: false },
    });
    expect(finished).toMatchObject({
      event_label: 'runtime.run.finished',
      payload: { duration_us: summary.durationUs, success: true, jit_used: true },
    });
  });

  it('finishing twice emits once and returns the same summary', () => {
    const { emitter, events } = recorder();
    const run = new RunGuard(emitter, { kind: 'script' });
    const a = run.finish({ success: true });
    const b = run.finish({ success: false });
    expect(b).toBe(a);
    expect(events).toHaveLength(2);
  });

  it('derives gpu_ratio and fusion_hit_ratio, always within [0, 1], and always schema-valid', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.nat({ max: 1_000_000 }),
        fc.nat({ max: 1_000_000 }),
        (gpuWallNs, hits, misses) => {
          const { emitter, events } = recorder();
          const summary = new RunGuard(emitter, { kind: 'script' }).finish({
            success: true,
            provider: {
              telemetry: {
                gpu_wall_ns: gpuWallNs,
                fusion_cache_hits: hits,
                fusion_cache_misses: misses,
              },
            },
          });
          const payload = (events[1] as { payload: Record<string, number> }).payload;
          expect(parseEvent(events[1]).ok).toBe(true);
          if (payload.gpu_ratio !== undefined) {
            expect(payload.gpu_ratio).toBeGreaterThanOrEqual(0);
            expect(payload.gpu_ratio).toBeLessThanOrEqual(1);
          }
          if (hits + misses === 0) expect(payload.fusion_hit_ratio).toBeUndefined();
          else expect(payload.fusion_hit_ratio).toBeCloseTo(hits / (hits + misses), 3);
          expect(summary.gpu?.wallNs).toBe(gpuWallNs);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('without consent no provider or GPU figures are gathered, but the summary keeps counters', () => {
    const { emitter, events } = recorder(false);
    const summary = new RunGuard(emitter, { kind: 'repl' }).finish({
      success: true,
      counters: { total_executions: 9 },
      provider: { device: { name: 'GPU X' }, telemetry: { gpu_wall_ns: 10 } },
    });
    expect(summary.gpu).toBeUndefined();
    expect(summary.counters).toEqual({ total_executions: 9 });
    const payload = (events[1] as { payload: Record<string, unknown> }).payload;
    expect(payload.provider).toBeUndefined();
    expect(payload.gpu_wall_ns).toBeUndefined();
  });
});

describe('RunGuard with malformed host input', () => {
  it('never throws, returns a summary, and lets nothing invalid through a validating emitter', () => {
    const { emitter } = recorder();
    const accepted: unknown[] = [];
    const validating: RunEmitter = {
      ...emitter,
      context: emitter.context,
      newUuid: emitter.newUuid,
      collectProvider: true,
      emit: (e) => {
        if (!parseEvent(e).ok) return false;
        accepted.push(e);
        return true;
      },
    };
    const bad = { provider: { telemetry: null, device: 5 }, failure: 'x', success: 'yes' } as never;
    const run = new RunGuard(validating, null as never);
    const summary = run.finish(bad);
    expect(summary.durationUs).toBeGreaterThanOrEqual(0);
    expect(summary.success).toBe(false);
    expect(summary.emitted).toBe(false);
    expect(accepted).toHaveLength(0);
    expect(() =>
      new RunGuard(validating, { kind: 'script' }).finish(undefined as never),
    ).not.toThrow();
  });
});
