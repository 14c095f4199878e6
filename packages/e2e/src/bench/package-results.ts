import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../harness/index.js';
import { type Figure, finishFigure, parseTargetText } from './figure.js';

/** A pass/fail check a package reports without a value/target pair. */
export interface Check {
  source: string;
  name: string;
  met: boolean;
}

/** What one package's bench-results file gave the report. */
export interface PackageResult {
  source: string;
  file: string;
  /** False when the file has no value/target figures and only raw numbers could be listed. */
  hasTargets: boolean;
  figures: Figure[];
  checks: Check[];
  /** Numeric fields listed as they are, when the package gives no figures. */
  raw: { name: string; value: number }[];
  error?: string;
}

const MAX_RAW = 40;

/** Every numeric and boolean leaf of a JSON value, with dotted paths; arrays indexed. */
function leaves(value: unknown, path = '', out: [string, unknown][] = []): [string, unknown][] {
  if (Array.isArray(value)) {
    // Long arrays are samples, not figures.
    if (value.length > 12) return out;
    value.forEach((v, i) => {
      const label = v && typeof v === 'object' ? labelOf(v as Record<string, unknown>) : undefined;
      leaves(v, `${path}[${label ?? i}]`, out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) leaves(v, path ? `${path}.${k}` : k, out);
  } else if (typeof value === 'number' || typeof value === 'boolean') {
    out.push([path, value]);
  }
  return out;
}

/** A readable label for an array element (`scenario`, `shape`, `name`...), if it has one. */
function labelOf(o: Record<string, unknown>): string | undefined {
  for (const key of ['name', 'scenario', 'shape', 'target', 'route']) {
    const v = o[key];
    if (typeof v === 'string') {
      const rate = typeof o.rate === 'number' ? `@${o.rate}` : '';
      return `${v}${rate}`;
    }
  }
  return undefined;
}

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

function fromFigures(source: string, list: unknown[], file: string): Figure[] {
  const out: Figure[] = [];
  for (const item of list) {
    if (!item || typeof item !== 'object') continue;
    const f = item as Record<string, unknown>;
    if (typeof f.name !== 'string' || typeof f.value !== 'number') continue;
    const parsed =
      typeof f.target === 'string'
        ? parseTargetText(f.target)
        : typeof f.target === 'number'
          ? {
              target: f.target,
              direction: f.direction === 'lower' ? ('lower' as const) : ('higher' as const),
            }
          : undefined;
    const figure = finishFigure({
      source,
      name: f.name,
      value: f.value,
      unit: typeof f.unit === 'string' ? f.unit : '',
      target: parsed?.target,
      direction: parsed?.direction,
      ceiling: typeof f.ceiling === 'number' ? f.ceiling : undefined,
      method: typeof f.method === 'string' ? f.method : `${source} bench (${file})`,
    });
    // The package's own verdict wins where it gave one (it knows its comparison).
    if (typeof f.met === 'boolean') figure.met = f.met;
    out.push(figure);
  }
  return out;
}

/** Adapts one package's bench JSON, whatever its shape, to figures, checks and raw numbers. */
export function adaptPackageResult(source: string, file: string, json: unknown): PackageResult {
  const result: PackageResult = {
    source,
    file,
    hasTargets: false,
    figures: [],
    checks: [],
    raw: [],
  };
  const doc = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
  const all = leaves(doc);

  if (Array.isArray(doc.figures)) result.figures = fromFigures(source, doc.figures, file);
  // A package that writes `figures` states its targets there; its older
  // `targets`/`checks`/`verdict` fields are kept for other readers, not re-counted.
  const legacy = result.figures.length === 0;

  // `{ targets: { callerP99Us: 20 }, checks: { callerP99: false } }`: pair each
  // target with the measured field of the same name, where one can be found.
  if (legacy && doc.targets && typeof doc.targets === 'object') {
    for (const [name, target] of Object.entries(doc.targets as Record<string, unknown>)) {
      if (typeof target !== 'number') continue;
      const match = all.find(
        ([path, v]) =>
          typeof v === 'number' && !path.startsWith('targets.') && squash(path) === squash(name),
      );
      const unit = /Us$/.test(name) ? 'µs' : /Ms$/.test(name) ? 'ms' : '';
      if (match) {
        result.figures.push(
          finishFigure({
            source,
            name,
            value: match[1] as number,
            unit,
            target,
            direction: 'lower',
            method: `${source} bench (${file}), field ${match[0]}`,
          }),
        );
      }
    }
  }

  for (const [path, v] of legacy ? all : []) {
    if (typeof v === 'boolean' && /^(checks|verdict)\b/.test(path) && path !== 'quick') {
      result.checks.push({ source, name: path.replace(/^(checks|verdict)\.?/, ''), met: v });
    }
  }

  result.hasTargets = result.figures.some((f) => f.target !== undefined);
  if (result.figures.length === 0) {
    result.raw = all
      .filter(([path, v]) => typeof v === 'number' && !/^(targets|checks|verdict)\b/.test(path))
      .slice(0, MAX_RAW)
      .map(([name, value]) => ({ name, value: value as number }));
  }
  return result;
}

/**
 * Reads every package's `bench-results/*.json` (apps/* and packages/*, not
 * this package's own), in a stable order.
 */
export function gatherPackageResults(root = REPO_ROOT): PackageResult[] {
  const results: PackageResult[] = [];
  for (const group of ['packages', 'apps']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const pkg of readdirSync(groupDir).sort()) {
      if (group === 'packages' && pkg === 'e2e') continue;
      const dir = join(groupDir, pkg, 'bench-results');
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)
        .filter((n) => n.endsWith('.json'))
        .sort()) {
        const path = join(dir, name);
        const file = relative(root, path);
        const source = name.replace(/\.json$/, '');
        try {
          results.push(adaptPackageResult(source, file, JSON.parse(readFileSync(path, 'utf8'))));
        } catch (err) {
          results.push({
            source,
            file,
            hasTargets: false,
            figures: [],
            checks: [],
            raw: [],
            error: (err as Error).message,
          });
        }
      }
    }
  }
  return results;
}
