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

  it('explains, under "What an operator sees", every dashboard panel and every alert', () => {
    const start = readme.indexOf('## What an operator sees');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const panels = tf.locals.dashboard_panels as { title: string }[];
    expect(panels.length).toBeGreaterThanOrEqual(7);
    for (const { title } of panels) {
      // The table names each panel by its title up to the parenthesised unit.
      expect(section, title).toContain(`| ${title.replace(/ \(.*\)$/, '')} `);
    }
    const alerts = tf.locals.prometheus_alerts as Record<string, { display_name: string }>;
    const names = [
      ...Object.values(alerts).map((a) => a.display_name),
      String(tf.resources.google_monitoring_alert_policy?.udp_health_check?.display_name),
    ];
    for (const name of names) expect(section, name).toContain(`| ${name}`);
    expect(section.match(/First response|first response/g)?.length).toBeGreaterThan(0);
  });
});
