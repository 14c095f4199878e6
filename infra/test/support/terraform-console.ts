import { execFile, execFileSync } from 'node:child_process';
import { copyFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TERRAFORM_DIR } from './terraform.ts';

const run = promisify(execFile);

/**
 * The module's files that depend on input variables only (no provider, no
 * resource), so `terraform console` can evaluate them offline without `init`:
 * the endpoints, and what the collectors scrape and the alerts and dashboard
 * query. The cloud-init templates are copied too, for templatefile().
 */
export const VARIABLE_ONLY_FILES = [
  'variables.tf',
  'locals.tf',
  'endpoints.tf',
  'monitoring-config.tf',
];

/** Values for the variables that have no default. */
const REQUIRED_VARS: Record<string, string> = {
  project_id: 'runmat-telemetry-test',
  worker_image: 'us-central1-docker.pkg.dev/runmat-telemetry-test/telemetry/worker:abc123',
  forwarder_image:
    'us-central1-docker.pkg.dev/runmat-telemetry-test/telemetry/udp-forwarder:abc123',
};

/** Whether a terraform binary is on PATH. */
export const hasTerraform = (() => {
  try {
    execFileSync('terraform', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
const ANSI = /\u001b\[[0-9;]*m/g;

export type ConsoleResult = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Evaluates `expression` against the variable-only files, with `vars` (HCL
 * literals, as for `-var name=value`) on top of the required ones. The
 * expression is wrapped in jsonencode(); a rejected variable comes back as
 * `{ ok: false, error }` with Terraform's message.
 */
export async function evaluate(
  expression: string,
  vars: Record<string, string> = {},
): Promise<ConsoleResult> {
  const dir = await mkdtemp(join(tmpdir(), 'tf-console-'));
  try {
    for (const f of VARIABLE_ONLY_FILES) await copyFile(join(TERRAFORM_DIR, f), join(dir, f));
    await cp(join(TERRAFORM_DIR, 'cloud-init'), join(dir, 'cloud-init'), { recursive: true });
    const args = ['console'];
    for (const [k, v] of Object.entries({ ...REQUIRED_VARS, ...vars }))
      args.push('-var', `${k}=${v}`);
    const child = run('terraform', args, {
      cwd: dir,
      env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    child.child.stdin?.end(`jsonencode(${expression})\n`);
    const out = await child.then(
      (r) => ({ stdout: r.stdout, stderr: r.stderr }),
      (e: { stdout?: string; stderr?: string }) => ({
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      }),
    );
    const stderr = out.stderr.replace(ANSI, '');
    if (/Error:/.test(stderr)) return { ok: false, error: stderr };
    const line = out.stdout.trim().split('\n').pop() ?? '';
    return { ok: true, value: JSON.parse(JSON.parse(line) as string) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * For the console tests: fails, never skips, when terraform is missing, with
 * the way to get it (`terraform console` needs no providers and no network).
 */
export function requireTerraform(): void {
  if (!hasTerraform) {
    throw new Error(
      'terraform is not on PATH: these tests evaluate the HCL with `terraform console` (offline, no providers). ' +
        'Install it from HashiCorp (https://developer.hashicorp.com/terraform/install, the apt repository or the zip) and run again.',
    );
  }
}
