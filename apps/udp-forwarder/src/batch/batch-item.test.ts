import { describe, expect, it } from 'vitest';
import { batchBody, toBatchItem } from './batch-item.js';

describe('batch items', () => {
  it('splice the datagram bytes into a body the worker can parse', () => {
    const a = toBatchItem(Buffer.from('{"event_label":"x","name":"café ☕"}'), '203.0.113.5', 1700);
    const b = toBatchItem(Buffer.from(' {"n":1} '), '2001:db8::1', 1701);
    const body = batchBody([a, b]);
    expect(JSON.parse(body.toString('utf8'))).toEqual({
      events: [
        {
          event: { event_label: 'x', name: 'café ☕' },
          client_ip: '203.0.113.5',
          received_at: 1700,
        },
        { event: { n: 1 }, client_ip: '2001:db8::1', received_at: 1701 },
      ],
    });
  });

  it('strip a UTF-8 BOM, which is not valid inside a JSON document', () => {
    const item = toBatchItem(Buffer.from('\ufeff{"a":1}'), '127.0.0.1', 1);
    expect(JSON.parse(batchBody([item]).toString('utf8')).events[0].event).toEqual({ a: 1 });
  });

  it('charge at least the bytes an item takes in the body', () => {
    const item = toBatchItem(Buffer.from('{"a":1}'), '127.0.0.1', Date.now());
    const single = batchBody([item]).length - '{"events":[]}'.length;
    expect(item.bytes).toBeGreaterThanOrEqual(single);
    expect(item.bytes - single).toBeLessThan(16);
    expect(batchBody([]).toString()).toBe('{"events":[]}');
  });
});
