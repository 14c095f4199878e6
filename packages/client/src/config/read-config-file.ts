import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import { TelemetryConfigError } from './config-error.js';
import { jsonErrorOffset } from './json-error-offset.js';

/** A config file read and decoded, with its text kept to locate keys by line. */
export interface ConfigFile {
  path: string;
  format: 'toml' | 'json';
  text: string;
  data: Record<string, unknown>;
}

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a TOML or JSON config file. Returns undefined when it does not exist;
 * throws {@link TelemetryConfigError} naming the file and line when it cannot
 * be read or parsed.
 */
export function readConfigFile(path: string): ConfigFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new TelemetryConfigError(
      'unreadable_file',
      `cannot read file (${code ?? 'error'})`,
      { file: path },
      { cause: err },
    );
  }
  const format = path.toLowerCase().endsWith('.json') ? 'json' : 'toml';
  let data: unknown;
  if (format === 'toml') {
    try {
      data = parseToml(text);
    } catch (err) {
      if (err instanceof TomlError) {
        const first = err.message.split('\n')[0] ?? 'invalid TOML';
        throw new TelemetryConfigError(
          'malformed_file',
          `invalid TOML: ${first}`,
          { file: path, line: err.line },
          { cause: err },
        );
      }
      throw new TelemetryConfigError(
        'malformed_file',
        'invalid TOML',
        { file: path },
        { cause: err },
      );
    }
  } else {
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new TelemetryConfigError(
        'malformed_file',
        `invalid JSON: ${(err as Error).message}`,
        { file: path, line: jsonErrorLine(text, err as Error) },
        { cause: err },
      );
    }
    if (!isTable(data))
      throw new TelemetryConfigError('malformed_file', 'top level must be an object', {
        file: path,
        line: 1,
      });
  }
  return { path, format, text, data: data as Record<string, unknown> };
}

function jsonErrorLine(text: string, err: Error): number | undefined {
  const byLine = /line (\d+)/.exec(err.message);
  if (byLine) return Number(byLine[1]);
  const byPos = /position (\d+)/.exec(err.message);
  const pos = byPos ? Number(byPos[1]) : jsonErrorOffset(text);
  if (pos < 0) return undefined;
  let line = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * The table at a dotted path (`runtime.telemetry`), undefined when absent.
 * Throws when something that is not a table sits there.
 */
export function tableAt(file: ConfigFile, dotted: string): Record<string, unknown> | undefined {
  let node: unknown = file.data;
  for (const part of dotted.split('.')) {
    if (!isTable(node)) return undefined;
    node = node[part];
    if (node === undefined) return undefined;
  }
  if (!isTable(node)) {
    throw new TelemetryConfigError('wrong_type', `expected a table, got ${describe(node)}`, {
      file: file.path,
      key: dotted,
      line: keyLine(file, dotted.split('.').pop() ?? dotted, dotted),
    });
  }
  return node;
}

/** Human name of a decoded value's type, for error messages. */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.slice(0, 40))})`;
  if (typeof value === 'object') return 'a table';
  return `a ${typeof value} (${String(value)})`;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * 1-based line where `key` is set inside `section`. Neither parser reports
 * positions of valid values, so the line is found in the text: first inside
 * the section's table, then as a dotted key, then anywhere.
 */
export function keyLine(file: ConfigFile, key: string, section: string): number | undefined {
  const lines = file.text.split(/\r?\n/);
  const k = escapeRe(key);
  if (file.format === 'json') {
    const re = new RegExp(`"${k}"\\s*:`);
    const i = lines.findIndex((l) => re.test(l));
    return i >= 0 ? i + 1 : undefined;
  }
  const assign = new RegExp(`^\\s*["']?${k}["']?\\s*=`);
  const dotted = new RegExp(`^\\s*${escapeRe(section)}\\.${k}\\s*=`);
  const header = new RegExp(`^\\s*\\[\\s*${escapeRe(section)}\\s*\\]`);
  let inSection = false;
  let anywhere: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (/^\s*\[/.test(line)) {
      inSection = header.test(line);
      continue;
    }
    if (inSection && assign.test(line)) return i + 1;
    if (dotted.test(line)) return i + 1;
    if (anywhere === undefined && new RegExp(`\\b${k}\\b`).test(line)) anywhere = i + 1;
  }
  return anywhere;
}
