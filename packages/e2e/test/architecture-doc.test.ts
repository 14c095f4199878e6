import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ARCHITECTURE_PATH,
  readSection,
  renderSections,
  SECTION_NAMES,
  spliceSections,
} from '../src/docs/architecture-doc.js';
import { parsePrintedRoutes } from '../src/docs/route-inventory.js';
import { REPO_ROOT } from '../src/harness/index.js';

// Compared cell by cell: the formatter pads table columns.
const normalized = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split(/(?<!\\)\|/)
            .map((c) => c.trim().replace(/^-{3,}$/, '---'))
            .join('|')
        : line.trim(),
    )
    .filter((line) => line !== '');

/** GitHub's heading anchor: lower-cased, punctuation removed, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (m) out.add(slug(m[1]!));
  }
  return out;
}

describe('docs/architecture.md', () => {
  it('links only to files and headings that exist', () => {
    const docPath = join(REPO_ROOT, ARCHITECTURE_PATH);
    const doc = readFileSync(docPath, 'utf8');
    const links = [...doc.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    const local = links.filter((l) => !/^[a-z]+:/.test(l));
    expect(local.length).toBeGreaterThan(20);
    const broken = local.filter((link) => {
      const [file, anchor] = link.split('#') as [string, string | undefined];
      const target = file === '' ? docPath : join(dirname(docPath), file);
      if (!existsSync(target)) return true;
      return anchor !== undefined && !anchors(readFileSync(target, 'utf8')).has(anchor);
    });
    expect(broken).toEqual([]);
  });

  it('has every generated section as the code renders it (run `pnpm --filter @runmat-telemetry/e2e docs:architecture`)', async () => {
    const onDisk = readFileSync(join(REPO_ROOT, ARCHITECTURE_PATH), 'utf8');
    const sections = await renderSections();
    // What the routes are read from, as a sanity check on the reading itself.
    expect(sections.routes).toMatch(
      /\| worker, public \(`8080`\) \| OPTIONS, POST \| `\/v1\/t` \|/,
    );
    expect(sections.routes).toMatch(/\| worker, metrics \(`9464`\) \| GET, HEAD \| `\/metrics` \|/);
    expect(sections.routes).toMatch(
      /\| forwarder, health \(`9000`\) \| GET, HEAD \| `\/readyz` \|/,
    );
    expect(sections.routes).toContain('`GET /metrics` answers 404');
    expect(sections.routes).not.toMatch(/worker, public[^\n]*`\/metrics`/);
    for (const name of SECTION_NAMES) {
      expect(normalized(readSection(onDisk, name)), `section ${name}`).toEqual(
        normalized(sections[name]),
      );
    }
  }, 60_000);

  it('rewrites only what is between the markers', () => {
    const doc = SECTION_NAMES.map(
      (n) => `prose before ${n}\n<!-- generated:${n}:start -->\nold\n<!-- generated:${n}:end -->\n`,
    ).join('');
    const fresh = Object.fromEntries(SECTION_NAMES.map((n) => [n, `new ${n}`])) as Record<
      (typeof SECTION_NAMES)[number],
      string
    >;
    const out = spliceSections(doc, fresh);
    for (const n of SECTION_NAMES) {
      expect(out).toContain(
        `prose before ${n}\n<!-- generated:${n}:start -->\n\nnew ${n}\n\n<!-- generated:${n}:end -->`,
      );
    }
    expect(out).not.toContain('old');
    expect(spliceSections(out, fresh)).toBe(out);
    expect(() => spliceSections('no markers', fresh)).toThrow(/generated:ports:start/);
  });

  it("reads Fastify's route tree into full paths", () => {
    const printed = [
      '└── / (GET, HEAD)',
      '    ├── batch (POST)',
      '    │   └── / (POST)',
      '    ├── _sink/insights (GET, HEAD)',
      '    │   └── /releases (GET, HEAD)',
      '    └── v1/',
      '        └── t (OPTIONS, POST)',
    ].join('\n');
    expect(parsePrintedRoutes('fake-sink', printed)).toEqual([
      { listener: 'fake-sink', methods: ['GET', 'HEAD'], path: '/' },
      { listener: 'fake-sink', methods: ['POST'], path: '/batch' },
      { listener: 'fake-sink', methods: ['POST'], path: '/batch/' },
      { listener: 'fake-sink', methods: ['GET', 'HEAD'], path: '/_sink/insights' },
      { listener: 'fake-sink', methods: ['GET', 'HEAD'], path: '/_sink/insights/releases' },
      { listener: 'fake-sink', methods: ['OPTIONS', 'POST'], path: '/v1/t' },
    ]);
    expect(() => parsePrintedRoutes('worker', 'GET /x')).toThrow(/cannot read line/);
  });
});
