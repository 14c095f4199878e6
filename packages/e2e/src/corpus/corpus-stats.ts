import type { CorpusCase, CorpusClass } from './real-events.js';
import { serdeJson } from './rust-behaviour.js';

export interface SizeSummary {
  count: number;
  min: number;
  median: number;
  max: number;
}

export interface CorpusStats {
  total: number;
  byClass: Record<CorpusClass, number>;
  /** UTF-8 bytes of `wireJson` per case. */
  bytes: { all: SizeSummary; finished: SizeSummary };
  largest: { name: string; bytes: number };
}

/**
 * The exact bytes the host puts on the wire: serde_json's form for the Rust
 * hosts (f64 fields as `1.0`, `4.8e-6`), the compact literal for the
 * installers and the docs page (plain `JSON.stringify`).
 */
export function wireJson(c: CorpusCase): string {
  const rustBuilt = c.class !== 'installer' && !c.name.startsWith('seed-page-');
  return rustBuilt ? serdeJson(c.body) : JSON.stringify(c.body);
}

/** UTF-8 size of `wireJson(c)`. */
export function wireBytes(c: CorpusCase): number {
  return Buffer.byteLength(wireJson(c), 'utf8');
}

function summarize(sizes: number[]): SizeSummary {
  const s = [...sizes].sort((a, b) => a - b);
  const at = (i: number) => s[Math.min(s.length - 1, Math.max(0, i))] ?? 0;
  return {
    count: s.length,
    min: at(0),
    median: at(Math.floor((s.length - 1) / 2)),
    max: at(s.length - 1),
  };
}

/** Case counts per class and the byte-size distribution, for reports and bounds tests. */
export function corpusStats(cases: readonly CorpusCase[]): CorpusStats {
  const byClass: Record<CorpusClass, number> = {
    runtime_started: 0,
    runtime_finished: 0,
    installer: 0,
    legacy: 0,
  };
  let largest = { name: '', bytes: 0 };
  for (const c of cases) {
    byClass[c.class] += 1;
    const n = wireBytes(c);
    if (n > largest.bytes) largest = { name: c.name, bytes: n };
  }
  const finished = cases.filter((c) => c.expect.event === 'runtime.run.finished');
  return {
    total: cases.length,
    byClass,
    bytes: { all: summarize(cases.map(wireBytes)), finished: summarize(finished.map(wireBytes)) },
    largest,
  };
}
