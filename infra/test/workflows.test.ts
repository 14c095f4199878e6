import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './support/terraform.ts';

const WORKFLOWS = join(REPO_ROOT, '.github/workflows');

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  'working-directory'?: string;
}
interface Job {
  steps: Step[];
  strategy?: { matrix?: Record<string, unknown[]> };
  defaults?: { run?: { 'working-directory'?: string } };
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflows: Record<string, Workflow> = {};
beforeAll(async () => {
  for (const f of (await readdir(WORKFLOWS)).filter((n) => /\.ya?ml$/.test(n))) {
    workflows[f] = parseYaml(await readFile(join(WORKFLOWS, f), 'utf8')) as Workflow;
  }
});

async function exists(path: string): Promise<boolean> {
  return access(join(REPO_ROOT, path)).then(
    () => true,
    () => false,
  );
}

/** Expands `${{ matrix.x }}` over the job's matrix values. */
function expand(value: string, job: Job): string[] {
  const m = /\$\{\{\s*matrix\.([a-z_-]+)\s*\}\}/i.exec(value);
  if (!m) return [value];
  const values = job.strategy?.matrix?.[m[1]!];
  if (!values) throw new Error(`matrix.${m[1]} not defined`);
  return values.flatMap((v) => expand(value.replace(m[0], String(v)), job));
}

/** Repository paths a job depends on: scripts in run steps, Dockerfiles, working directories. */
function referencedPaths(job: Job): string[] {
  const paths: string[] = [];
  const wd = job.defaults?.run?.['working-directory'];
  if (wd) paths.push(wd);
  for (const step of job.steps) {
    if (step['working-directory']) paths.push(step['working-directory']);
    if (typeof step.with?.file === 'string') paths.push(step.with.file);
    if (typeof step.with?.context === 'string') paths.push(step.with.context);
    for (const m of step.run?.matchAll(
      /(?:^|\s)((?:\.ci|apps|packages|infra)\/[\w./${}\s-]*?[\w-])(?=\s|$)/g,
    ) ?? []) {
      paths.push(m[1]!);
    }
  }
  return paths.flatMap((p) => expand(p, job));
}

describe('GitHub workflows', () => {
  it('parse as YAML with jobs and steps', () => {
    expect(Object.keys(workflows).sort()).toEqual(['ci.yml', 'deploy.yml']);
    for (const [name, wf] of Object.entries(workflows)) {
      expect(Object.keys(wf.jobs).length, name).toBeGreaterThan(0);
      for (const job of Object.values(wf.jobs)) expect(job.steps.length, name).toBeGreaterThan(0);
    }
  });

  it('reference only paths that exist', async () => {
    const seen: string[] = [];
    for (const wf of Object.values(workflows)) {
      for (const job of Object.values(wf.jobs)) {
        for (const p of referencedPaths(job)) {
          seen.push(p);
          expect(await exists(p), `${p} does not exist`).toBe(true);
        }
      }
    }
    expect(seen).toEqual(
      expect.arrayContaining([
        '.ci/run',
        'apps/worker/Dockerfile',
        'apps/udp-forwarder/Dockerfile',
        'infra/terraform',
      ]),
    );
  });

  it('CI runs .ci/run', () => {
    const runs = workflows['ci.yml']!.jobs.ci!.steps.map((s) => s.run ?? '');
    expect(runs).toContain('bash .ci/run');
  });

  it('deploy authenticates with Workload Identity Federation, never a JSON key', async () => {
    const wf = workflows['deploy.yml']!;
    expect(wf.permissions?.['id-token']).toBe('write');
    const auths = Object.values(wf.jobs)
      .flatMap((j) => j.steps)
      .filter((s) => s.uses?.startsWith('google-github-actions/auth@'));
    expect(auths.length).toBeGreaterThan(0);
    for (const a of auths) {
      expect(a.with).toHaveProperty('workload_identity_provider');
      expect(a.with).toHaveProperty('service_account');
      expect(a.with).not.toHaveProperty('credentials_json');
    }
    const raw = await readFile(join(WORKFLOWS, 'deploy.yml'), 'utf8');
    expect(raw).not.toMatch(/credentials_json|GOOGLE_APPLICATION_CREDENTIALS|secrets\.GCP_SA_KEY/);
  });

  it('deploy tags images with the commit SHA, plans on PRs and applies on main', () => {
    const wf = workflows['deploy.yml']!;
    expect(wf.on).toHaveProperty('pull_request');
    expect((wf.on.push as { branches: string[] }).branches).toEqual(['main']);
    const images = wf.jobs.images!;
    expect(images.strategy?.matrix?.app).toEqual(['worker', 'udp-forwarder']);
    const build = images.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
    expect(String(build.with?.tags)).toMatch(/:\$\{\{ github\.sha \}\}$/);
    expect(String(build.with?.tags)).not.toContain('latest');
    const tf = wf.jobs.terraform!;
    const plan = tf.steps.find((s) => s.run?.startsWith('terraform plan'))!;
    const apply = tf.steps.find((s) => s.run?.startsWith('terraform apply'))!;
    expect((plan as { if?: string }).if).toBe("github.event_name == 'pull_request'");
    expect((apply as { if?: string }).if).toBe("github.event_name != 'pull_request'");
    expect(tf.steps.some((s) => s.run?.includes('-backend-config='))).toBe(true);
  });
});
