import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { metric, parsePrometheus, scrapeMetric, sumMetric } from '../src/index.ts';

const TEXT = [
  '# HELP x_total things',
  '# TYPE x_total counter',
  'x_total{reason="a",route="/v1/t"} 2',
  'x_total{reason="b"} 3',
  '# HELP untouched_total a labelled counter nothing has incremented',
  '# TYPE untouched_total counter',
  '# TYPE latency_seconds histogram',
  'latency_seconds_bucket{le="0.1"} 4',
  'latency_seconds_count 4',
  'queue_depth 0',
  '',
].join('\n');

describe('Prometheus text', () => {
  it('reads samples with labels and sums by name and label', () => {
    const samples = parsePrometheus(TEXT);
    expect(samples).toHaveLength(5);
    expect(sumMetric(samples, 'x_total')).toBe(5);
    expect(sumMetric(samples, 'x_total', { reason: 'a' })).toBe(2);
    expect(sumMetric(samples, /depth/)).toBe(0);
  });

  it('metric() reads by name and labels, 0 for a declared metric without the sample', () => {
    expect(metric(TEXT, 'x_total')).toBe(5);
    expect(metric(TEXT, 'x_total', { reason: 'b' })).toBe(3);
    expect(metric(TEXT, 'x_total', { reason: 'c' })).toBe(0);
    expect(metric(TEXT, 'untouched_total', { reason: 'a' })).toBe(0);
    expect(metric(TEXT, 'latency_seconds_count')).toBe(4);
    expect(metric(TEXT, 'queue_depth')).toBe(0);
  });

  it('metric() throws for a name the exposition does not know, so a rename cannot read as 0', () => {
    expect(() => metric(TEXT, 'forwarder_queue_events')).toThrow(
      /metric forwarder_queue_events is not in the exposition \(it has: .*x_total/,
    );
  });

  it('scrapeMetric() fetches a /metrics URL', async () => {
    const server = createServer((req, res) =>
      req.url === '/metrics' ? res.end(TEXT) : res.writeHead(404).end('no'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await scrapeMetric(`http://127.0.0.1:${port}/metrics`, 'x_total')).toBe(5);
      await expect(scrapeMetric(`http://127.0.0.1:${port}/nope`, 'x_total')).rejects.toThrow(
        /answered 404/,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
