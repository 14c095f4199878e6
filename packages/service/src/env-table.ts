import { readFileSync, writeFileSync } from 'node:fs';
import type { EnvSchema } from './env-schema.js';

/** Where a README's generated table starts and ends. */
export const ENV_TABLE_BEGIN = '<!-- env:begin -->';
export const ENV_TABLE_END = '<!-- env:end -->';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/**
 * The schema as a Markdown table: variable, default, description (with the
 * accepted range of a number); secrets say so. Unpadded: Biome's formatter aligns the columns.
 */
export function renderEnvTable(schema: EnvSchema): string {
  const rows = Object.values(schema).map((f) => {
    let description = f.accepts === undefined ? f.description : `${f.description} (${f.accepts})`;
    if (f.secret) description += '. Secret: never logged';
    return `| \`${f.variable}\` | ${cell(f.defaultText)} | ${cell(description)} |`;
  });
  return ['| variable | default | description |', '| --- | --- | --- |', ...rows].join('\n');
}

/**
 * What lies between `<!-- <name>:begin -->` and `<!-- <name>:end -->` in
 * `markdown` (trimmed), or undefined without the markers. READMEs keep their
 * generated tables (env, metrics) in such sections.
 */
export function markedSection(markdown: string, name: string): string | undefined {
  const begin = `<!-- ${name}:begin -->`;
  const a = markdown.indexOf(begin);
  const b = markdown.indexOf(`<!-- ${name}:end -->`);
  if (a < 0 || b < a) return undefined;
  return markdown.slice(a + begin.length, b).trim();
}

/** `markdown` with its `name` section replaced by `content`; throws without the markers. */
export function replaceMarkedSection(markdown: string, name: string, content: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const a = markdown.indexOf(begin);
  const b = markdown.indexOf(end);
  if (a < 0 || b < a) throw new Error(`no ${begin} ... ${end} markers`);
  return `${markdown.slice(0, a + begin.length)}\n\n${content}\n\n${markdown.slice(b)}`;
}

/** The table between the env markers of `markdown`, or undefined without markers. */
export function envTableOf(markdown: string): string | undefined {
  return markedSection(markdown, 'env');
}

/** `markdown` with the text between the env markers replaced by `table`. */
export function replaceEnvTable(markdown: string, table: string): string {
  return replaceMarkedSection(markdown, 'env', table);
}

/**
 * A table's cells, trimmed, separator dashes reduced to `---`: two tables
 * that differ only in the formatter's padding compare equal.
 */
export function tableCells(table: string | undefined): string[][] {
  return (table ?? '')
    .trim()
    .split('\n')
    .map((row) =>
      row
        .trim()
        .replace(/^\||\|$/g, '')
        .split(/(?<!\\)\|/)
        .map((c) => c.trim().replace(/^:?-{3,}:?$/, '---')),
    );
}

/** Rewrites the env table of the README at `path` from `schema` (run the formatter after). */
export function writeEnvTable(path: string | URL, schema: EnvSchema): void {
  writeFileSync(path, replaceEnvTable(readFileSync(path, 'utf8'), renderEnvTable(schema)));
}
