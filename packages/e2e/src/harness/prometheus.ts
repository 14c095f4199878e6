import { request } from 'undici';

/** One Prometheus sample: metric name, labels and value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_RE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_RE = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Prometheus text exposition into samples (comments and blank lines skipped). */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE_RE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL_RE)) labels[l[1] as string] = l[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** Fetches and parses a `/metrics` endpoint. */
export async function scrapeMetrics(url: string): Promise<Sample[]> {
  const res = await request(url);
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}`);
  return parsePrometheus(text);
}

/**
 * Sum of every sample whose name matches (a string is an exact name, a RegExp
 * is tested against it) and whose labels include `labels`.
 */
export function sumMetric(
  samples: Sample[],
  name: string | RegExp,
  labels: Record<string, string> = {},
): number {
  let total = 0;
  for (const s of samples) {
    const nameOk = typeof name === 'string' ? s.name === name : name.test(s.name);
    if (!nameOk) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}
