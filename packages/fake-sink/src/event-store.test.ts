import { describe, expect, it } from 'vitest';
import { EventStore, type SinkEvent } from './event-store.js';

function ev(event: string, extra: Partial<SinkEvent> = {}): Omit<SinkEvent, 'seq'> {
  return {
    receivedAt: 1,
    destination: 'posthog',
    path: '/batch/',
    event,
    distinct_id: 'd',
    properties: {},
    ...extra,
  };
}

describe('EventStore', () => {
  it('assigns increasing seq numbers and lists oldest first', () => {
    const store = new EventStore(10);
    store.add(ev('a'));
    store.add(ev('b'));
    expect(store.list().map((e) => [e.seq, e.event])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('evicts the oldest events beyond its capacity and counts them', () => {
    const store = new EventStore(3);
    for (const name of ['a', 'b', 'c', 'd', 'e']) store.add(ev(name));
    expect(store.list().map((e) => e.event)).toEqual(['c', 'd', 'e']);
    expect(store.evicted).toBe(2);
    expect(store.size).toBe(3);
  });

  it('filters by destination, event and distinct id together', () => {
    const store = new EventStore(10);
    store.add(ev('run', { distinct_id: 'x' }));
    store.add(ev('run', { distinct_id: 'y' }));
    store.add(ev('run', { distinct_id: 'x', destination: 'ga4' }));
    store.add(ev('other', { distinct_id: 'x' }));
    expect(store.list({ destination: 'posthog', event: 'run', distinct_id: 'x' })).toHaveLength(1);
    expect(store.list({ distinct_id: 'x' })).toHaveLength(3);
    expect(store.list({ destination: 'ga4' }).map((e) => e.seq)).toEqual([3]);
  });

  it('clear empties the store and resets the eviction count but never reuses seq', () => {
    const store = new EventStore(1);
    store.add(ev('a'));
    store.add(ev('b'));
    store.clear();
    expect(store.list()).toEqual([]);
    expect(store.evicted).toBe(0);
    expect(store.add(ev('c')).seq).toBe(3);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new EventStore(0)).toThrow(RangeError);
    expect(() => new EventStore(1.5)).toThrow(RangeError);
  });
});
