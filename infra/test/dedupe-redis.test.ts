import { WORKER_ENV, WORKER_SECRET_ENV } from '@runmat-telemetry/worker/config';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Body,
  block,
  dynamicBlocks,
  loadTerraform,
  localMap,
  resource,
  type TerraformModule,
} from './support/terraform.ts';
import { evaluate, requireTerraform } from './support/terraform-console.ts';

// Shared dedupe at deployed scale: Memorystore for Redis with AUTH and
// in-transit TLS, reached from Cloud Run by Direct VPC egress, its URL in
// Secret Manager; and the worker's memory budget from its Cloud Run limit.

/** An HCL interpolation as the parser gives it: `${expr}`. */
const ref = (expr: string) => `\${${expr}}`;

let tf: TerraformModule;
beforeAll(async () => {
  tf = await loadTerraform();
});

const ENABLED = ref('local.dedupe_enabled ? 1 : 0');
const worker = () => resource(tf, 'google_cloud_run_v2_service', 'worker');
const template = () => block(worker(), 'template');
const container = () => block(template(), 'containers');

describe('Memorystore for the shared dedupe', () => {
  it('is one Redis instance with AUTH and TLS on the telemetry VPC, switched and sized by variables', () => {
    const redis = resource(tf, 'google_redis_instance', 'dedupe');
    expect(redis.count).toBe(ENABLED);
    expect(tf.locals.dedupe_enabled).toBe(ref('var.dedupe_redis_enabled'));
    expect(tf.variables.dedupe_redis_enabled?.default).toBe(true);
    expect(redis).toMatchObject({
      auth_enabled: true,
      transit_encryption_mode: 'SERVER_AUTHENTICATION',
      authorized_network: ref('google_compute_network.telemetry.id'),
      connect_mode: 'DIRECT_PEERING',
      tier: ref('var.dedupe_redis_tier'),
      memory_size_gb: ref('var.dedupe_redis_memory_size_gb'),
      redis_version: ref('var.dedupe_redis_version'),
      region: ref('var.region'),
    });
    // Every claim has a TTL: under memory pressure the soonest-expiring go first.
    expect(redis.redis_configs).toEqual({ 'maxmemory-policy': 'volatile-ttl' });
    expect(tf.variables.dedupe_redis_tier?.default).toBe('BASIC');
    expect(tf.variables.dedupe_redis_memory_size_gb?.default).toBe(1);
    const services = String(resource(tf, 'google_project_service', 'this').for_each);
    expect(services).toContain('"redis.googleapis.com"');
  });

  it('keeps the rediss:// URL (with the AUTH string) in Secret Manager, readable by the worker only', () => {
    const secret = resource(tf, 'google_secret_manager_secret', 'dedupe_redis_url');
    expect(secret.count).toBe(ENABLED);
    expect(secret.secret_id).toBe('telemetry-dedupe-redis-url');
    const version = resource(tf, 'google_secret_manager_secret_version', 'dedupe_redis_url');
    expect(version.secret_data).toBe(
      `rediss://:${ref('google_redis_instance.dedupe[0].auth_string')}@${ref('google_redis_instance.dedupe[0].host')}:${ref('google_redis_instance.dedupe[0].port')}`,
    );
    const access = resource(tf, 'google_secret_manager_secret_iam_member', 'worker_dedupe');
    expect(access).toMatchObject({
      count: ENABLED,
      role: 'roles/secretmanager.secretAccessor',
      member: `serviceAccount:${ref('google_service_account.worker.email')}`,
      secret_id: ref('google_secret_manager_secret.dedupe_redis_url[0].id'),
    });
    // The auth string is read nowhere else.
    for (const [file, src] of Object.entries(tf.sources)) {
      const uses = src.split('.auth_string').length - 1;
      expect(uses, file).toBe(file === 'dedupe.tf' ? 1 : 0);
    }
  });

  it('passes DEDUPE_REDIS_URL by secret_key_ref and the server CA as DEDUPE_REDIS_CA, names the worker reads', () => {
    const secretEnv = localMap(tf, 'worker_dedupe_secret_env');
    expect(Object.keys(secretEnv)).toEqual([WORKER_ENV.dedupeRedisUrl]);
    expect(WORKER_SECRET_ENV as readonly string[]).toContain(WORKER_ENV.dedupeRedisUrl);
    const byRef = dynamicBlocks(container(), 'env').find((d) =>
      d.forEach.includes('local.worker_dedupe_secret_env'),
    );
    expect(byRef?.forEach).toContain('if local.dedupe_enabled');
    const keyRef = block(block(byRef!.content, 'value_source'), 'secret_key_ref');
    expect(keyRef).toEqual({
      secret: ref('google_secret_manager_secret.dedupe_redis_url[0].secret_id'),
      version: 'latest',
    });
    expect(byRef!.content).not.toHaveProperty('value');

    const plainEnv = localMap(tf, 'worker_dedupe_env');
    expect(Object.keys(plainEnv)).toEqual([WORKER_ENV.dedupeRedisCa]);
    // Every CA the instance lists (two while one is being rotated), concatenated PEM.
    expect(String(plainEnv.DEDUPE_REDIS_CA)).toContain('google_redis_instance.dedupe');
    expect(String(plainEnv.DEDUPE_REDIS_CA)).toContain('server_ca_certs');
    expect(String(plainEnv.DEDUPE_REDIS_CA)).toContain('c.cert');
    const plain = dynamicBlocks(container(), 'env').find((d) =>
      d.forEach.includes('local.worker_env'),
    );
    expect(plain?.forEach).toContain('local.worker_dedupe_env : k => v if local.dedupe_enabled');
  });

  it('reaches it by Direct VPC egress for private ranges only, from a subnet of its own', () => {
    const vpc = dynamicBlocks(template(), 'vpc_access');
    expect(vpc).toHaveLength(1);
    expect(vpc[0]!.forEach).toBe(
      ref('local.dedupe_enabled ? [google_compute_subnetwork.worker[0].id] : []'),
    );
    const content = vpc[0]!.content;
    expect(content.egress).toBe('PRIVATE_RANGES_ONLY');
    expect(content).not.toHaveProperty('connector');
    expect(block(content, 'network_interfaces')).toEqual({
      network: ref('google_compute_network.telemetry.id'),
      subnetwork: ref('vpc_access.value'),
    });
    const subnet = resource(tf, 'google_compute_subnetwork', 'worker');
    expect(subnet).toMatchObject({
      count: ENABLED,
      network: ref('google_compute_network.telemetry.id'),
      ip_cidr_range: ref('var.worker_subnet_cidr'),
      region: ref('var.region'),
    });
    // Apart from the forwarders' subnet.
    const forwarder = resource(tf, 'google_compute_subnetwork', 'forwarder') as Body;
    expect(forwarder.ip_cidr_range).toBe('10.20.0.0/24');
    expect(tf.variables.worker_subnet_cidr?.default).toBe('10.20.1.0/24');
    // The revision waits for the URL's secret and its access.
    const dependsOn = worker().depends_on as string[];
    expect(dependsOn).toContain(ref('google_secret_manager_secret_iam_member.worker_dedupe'));
    expect(dependsOn).toContain(ref('google_secret_manager_secret_version.dedupe_redis_url'));
  });

  it('gives the worker its Cloud Run memory limit as MEMORY_LIMIT_MIB', () => {
    const env = localMap(tf, 'worker_env');
    expect(env[WORKER_ENV.memoryLimitMib]).toBe(ref('tostring(local.worker_memory_mib)'));
    const limits = block(container(), 'resources').limits as Record<string, string>;
    expect(limits.memory).toBe(ref('var.worker_memory'));
    // The default the worker bench measured (5x overload: 295-303 MiB peak of 512).
    expect(tf.variables.worker_memory?.default).toBe('512Mi');
  });
});

describe('dedupe and memory variables, evaluated (terraform console)', () => {
  beforeAll(requireTerraform);

  it.each([
    ['512Mi', 512],
    ['768Mi', 768],
    ['1Gi', 1024],
    ['4Gi', 4096],
  ])('turns worker_memory = %s into MEMORY_LIMIT_MIB %d', async (memory, mib) => {
    expect(await evaluate('local.worker_memory_mib', { worker_memory: memory })).toEqual({
      ok: true,
      value: mib,
    });
  });

  it.each([['128Mi'], ['1G'], ['512']])('refuses worker_memory = %s', async (memory) => {
    const r = await evaluate('var.worker_memory', { worker_memory: memory });
    expect(r.ok ? '' : r.error).toMatch(
      /Invalid value for variable[\s\S]*variable "worker_memory"/,
    );
  });

  it.each([
    ['dedupe_redis_tier', 'PREMIUM'],
    ['dedupe_redis_memory_size_gb', '0'],
    ['dedupe_redis_memory_size_gb', '1.5'],
    ['dedupe_redis_version', 'REDIS_5_0'],
    ['worker_subnet_cidr', '10.20.1.0/28'],
    ['worker_subnet_cidr', 'not-a-cidr'],
  ])('refuses %s = %s', async (name, value) => {
    const hcl = /^[0-9.]+$/.test(value) ? value : `"${value}"`;
    const r = await evaluate(`var.${name}`, { [name]: hcl.replace(/^"|"$/g, '') });
    expect(r.ok ? '' : r.error).toMatch(
      new RegExp(`Invalid value for variable[\\s\\S]*variable "${name}"`),
    );
  });

  it('accepts the defaults and the HA tier', async () => {
    expect(
      await evaluate(
        '{ on = var.dedupe_redis_enabled, tier = var.dedupe_redis_tier, gb = var.dedupe_redis_memory_size_gb, subnet = var.worker_subnet_cidr, version = var.dedupe_redis_version }',
      ),
    ).toEqual({
      ok: true,
      value: { on: true, tier: 'BASIC', gb: 1, subnet: '10.20.1.0/24', version: 'REDIS_7_2' },
    });
    expect(await evaluate('var.dedupe_redis_tier', { dedupe_redis_tier: 'STANDARD_HA' })).toEqual({
      ok: true,
      value: 'STANDARD_HA',
    });
  });
});
