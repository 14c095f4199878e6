import type { NormalizedEvent } from '@runmat-telemetry/schema';
import { type AppDeps, buildApp, type WorkerApp } from '../src/app.js';
import { loadWorkerConfig, type WorkerConfig } from '../src/config.js';
import type { Forwarder } from '../src/forward/forward-queue.js';

export const KEY = 'test-key-0001';
export const OLD_KEY = 'test-key-old-0002';

/** Worker config for tests: two keys (rotation), no GA4, quiet logs. */
export function testConfig(env: Record<string, string> = {}): WorkerConfig {
  return loadWorkerConfig({
    INGESTION_KEY: `${KEY},${OLD_KEY}`,
    POSTHOG_API_KEY: 'phc_test',
    POSTHOG_HOST: 'http://127.0.0.1:9',
    LOG_LEVEL: 'silent',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  });
}

/** Records what would be forwarded; `hold` keeps events pending (a stalled upstream). */
export class CaptureForwarder implements Forwarder {
  readonly destination = 'posthog' as const;
  readonly events: Array<{ event: NormalizedEvent; clientIp: string | undefined }> = [];
  hold = false;
  private held = 0;
  pending(): number {
    return this.held;
  }
  push(event: NormalizedEvent, clientIp: string | undefined): void {
    this.events.push({ event, clientIp });
    if (this.hold) this.held++;
  }
  /** The stalled upstream recovers: everything held is delivered. */
  drain(): void {
    this.hold = false;
    this.held = 0;
  }
  async close(): Promise<number> {
    return 0;
  }
}

/** An app whose forwarding is captured in memory. */
export function captureApp(
  env: Record<string, string> = {},
  deps: AppDeps = {},
): WorkerApp & { sink: CaptureForwarder } {
  const sink = new CaptureForwarder();
  const built = buildApp(testConfig(env), { logger: false, forwarders: () => [sink], ...deps });
  return { ...built, sink };
}

/** Fresh v4-shaped uuid. */
export const uuid = () => crypto.randomUUID();
