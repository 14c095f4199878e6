/** One Prometheus sample: metric name, labels and value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_RE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_RE = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const TYPE_RE = /^# TYPE ([A-Za-z_:][A-Za-z0-9_:]*) /;

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

/**
 * Sum of every sample whose name matches (a string is an exact name, a RegExp
 * is tested against it) and whose labels include `labels`; 0 when none does.
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

/** Names the exposition declares (`# TYPE`) or has samples of. */
function declaredNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = TYPE_RE.exec(line);
    if (type) names.add(type[1] as string);
    else if (line !== '' && !line.startsWith('#')) {
      const m = SAMPLE_RE.exec(line);
      if (m) names.add(m[1] as string);
    }
  }
  return names;
}

/**
 * The value of metric `name` in Prometheus `text`: the sum of its samples
 * whose labels include `labels`, 0 when the metric is declared but has no such
 * sample yet (a labelled counter nothing has touched). Throws when the
 * exposition does not know the name at all, so a renamed metric fails the
 * test instead of reading as 0. Tests read metrics only through this (or
 * `scrapeMetric`), so a rename is one edit per name.
 */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  const names = declaredNames(text);
  // A histogram or summary declares its base name; its samples carry suffixes.
  const base = name.replace(/_(bucket|sum|count)$/, '');
  if (!names.has(name) && !names.has(base)) {
    throw new Error(
      `metric ${name} is not in the exposition (it has: ${[...names].sort().join(', ')})`,
    );
  }
  return sumMetric(parsePrometheus(text), name, labels);
}

/** Fetches Prometheus text from `url`; throws on a non-200 answer. */
export async function scrapeText(url: string): Promise<string> {
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${text}`);
  return text;
}

/** `metric()` of a freshly scraped `/metrics` URL. */
export async function scrapeMetric(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return metric(await scrapeText(url), name, labels);
}
