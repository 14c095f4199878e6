import { describe, expect, it } from 'vitest';
import { DedupeWindow } from './dedupe-window.js';

describe('DedupeWindow', () => {
  it('remembers a uuid for the ttl only', () => {
    const w = new DedupeWindow(1000, 10);
    w.add('a', 0);
    expect(w.has('a', 999)).toBe(true);
    expect(w.has('a', 1000)).toBe(false);
    expect(w.has('b', 0)).toBe(false);
  });

  it('stays within its entry bound, evicting the oldest', () => {
    const w = new DedupeWindow(60_000, 3);
    for (const id of ['a', 'b', 'c', 'd']) w.add(id, 0);
    expect(w.size).toBe(3);
    expect(w.has('a', 1)).toBe(false);
    expect(w.has('d', 1)).toBe(true);
  });

  it('is disabled by a zero window', () => {
    const w = new DedupeWindow(0, 10);
    w.add('a', 0);
    expect(w.has('a', 0)).toBe(false);
  });
});

describe('DedupeWindow at scale', () => {
  it('keeps the newest entries when evicting by count over many rounds', () => {
    const w = new DedupeWindow(60_000, 1000);
    for (let i = 0; i < 50_000; i++) w.add(`id-${i}`, i);
    expect(w.size).toBe(1000);
    expect(w.has('id-48999', 50_000)).toBe(false);
    expect(w.has('id-49000', 50_000)).toBe(true);
    expect(w.has('id-49999', 50_000)).toBe(true);
  });

  it('lets a re-added uuid outlive its first, expired entry', () => {
    const w = new DedupeWindow(100, 10);
    w.add('a', 0);
    w.add('a', 150);
    w.add('b', 160);
    expect(w.has('a', 200)).toBe(true);
    expect(w.has('a', 250)).toBe(false);
  });
});
