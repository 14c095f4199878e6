/** Which way a figure is better. */
export type Direction = 'higher' | 'lower';

/** One measured figure in the report. */
export interface Figure {
  /** Where it comes from: `pipeline`, or a package's bench name (`worker`, `schema`...). */
  source: string;
  name: string;
  value: number;
  unit: string;
  /** The target as a number, compared by `direction`; absent when the package sets none. */
  target?: number;
  direction?: Direction;
  /** The same quantity for a bare server measured in the same run. */
  ceiling?: number;
  /** value / ceiling, so runs on different machines compare. */
  ratio?: number;
  /** Whether the target was met; absent without a target. */
  met?: boolean;
  /** How it was measured, in one line. */
  method: string;
}

export const round = (n: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** Fills `met` and `ratio` from the other fields. */
export function finishFigure(f: Figure): Figure {
  const out = { ...f };
  if (out.target !== undefined && out.direction !== undefined) {
    out.met = out.direction === 'higher' ? out.value >= out.target : out.value <= out.target;
  }
  if (out.ceiling !== undefined && out.ceiling > 0) out.ratio = round(out.value / out.ceiling, 3);
  return out;
}

/**
 * Reads a target written as text by a package bench (`">= 200000"`, `"<= 5"`,
 * `"< 1 ms"`): the number and which way is better. Undefined if unreadable.
 */
export function parseTargetText(
  text: string,
): { target: number; direction: Direction } | undefined {
  const m = /^\s*(>=|<=|>|<|≥|≤)\s*([0-9][0-9_,.]*)/.exec(text);
  if (!m) return undefined;
  const target = Number((m[2] as string).replace(/[_,]/g, ''));
  if (!Number.isFinite(target)) return undefined;
  const op = m[1] as string;
  return { target, direction: op.startsWith('>') || op === '≥' ? 'higher' : 'lower' };
}

/** Percentile (0-1) of an ascending-sorted array. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
