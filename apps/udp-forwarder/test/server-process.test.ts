import { afterEach, describe, expect, it } from 'vitest';
import { ForwarderProcess } from './helpers/forwarder-process.ts';
import { TestWorker } from './helpers/test-worker.ts';
import { sendDatagrams, validEvent, waitFor } from './helpers/udp.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function spawnForwarder(env: Record<string, string>): ForwarderProcess {
  const child = new ForwarderProcess(env);
  cleanups.push(() => child.dispose());
  return child;
}

async function metric(healthPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  const match = text.match(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm'));
  return match ? Number(match[1]) : Number.NaN;
}

describe('node dist/server.js', () => {
  it('logs the real ports, and on SIGTERM flushes the queue to the worker and exits 0', async () => {
    const worker = new TestWorker();
    await worker.listen(0);
    cleanups.push(() => worker.close());
    const child = spawnForwarder({
      UDP_HOST: '127.0.0.1',
      UDP_PORT: '0',
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: '0',
      TELEMETRY_HTTP_ENDPOINT: worker.url,
      TELEMETRY_INGESTION_KEY: 'process-key',
      // Nothing leaves on its own: only the shutdown flush can deliver these.
      BATCH_MAX_WAIT_MS: '60000',
    });
    const { udpHost, udpPort, healthPort } = await child.listening();
    expect(udpHost).toBe('127.0.0.1');
    expect(udpPort).toBeGreaterThan(0);
    expect(healthPort).toBeGreaterThan(0);

    const events = Array.from({ length: 12 }, validEvent);
    await sendDatagrams(
      udpPort,
      events.map((e) => JSON.stringify(e)),
    );
    await waitFor(
      async () =>
        (await metric(healthPort, 'runmat_delivery_pending_events{destination="worker"}')) === 12,
      'events queued in the child',
    );
    expect(worker.requests).toBe(0);

    child.signal('SIGTERM');
    expect(await child.exited()).toEqual({ code: 0, signal: null });
    expect(worker.deliveredUuids()).toEqual(new Set(events.map((e) => e.uuid)));
    expect(worker.batches[0]?.headers['x-telemetry-key']).toBe('process-key');
    const stopped = child.lines.find((l) => l.message === 'forwarder stopped');
    expect(stopped).toBeDefined();
    // The key never reaches the logs.
    expect(JSON.stringify(child.lines)).not.toContain('process-key');
    // Every line is what Cloud Logging reads: a severity and a message, never pino's level/msg.
    for (const line of child.lines) {
      expect(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']).toContain(line.severity);
      expect(typeof line.message).toBe('string');
      expect(line).not.toHaveProperty('level');
      expect(line).not.toHaveProperty('msg');
    }
    expect(child.lines.find((l) => l.message === 'listening')?.severity).toBe('INFO');
  });

  it('exits 1 with a one-line message naming a bad variable', async () => {
    const child = spawnForwarder({
      UDP_PORT: 'abc',
      TELEMETRY_HTTP_ENDPOINT: 'http://127.0.0.1:1/v1/batch',
      TELEMETRY_INGESTION_KEY: 'k',
    });
    expect(await child.exited()).toEqual({ code: 1, signal: null });
    expect(child.stderr).toBe('invalid UDP_PORT: expected an integer 0-65535, got "abc"\n');
  });
});
