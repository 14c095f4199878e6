import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FORWARDER_SECRET_ENV } from '@runmat-telemetry/udp-forwarder/config';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  loadTerraform,
  resource,
  TERRAFORM_DIR,
  type TerraformModule,
} from './support/terraform.ts';

let tf: TerraformModule;
let template: string;
let userData: string;
beforeAll(async () => {
  tf = await loadTerraform();
  template = await readFile(join(TERRAFORM_DIR, 'cloud-init/forwarder.yaml'), 'utf8');
  const metadata = resource(tf, 'google_compute_instance_template', 'forwarder').metadata as Record<
    string,
    string
  >;
  userData = metadata['user-data']!;
});

/** Names the template interpolates (`${name}` or a function call over names). */
function templateVariables(src: string): Set<string> {
  const names = new Set<string>();
  for (const m of src.matchAll(/(?<!\$)\$\{([^}]+)\}/g)) {
    const expr = m[1]!;
    for (const id of expr.matchAll(/\b([a-z_][a-z0-9_]*)\b(?!\s*\()/g)) {
      if (!/^\d/.test(id[1]!)) names.add(id[1]!);
    }
  }
  return names;
}

describe('forwarder cloud-init', () => {
  it('is a cloud-config document that parses as YAML', () => {
    expect(template.startsWith('#cloud-config\n')).toBe(true);
    const doc = parseYaml(template) as { write_files: { path: string }[]; runcmd: string[] };
    const paths = doc.write_files.map((f) => f.path);
    expect(paths).toContain('/etc/systemd/system/udp-forwarder.service');
    expect(paths).toContain('/etc/runmat/forwarder.env');
    expect(doc.runcmd.join('\n')).toContain('systemctl start udp-forwarder.service');
  });

  it('gets every interpolated name from the templatefile() call and no more', () => {
    const used = templateVariables(template);
    const passed = new Set(
      [...userData.matchAll(/^\s*([a-z_]+)\s*=/gm)].map((m) => m[1]!).filter((n) => n !== 'user'),
    );
    expect(used.size).toBeGreaterThan(0);
    expect(used).toEqual(passed);
  });

  it('reads the ingestion key from Secret Manager at boot, onto tmpfs only', () => {
    expect(template).toContain(
      `https://secretmanager.googleapis.com/v1/\${secret_name}/versions/latest:access`,
    );
    expect(template).toContain('/instance/service-accounts/default/token');
    expect(template).toMatch(/printf '%s=%s\\n' "\$\{secret_env_name\}" "\$key" > \/run\//);
    expect(template).toContain('--env-file /run/runmat/forwarder-secret.env');
    // The rendered env file must not carry the key.
    for (const env of FORWARDER_SECRET_ENV) expect(template).not.toContain(`${env}=`);
    expect(userData).toMatch(/secret_env_name\s*=\s*keys\(local\.forwarder_secret_env\)\[0\]/);
    expect(userData).not.toMatch(/var\.[a-z_]*(key|secret)/);
  });

  it('runs the container with host networking under systemd, not a container declaration', () => {
    expect(template).toMatch(/docker run --rm --name udp-forwarder --network host/);
    expect(template).toContain(`\${image}`);
    expect(template).toContain('Restart=always');
    expect(template).not.toContain('gce-container-declaration');
    // Terraform directives would be interpreted by templatefile(); shell must not use them.
    expect(template).not.toContain('%{');
  });
});
