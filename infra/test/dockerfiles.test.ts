import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HEALTH_PORT, UDP_PORT, WORKER_PORT } from '@runmat-telemetry/schema';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/terraform.ts';

const read = (p: string) => readFile(join(REPO_ROOT, p), 'utf8');

/** Instructions with line continuations joined, comments dropped. */
function instructions(src: string): string[] {
  return src
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

describe.each([
  { app: 'worker', expose: [`${WORKER_PORT}`] },
  { app: 'udp-forwarder', expose: [`${UDP_PORT}/udp`, `${HEALTH_PORT}/tcp`] },
])('apps/$app/Dockerfile', ({ app, expose }) => {
  it('builds in one stage and runs the pruned bundle as a non-root user in another', async () => {
    const lines = instructions(await read(`apps/${app}/Dockerfile`));
    const base = lines.find((l) => l.startsWith('ARG NODE_IMAGE='))!;
    // An exact LTS release, never a floating tag.
    expect(base).toMatch(
      /^ARG NODE_IMAGE=node:(20|22|24)\.\d+\.\d+-bookworm-slim(@sha256:[a-f0-9]{64})?$/,
    );
    const froms = lines.filter((l) => l.startsWith('FROM '));
    expect(froms).toEqual([`FROM \${NODE_IMAGE} AS build`, `FROM \${NODE_IMAGE} AS runtime`]);
    // pnpm's version comes from the root package.json's packageManager only:
    // `corepack install` reads it from the manifest copied just before.
    expect(lines).toContain('RUN corepack enable && corepack install');
    const install = lines.indexOf('RUN corepack enable && corepack install');
    expect(lines[install - 1]).toMatch(/^COPY package\.json /);
    expect(lines.filter((l) => /pnpm@|corepack (prepare|use)/.test(l))).toEqual([]);
    const pkg = JSON.parse(await read('package.json')) as { packageManager: string };
    expect(pkg.packageManager).toMatch(/^pnpm@\d+\.\d+\.\d+/);
    expect(lines.some((l) => l.includes('pnpm install --frozen-lockfile'))).toBe(true);
    expect(lines.some((l) => l.endsWith(`bash infra/scripts/prune-app.sh ${app} /out`))).toBe(true);

    const runtime = lines.slice(lines.indexOf(`FROM \${NODE_IMAGE} AS runtime`));
    expect(runtime.filter((l) => l.startsWith('COPY'))).toEqual(['COPY --from=build /out ./']);
    expect(runtime).toContain('USER node');
    expect(runtime.indexOf('USER node')).toBeLessThan(
      runtime.findIndex((l) => l.startsWith('CMD')),
    );
    expect(runtime.at(-1)).toBe('CMD ["node", "dist/server.js"]');
    if (app === 'worker') {
      // The image runs with the heap setting the worker bench measures with.
      const bench = await read('apps/worker/src/bench/worker-bench.ts');
      const flags = /const WORKER_NODE_OPTIONS = '([^']+)'/.exec(bench)?.[1];
      expect(flags).toMatch(/^--max-semi-space-size=\d+$/);
      const env = runtime.find((l) => l.startsWith('ENV '))!;
      expect(env.split(/\s+/)).toContain(`NODE_OPTIONS=${flags}`);
      // V8's old space comes from the memory budget: the entrypoint adds it, then execs CMD.
      expect(runtime).toContain('ENTRYPOINT ["sh", "bin/worker-entrypoint.sh"]');
      const entrypoint = await read('apps/worker/bin/worker-entrypoint.sh');
      expect(entrypoint).toContain('node dist/memory/heap-flag.js');
      expect(entrypoint).toMatch(/exec "\$@"\s*$/);
      const pkg = JSON.parse(await read('apps/worker/package.json')) as { files: string[] };
      expect(pkg.files).toContain('bin');
    }
    const exposed = runtime
      .find((l) => l.startsWith('EXPOSE '))!
      .split(/\s+/)
      .slice(1);
    expect(exposed).toEqual(expose);
  });
});

describe('the two Dockerfiles', () => {
  it('share one build stage, the app name aside', async () => {
    const buildStage = async (app: string) => {
      const lines = instructions(await read(`apps/${app}/Dockerfile`));
      const from = lines.indexOf(`FROM \${NODE_IMAGE} AS build`);
      const to = lines.indexOf(`FROM \${NODE_IMAGE} AS runtime`);
      return lines.slice(from, to).map((l) => l.replaceAll(app, '<app>'));
    };
    const worker = await buildStage('worker');
    expect(worker.length).toBeGreaterThan(5);
    expect(await buildStage('udp-forwarder')).toEqual(worker);
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, build output, VCS data and Terraform state out of the context', async () => {
    const rules = (await read('.dockerignore')).split('\n').map((l) => l.trim());
    for (const r of ['**/node_modules', '**/dist', '.git', '**/*.tfstate', '**/.env']) {
      expect(rules).toContain(r);
    }
    // The build stage runs this script, so it must stay in the context.
    expect(rules.some((r) => r === 'infra' || r === 'infra/scripts' || r === 'infra/**')).toBe(
      false,
    );
  });
});
