import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTerraform, REPO_ROOT, type TerraformModule } from './support/terraform.ts';

let readme: string;
let tf: TerraformModule;
beforeAll(async () => {
  readme = await readFile(join(REPO_ROOT, 'infra/README.md'), 'utf8');
  tf = await loadTerraform();
});

describe('infra/README.md', () => {
  it('documents the checks for people with the binaries', () => {
    expect(readme).toContain('fmt -check');
    expect(readme).toMatch(/terraform[^\n]* validate/);
    expect(readme).toMatch(/tflint --chdir=infra\/terraform/);
    expect(readme).toContain('-backend-config=');
  });

  it('lists only variables that exist, and every required one', () => {
    const table = readme.slice(
      readme.indexOf('## Variables'),
      readme.indexOf('## Deploy a new image'),
    );
    const named = [...table.matchAll(/^\| ([^|]+)\|/gm)]
      .flatMap((m) => [...m[1]!.matchAll(/`([a-z_]+)`/g)].map((n) => n[1]!))
      .filter((n) => n !== 'variable');
    expect(named.length).toBeGreaterThan(10);
    for (const name of named) expect(tf.variables, name).toHaveProperty(name);
    const required = Object.entries(tf.variables)
      .filter(([, v]) => !('default' in v))
      .map(([n]) => n);
    for (const name of required) expect(table, name).toContain(`\`${name}\``);
  });

  it('names the secrets the Terraform creates', () => {
    const ids = Object.keys(tf.locals.secret_env as Record<string, unknown>);
    for (const id of ids) expect(readme).toContain(`telemetry-${id}`);
  });
});
