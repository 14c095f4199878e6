import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { HEALTH_PORT, ROUTES, UDP_PORT, WORKER_PORT } from '@runmat-telemetry/schema';
import { FORWARDER_ENV, FORWARDER_SECRET_ENV } from '@runmat-telemetry/udp-forwarder/config';
import { WORKER_ENV, WORKER_SECRET_ENV } from '@runmat-telemetry/worker/config';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateRegexCondition } from './support/hcl-condition.ts';
import {
  type Body,
  block,
  blocks,
  dynamicBlocks,
  loadTerraform,
  localMap,
  resolve,
  resource,
  resourcesOf,
  TERRAFORM_DIR,
  type TerraformModule,
} from './support/terraform.ts';

// Google's documented probe source ranges (Cloud Load Balancing health checks).
const AUTOHEALING_PROBE_RANGES = ['35.191.0.0/16', '130.211.0.0/22'];
const PASSTHROUGH_PROBE_RANGES = ['35.191.0.0/16', '209.85.152.0/22', '209.85.204.0/22'];
const GOOGLE_PROBE_RANGES = new Set([...AUTOHEALING_PROBE_RANGES, ...PASSTHROUGH_PROBE_RANGES]);

const SECRET_VARIABLES = [
  'worker_ingestion_keys',
  'forwarder_ingestion_key',
  'posthog_api_key',
  'ga_api_secret',
];

const workerEnvNames = new Set<string>(Object.values(WORKER_ENV));
const forwarderEnvNames = new Set<string>(Object.values(FORWARDER_ENV));
const secretEnvNames = new Set<string>([...WORKER_SECRET_ENV, ...FORWARDER_SECRET_ENV]);

let tf: TerraformModule;
beforeAll(async () => {
  tf = await loadTerraform();
});

/** Walks every object nested anywhere inside a parsed body. */
function* walk(value: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(value)) {
    for (const v of value) yield* walk(v);
  } else if (value !== null && typeof value === 'object') {
    yield value as Record<string, unknown>;
    for (const v of Object.values(value)) yield* walk(v);
  }
}

function allowRules(rule: Body): { protocol: string; ports: unknown[] }[] {
  return blocks(rule, 'allow').map((a) => ({
    protocol: String(a.protocol),
    ports: (resolve(tf, a.ports) as unknown[]) ?? [],
  }));
}

describe('module layout', () => {
  it('has the standard files and one file per concern', () => {
    for (const f of [
      'versions.tf',
      'variables.tf',
      'outputs.tf',
      'dns.tf',
      'worker.tf',
      'udp-forwarder.tf',
      'registry.tf',
      'secrets.tf',
      'iam.tf',
      'dedupe.tf',
    ]) {
      expect(tf.files).toContain(f);
    }
  });

  it('pins Terraform and the google provider and uses a partial GCS backend', () => {
    const settings = tf.terraform[0]!;
    expect(String(settings.required_version)).toMatch(/^>=\s*1\.\d+/);
    const google = (block(settings, 'required_providers').google ?? {}) as Record<string, string>;
    expect(google.source).toBe('hashicorp/google');
    expect(google.version).toMatch(/^~>\s*\d+\.\d+$/);
    const backend = settings.backend as Record<string, Body[]>;
    expect(Object.keys(backend)).toEqual(['gcs']);
    // Partial configuration: bucket/prefix come from `terraform init -backend-config`.
    expect(backend.gcs).toEqual([{}]);
  });

  it('types and describes every variable, and marks secrets sensitive', () => {
    const names = Object.keys(tf.variables);
    expect(names.length).toBeGreaterThan(10);
    for (const [name, v] of Object.entries(tf.variables)) {
      expect(v.type, `${name}.type`).toMatch(/^\$\{.+\}$/);
      expect(String(v.description ?? '').length, `${name}.description`).toBeGreaterThan(10);
      if (/(_key|_keys|_secret|password|token)$/.test(name)) {
        expect(v.sensitive, `${name} must be sensitive`).toBe(true);
      }
    }
    for (const name of SECRET_VARIABLES) {
      expect(tf.variables[name]?.sensitive, name).toBe(true);
      // null means "managed with gcloud": Terraform never needs the value.
      expect(tf.variables[name]?.default, name).toBeNull();
    }
    for (const limited of [
      'project_id',
      'region',
      'log_level',
      'worker_image',
      'forwarder_image',
    ]) {
      expect(blocks(tf.variables[limited]!, 'validation').length, limited).toBeGreaterThan(0);
    }
  });

  it('uses every variable and local it declares', () => {
    const all = Object.values(tf.sources).join('\n');
    for (const name of Object.keys(tf.variables)) {
      expect(all.includes(`var.${name}`), `variable ${name} unused`).toBe(true);
    }
    for (const name of Object.keys(tf.locals)) {
      expect(new RegExp(`local\\.${name}\\b`).test(all), `local ${name} unused`).toBe(true);
    }
  });

  it('describes every output and exposes the endpoints, name servers and image repo', () => {
    for (const [name, o] of Object.entries(tf.outputs)) {
      expect(String(o.description ?? '').length, name).toBeGreaterThan(10);
    }
    for (const name of ['https_endpoints', 'udp_endpoints', 'name_servers', 'image_repository']) {
      expect(tf.outputs, name).toHaveProperty(name);
    }
    expect(String(tf.outputs.udp_endpoints!.value)).toContain(`\${local.udp_port}`);
  });

  it('parses .tflint.hcl with the google ruleset enabled', async () => {
    const src = await readFile(join(TERRAFORM_DIR, '.tflint.hcl'), 'utf8');
    const json = (await parse('.tflint.hcl', src)) as { plugin: Record<string, Body[]> };
    expect(json.plugin.google?.[0]?.enabled).toBe(true);
    expect(json.plugin.terraform?.[0]?.enabled).toBe(true);
  });
});

describe('contract with the apps', () => {
  it('uses the ports and routes the apps use', () => {
    expect(tf.locals.worker_port).toBe(WORKER_PORT);
    expect(tf.locals.udp_port).toBe(UDP_PORT);
    expect(tf.locals.health_port).toBe(HEALTH_PORT);
    expect(tf.locals.healthz_path).toBe(ROUTES.healthz);
    expect(tf.locals.readyz_path).toBe(ROUTES.readyz);
    expect(tf.locals.batch_path).toBe(ROUTES.batch);
  });

  it('sets only worker variables the worker reads, and every secret by reference', () => {
    const plain = [
      ...Object.keys(localMap(tf, 'worker_env')),
      ...Object.keys(localMap(tf, 'worker_ga_env')),
      ...Object.keys(localMap(tf, 'worker_cors_env')),
      ...Object.keys(localMap(tf, 'worker_dedupe_env')),
    ];
    const secret = [
      ...Object.keys(localMap(tf, 'worker_secret_env')),
      ...Object.keys(localMap(tf, 'worker_ga_secret_env')),
      ...Object.keys(localMap(tf, 'worker_dedupe_secret_env')),
    ];
    for (const name of plain) {
      expect(workerEnvNames, `worker does not read ${name}`).toContain(name);
      expect(WORKER_SECRET_ENV as readonly string[]).not.toContain(name);
    }
    expect(new Set(secret)).toEqual(new Set(WORKER_SECRET_ENV));
    // Cloud Run reserves PORT; it sets it from container_port.
    expect(plain).not.toContain(WORKER_ENV.port);
  });

  it('sets only forwarder variables the forwarder reads, and its key from Secret Manager', () => {
    const env = localMap(tf, 'forwarder_env');
    for (const name of Object.keys(env)) {
      expect(forwarderEnvNames, `forwarder does not read ${name}`).toContain(name);
      expect(FORWARDER_SECRET_ENV as readonly string[]).not.toContain(name);
    }
    expect(resolve(tf, env[FORWARDER_ENV.udpPort])).toBe(UDP_PORT);
    expect(resolve(tf, env[FORWARDER_ENV.healthPort])).toBe(HEALTH_PORT);
    expect(String(env[FORWARDER_ENV.endpoint])).toMatch(/\$\{local\.batch_path\}$/);
    expect(Object.keys(localMap(tf, 'forwarder_secret_env'))).toEqual([...FORWARDER_SECRET_ENV]);
  });

  it('names in local.secret_env the same env vars the workloads read', () => {
    const secretEnv = localMap(tf, 'secret_env') as Record<string, string>;
    // The Redis URL's secret exists only with shared dedupe on (dedupe.tf), apart from these.
    const dedupe = localMap(tf, 'worker_dedupe_secret_env') as Record<string, string>;
    expect(new Set([...Object.values(secretEnv), ...Object.keys(dedupe)])).toEqual(secretEnvNames);
    expect(Object.keys(localMap(tf, 'secret_values')).sort()).toEqual(
      Object.keys(secretEnv).sort(),
    );
    const referenced = {
      ...localMap(tf, 'worker_secret_env'),
      ...localMap(tf, 'worker_ga_secret_env'),
      ...localMap(tf, 'forwarder_secret_env'),
    } as Record<string, string>;
    for (const [env, id] of Object.entries(referenced)) {
      expect(secretEnv[id], `secret ${id}`).toBe(env);
    }
  });
});

describe('secrets', () => {
  it('never puts a secret in a plain env value, metadata or anywhere but Secret Manager', () => {
    for (const obj of walk(tf.resources)) {
      if (typeof obj.name === 'string' && secretEnvNames.has(obj.name)) {
        expect(obj, `secret ${obj.name} as a plain value`).not.toHaveProperty('value');
      }
    }
    for (const template of resourcesOf(tf, 'google_compute_instance_template')) {
      const metadata = template.metadata as Record<string, string>;
      for (const [key, value] of Object.entries(metadata)) {
        for (const v of SECRET_VARIABLES)
          expect(value, `metadata ${key}`).not.toContain(`var.${v}`);
        for (const env of secretEnvNames)
          expect(value, `metadata ${key}`).not.toMatch(new RegExp(`${env}=`));
      }
    }
    // The only place secret variables may be read is the secret version
    // resource's write-only argument (via local.secret_values).
    for (const [file, src] of Object.entries(tf.sources)) {
      for (const v of SECRET_VARIABLES) {
        const uses = src.split(`var.${v}`).length - 1;
        if (file === 'secrets.tf') expect(uses, `${v} in ${file}`).toBe(1);
        else expect(uses, `${v} in ${file}`).toBe(0);
      }
    }
    const version = resource(tf, 'google_secret_manager_secret_version', 'this');
    expect(version).toHaveProperty('secret_data_wo');
    expect(version).not.toHaveProperty('secret_data');
    expect(version.secret_data_wo).toBe(`\${local.secret_values[each.key]}`);
    expect(resource(tf, 'google_secret_manager_secret', 'this').for_each).toBe(
      `\${local.secret_env}`,
    );
  });

  it('grants secret access per secret to the one service account that reads it', () => {
    const worker = resource(tf, 'google_secret_manager_secret_iam_member', 'worker');
    expect(worker.role).toBe('roles/secretmanager.secretAccessor');
    expect(worker.member).toContain('google_service_account.worker.email');
    const workerSecrets = {
      ...localMap(tf, 'worker_secret_env'),
      ...localMap(tf, 'worker_ga_secret_env'),
    };
    expect(String(worker.for_each)).toContain('toset(');
    for (const id of Object.values(workerSecrets))
      expect(String(worker.for_each)).toContain(`"${id}"`);

    const forwarder = resource(tf, 'google_secret_manager_secret_iam_member', 'forwarder');
    expect(forwarder.member).toContain('google_service_account.forwarder.email');
    expect(String(forwarder.secret_id)).toContain('forwarder-ingestion-key');
    // No project-wide grant that would let every identity read every secret.
    for (const m of resourcesOf(tf, 'google_project_iam_member')) {
      expect(String(m.role) + String(m.for_each)).not.toContain('secretmanager');
    }
  });
});

describe('worker on Cloud Run v2', () => {
  it('runs with its own identity, scaling bounds, probes and deletion protection', () => {
    expect(tf.resources.google_cloud_run_service).toBeUndefined();
    const svc = resource(tf, 'google_cloud_run_v2_service', 'worker');
    expect(svc.deletion_protection).toBe(true);
    const template = block(svc, 'template');
    expect(template.service_account).toBe(`\${google_service_account.worker.email}`);
    const scaling = block(template, 'scaling');
    expect(scaling.min_instance_count).toBe(`\${var.worker_min_instances}`);
    expect(scaling.max_instance_count).toBe(`\${var.worker_max_instances}`);

    const container = block(template, 'containers');
    expect(container.image).toBe(`\${var.worker_image}`);
    expect(resolve(tf, block(container, 'ports').container_port)).toBe(WORKER_PORT);
    const startup = block(block(container, 'startup_probe'), 'http_get');
    expect(resolve(tf, startup.path)).toBe(ROUTES.readyz);
    expect(resolve(tf, startup.port)).toBe(WORKER_PORT);
    const liveness = block(block(container, 'liveness_probe'), 'http_get');
    expect(resolve(tf, liveness.path)).toBe(ROUTES.healthz);
    expect(resolve(tf, liveness.port)).toBe(WORKER_PORT);
  });

  it('feeds plain settings as values and secrets only through secret_key_ref', () => {
    const container = block(
      block(resource(tf, 'google_cloud_run_v2_service', 'worker'), 'template'),
      'containers',
    );
    expect(blocks(container, 'env')).toEqual([]);
    const envs = dynamicBlocks(container, 'env');
    // Plain values, the secrets, and the shared-dedupe URL's secret (dedupe.tf).
    expect(envs).toHaveLength(3);
    expect(envs.filter((e) => 'value' in e.content)).toHaveLength(1);
    const plain = envs.find((e) => 'value' in e.content)!;
    const secret = envs.find(
      (e) => 'value_source' in e.content && e.forEach.includes('local.worker_secret_env'),
    )!;
    expect(plain.forEach).toContain('local.worker_env');
    expect(plain.forEach).toContain('local.worker_ga_env');
    expect(plain.forEach).toContain('local.worker_cors_env');
    expect(plain.forEach).not.toMatch(/secret/);
    expect(secret.forEach).toContain('local.worker_secret_env');
    expect(secret.forEach).toContain('local.worker_ga_secret_env');
    const ref = block(block(secret.content, 'value_source'), 'secret_key_ref');
    expect(String(ref.secret)).toContain('google_secret_manager_secret.this[env.value]');
    expect(ref.version).toBe('latest');
  });

  it('is publicly invokable (keys are checked by the worker itself)', () => {
    const iam = resource(tf, 'google_cloud_run_v2_service_iam_member', 'worker_public');
    expect(iam.role).toBe('roles/run.invoker');
    expect(iam.member).toBe('allUsers');
  });

  it('serves HTTPS on every configured hostname through a global load balancer with a serverless NEG', () => {
    const neg = resource(tf, 'google_compute_region_network_endpoint_group', 'worker');
    expect(neg.network_endpoint_type).toBe('SERVERLESS');
    expect(block(neg, 'cloud_run').service).toBe(`\${google_cloud_run_v2_service.worker.name}`);
    const backend = resource(tf, 'google_compute_backend_service', 'worker');
    expect(block(backend, 'backend').group).toContain(
      'google_compute_region_network_endpoint_group.worker',
    );
    const cert = resource(tf, 'google_compute_managed_ssl_certificate', 'https');
    expect(cert.for_each).toBe(`\${local.https_hosts}`);
    expect(block(cert, 'managed').domains).toEqual([`\${each.key}`]);
    const proxy = resource(tf, 'google_compute_target_https_proxy', 'https');
    expect(String(proxy.ssl_certificates)).toMatch(
      /^\$\{\[for host in sort\(keys\(local\.https_hosts\)\) : google_compute_managed_ssl_certificate\.https\[host\]\.id\]\}$/,
    );
    const rule = resource(tf, 'google_compute_global_forwarding_rule', 'https');
    expect(rule.port_range).toBe('443');
    expect(rule.target).toContain('google_compute_target_https_proxy.https');
    expect(rule.ip_address).toContain('google_compute_global_address.https');
  });
});

describe('UDP forwarder', () => {
  it('runs a regional managed instance group across zones with autohealing and rolling updates', () => {
    const mig = resource(tf, 'google_compute_region_instance_group_manager', 'forwarder');
    expect(mig).toHaveProperty('distribution_policy_zones');
    expect(block(mig, 'version').instance_template).toContain(
      'google_compute_instance_template.forwarder',
    );
    const healing = block(mig, 'auto_healing_policies');
    expect(healing.health_check).toContain('forwarder_autohealing');
    const hc = resource(tf, 'google_compute_health_check', 'forwarder_autohealing');
    const http = block(hc, 'http_health_check');
    expect(resolve(tf, http.port)).toBe(HEALTH_PORT);
    expect(resolve(tf, http.request_path)).toBe(ROUTES.healthz);
    const update = block(mig, 'update_policy');
    expect(update.type).toBe('PROACTIVE');
    expect(update.max_unavailable_fixed).toBe(0);
    expect(resource(tf, 'google_compute_region_autoscaler', 'forwarder').target).toContain(
      'google_compute_region_instance_group_manager.forwarder',
    );
  });

  it('boots Container-Optimized OS with cloud-init and its own service account', () => {
    const template = resource(tf, 'google_compute_instance_template', 'forwarder');
    const cos = tf.data.google_compute_image?.cos;
    expect(cos?.project).toBe('cos-cloud');
    expect(String(cos?.family)).toMatch(/^cos-/);
    expect(block(template, 'disk').source_image).toContain('data.google_compute_image.cos');
    expect(block(template, 'service_account').email).toBe(
      `\${google_service_account.forwarder.email}`,
    );
    const metadata = template.metadata as Record<string, string>;
    expect(metadata).not.toHaveProperty('gce-container-declaration');
    expect(metadata['user-data']).toMatch(
      /templatefile\("\$\{path\.module\}\/cloud-init\/forwarder\.yaml"/,
    );
    expect(template.tags).toEqual(['udp-forwarder']);
  });

  it('balances UDP through a regional backend service with a TCP health check and a static IP', () => {
    const backend = resource(tf, 'google_compute_region_backend_service', 'forwarder');
    expect(backend.protocol).toBe('UDP');
    expect(backend.load_balancing_scheme).toBe('EXTERNAL');
    expect(backend.health_checks).toEqual([
      `\${google_compute_region_health_check.forwarder_lb.id}`,
    ]);
    const hc = resource(tf, 'google_compute_region_health_check', 'forwarder_lb');
    expect(resolve(tf, block(hc, 'tcp_health_check').port)).toBe(HEALTH_PORT);
    expect(block(backend, 'backend').group).toContain(
      'google_compute_region_instance_group_manager.forwarder',
    );

    const rule = resource(tf, 'google_compute_forwarding_rule', 'forwarder');
    expect(rule.ip_protocol).toBe('UDP');
    expect(rule.load_balancing_scheme).toBe('EXTERNAL');
    // All ports, so fragments without a port are forwarded (see udp-fragments.test.ts).
    expect(rule.all_ports).toBe(true);
    expect(rule.ip_address).toBe(`\${google_compute_address.forwarder.address}`);
    expect(rule.backend_service).toContain('google_compute_region_backend_service.forwarder');
    expect(tf.resources.google_compute_target_pool).toBeUndefined();
  });

  it('opens UDP to the world and the health port to Google probes only', () => {
    const rules = resourcesOf(tf, 'google_compute_firewall');
    // No port list: IP fragments after the first carry none (the VM's own
    // firewall narrows to UDP_PORT; see udp-fragments.test.ts).
    const udp = rules.filter((r) => allowRules(r).some((a) => a.protocol === 'udp'));
    expect(udp).toHaveLength(1);
    expect(udp[0]!.source_ranges).toEqual(['0.0.0.0/0']);
    expect(allowRules(udp[0]!)).toEqual([{ protocol: 'udp', ports: [] }]);
    expect(udp[0]!.target_tags).toEqual(['udp-forwarder']);

    const health = rules.filter((r) =>
      allowRules(r).some((a) => a.protocol === 'tcp' && a.ports.includes(HEALTH_PORT)),
    );
    expect(health).toHaveLength(1);
    const ranges = resolve(tf, health[0]!.source_ranges) as string[];
    expect(new Set(ranges)).toEqual(GOOGLE_PROBE_RANGES);

    // Nothing but UDP is open to the whole internet.
    for (const r of rules) {
      const sources = resolve(tf, r.source_ranges) as string[] | undefined;
      if (sources?.includes('0.0.0.0/0')) {
        expect(allowRules(r)).toEqual([{ protocol: 'udp', ports: [] }]);
      }
    }
  });

  it('uses a separate service account from the worker', () => {
    expect(resource(tf, 'google_service_account', 'worker').account_id).not.toBe(
      resource(tf, 'google_service_account', 'forwarder').account_id,
    );
  });
});

describe('DNS, registry and images', () => {
  it('creates a zone per domain with the HTTPS hostnames and udp. records', () => {
    expect(tf.variables.primary_domain?.default).toBe('telemetry.runmat.com');
    expect(tf.variables.legacy_domain?.default).toBe('telemetry.runmat.org');
    expect(localMap(tf, 'domains')).toEqual({
      primary: `\${var.primary_domain}`,
      legacy: `\${var.legacy_domain}`,
    });
    expect(resource(tf, 'google_dns_managed_zone', 'telemetry').for_each).toBe(`\${local.domains}`);
    const https = resource(tf, 'google_dns_record_set', 'https');
    // Only hostnames inside our zones; the zone is the one that holds the name.
    expect(https.for_each).toBe(`\${local.https_managed_hosts}`);
    expect(https.managed_zone).toBe(`\${google_dns_managed_zone.telemetry[each.value].name}`);
    expect(https.name).toBe(`\${each.key}.`);
    expect(https.type).toBe('A');
    expect(https.rrdatas).toEqual([`\${google_compute_global_address.https.address}`]);
    const udp = resource(tf, 'google_dns_record_set', 'udp');
    expect(udp.for_each).toBe(`\${local.domains}`);
    expect(udp.name).toBe(`udp.\${each.value}.`);
    expect(udp.rrdatas).toEqual([`\${google_compute_address.forwarder.address}`]);
  });

  it('keeps images in Artifact Registry with immutable tags and a cleanup policy', () => {
    const repo = resource(tf, 'google_artifact_registry_repository', 'images');
    expect(repo.format).toBe('DOCKER');
    expect(block(repo, 'docker_config').immutable_tags).toBe(true);
    expect(repo.cleanup_policy_dry_run).toBe(false);
    const policies = blocks(repo, 'cleanup_policies');
    expect(policies.map((p) => p.action)).toEqual(expect.arrayContaining(['KEEP', 'DELETE']));
  });

  it.each(['worker_image', 'forwarder_image'])(
    '%s rejects latest and requires a tag or digest',
    (name) => {
      const v = tf.variables[name]!;
      if ('default' in v) expect(String(v.default)).not.toMatch(/latest/);
      const [validation] = blocks(v, 'validation');
      const condition = String(validation!.condition);
      const repo = 'us-central1-docker.pkg.dev/runmat-prod/telemetry/worker';
      const ok = (image: string) => evaluateRegexCondition(condition, image);
      expect(ok(`${repo}:3f9c2a1d7b0e4c5f8a6b2d1e0f9c8b7a6d5e4f3a`)).toBe(true);
      expect(ok(`${repo}@sha256:${'a1'.repeat(32)}`)).toBe(true);
      expect(ok(`${repo}:v1.2.3`)).toBe(true);
      expect(ok(`${repo}:latest`)).toBe(false);
      expect(ok(repo)).toBe(false);
      expect(ok(`${repo}:`)).toBe(false);
      expect(ok(`${repo}@sha256:short`)).toBe(false);
    },
  );

  it('does not default any image anywhere to latest', () => {
    for (const [file, src] of Object.entries(tf.sources)) {
      expect(src, file).not.toMatch(/image\s*=\s*"[^"]*:latest"/);
    }
  });
});
