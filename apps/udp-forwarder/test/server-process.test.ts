import { fileURLToPath } from 'node:url';
import { metric, scrapeText, spawnProcess, spawnServer } from '@runmat-telemetry/test-kit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TestWorker } from './helpers/test-worker.ts';
import { sendDatagrams, validEvent } from './helpers/udp.ts';

const SERVER = fileURLToPath(new URL('../dist/server.js', import.meta.url));

describe('node dist/server.js', () => {
  it('logs the real ports, and on SIGTERM flushes the queue to the worker and exits 0', async () => {
    const worker = new TestWorker();
    await worker.listen(0);
    onTestFinished(() => worker.close());
    await using child = await spawnServer({
      name: 'udp-forwarder',
      script: SERVER,
      env: {
        UDP_HOST: '127.0.0.1',
        UDP_PORT: '0',
        HEALTH_HOST: '127.0.0.1',
        HEALTH_PORT: '0',
        TELEMETRY_HTTP_ENDPOINT: worker.url,
        TELEMETRY_INGESTION_KEY: 'process-key',
        // Nothing leaves on its own: only the shutdown flush can deliver these.
        BATCH_MAX_WAIT_MS: '60000',
      },
    });
    const { udpHost, udpPort, healthPort } = child.listening as unknown as {
      udpHost: string;
      udpPort: number;
      healthPort: number;
    };
    expect(udpHost).toBe('127.0.0.1');
    expect(udpPort).toBeGreaterThan(0);
    expect(healthPort).toBeGreaterThan(0);

    const events = Array.from({ length: 12 }, validEvent);
    await sendDatagrams(
      udpPort,
      events.map((e) => JSON.stringify(e)),
    );
    const metrics = `http://127.0.0.1:${healthPort}/metrics`;
    await expect
      .poll(async () => metric(await scrapeText(metrics), 'runmat_delivery_pending_events'), {
        message: 'events queued in the child',
      })
      .toBe(12);
    expect(worker.requests).toBe(0);

    child.signal('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(worker.deliveredUuids()).toEqual(new Set(events.map((e) => e.uuid)));
    expect(worker.batches[0]?.headers['x-telemetry-key']).toBe('process-key');
    const lines = child.records();
    expect(lines.find((l) => l.message === 'forwarder stopped')).toBeDefined();
    // The key never reaches the logs.
    expect(child.stdoutLines().join('\n')).not.toContain('process-key');
    // Every line is what Cloud Logging reads: a severity and a message, never pino's level/msg.
    expect(lines).toHaveLength(child.stdoutLines().length);
    for (const line of lines) {
      expect(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']).toContain(line.severity);
      expect(typeof line.message).toBe('string');
      expect(line).not.toHaveProperty('level');
      expect(line).not.toHaveProperty('msg');
    }
    expect(lines.find((l) => l.message === 'listening')?.severity).toBe('INFO');
  });

  it('exits 1 with a one-line message naming a bad variable', async () => {
    await using child = spawnProcess({
      script: SERVER,
      env: {
        UDP_PORT: 'abc',
        TELEMETRY_HTTP_ENDPOINT: 'http://127.0.0.1:1/v1/batch',
        TELEMETRY_INGESTION_KEY: 'k',
      },
    });
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(child.stderrText()).toBe('invalid UDP_PORT: expected an integer 0-65535, got "abc"\n');
  });
});
