// The hostnames and paths real RunMat clients post to, what the load balancer
// does with everything else, and the DNS that points clients at it.
import { DEFAULT_HTTP_ENDPOINT, DEFAULT_UDP_ENDPOINT, ROUTES } from '@runmat-telemetry/schema';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Body,
  block,
  blocks,
  dynamicBlocks,
  loadTerraform,
  resource,
  type TerraformModule,
} from './support/terraform.ts';
import { evaluate, requireTerraform, VARIABLE_ONLY_FILES } from './support/terraform-console.ts';

/** The worker routes a public hostname may expose (never health or metrics). */
const INGEST_ROUTES = [ROUTES.ingest, ROUTES.ingestV1, ROUTES.batch];

/** Where real clients post today (docs/architecture.md, Infra on Google Cloud; RunMat's public docs). */
const CLIENT_URLS = [
  DEFAULT_HTTP_ENDPOINT, // https://api.runmat.com/v1/t, the client's built-in endpoint
  'https://telemetry.runmat.com/ingest',
  'https://telemetry.runmat.org/ingest',
];

const WORKER = `\${google_compute_backend_service.worker.id}`;

let tf: TerraformModule;
beforeAll(async () => {
  tf = await loadTerraform();
});

/** A fault-injection abort of every request with `status`, as a parsed route action. */
function abortsAll(action: Body, status: number): void {
  const abort = block(block(action, 'fault_injection_policy'), 'abort');
  expect(abort.http_status).toBe(status);
  expect(abort.percentage).toBe(100);
  expect(blocks(action, 'weighted_backend_services')).toEqual([]);
}

/** The regex literal inside a `can(regex("…", <subject>))` condition. */
function regexIn(condition: string, subject: string): RegExp {
  const m = new RegExp(`regex\\("((?:[^"\\\\]|\\\\.)*)",\\s*${subject}\\)`).exec(condition);
  if (!m) throw new Error(`no regex over ${subject} in ${condition}`);
  return new RegExp(m[1]!.replace(/\\(.)/g, '$1'));
}

describe('https_hosts', () => {
  it('defaults to the hostnames and paths real clients use', () => {
    expect(tf.variables.https_hosts!.default).toEqual({
      'api.runmat.com': [ROUTES.ingestV1],
      'telemetry.runmat.com': [ROUTES.ingest, ROUTES.ingestV1, ROUTES.batch],
      'telemetry.runmat.org': [ROUTES.ingest, ROUTES.ingestV1, ROUTES.batch],
    });
    const defaults = tf.variables.https_hosts!.default as Record<string, string[]>;
    for (const url of CLIENT_URLS) {
      const { hostname, pathname } = new URL(url);
      expect(defaults[hostname], url).toContain(pathname);
    }
  });

  it('only accepts paths that are worker ingest routes', () => {
    const conditions = blocks(tf.variables.https_hosts!, 'validation').map((v) =>
      String(v.condition),
    );
    const paths = conditions.find((c) => c.includes('contains('));
    expect(paths).toBeDefined();
    const listed = /contains\(\[([^\]]*)\], p\)/.exec(paths!)?.[1];
    expect(JSON.parse(`[${listed}]`)).toEqual(INGEST_ROUTES);
    // Named worker routes that must stay off public hostnames.
    for (const internal of [ROUTES.healthz, ROUTES.readyz, ROUTES.metrics]) {
      expect(INGEST_ROUTES).not.toContain(internal);
    }
  });
});

describe('URL map', () => {
  it('answers 404 itself for hosts it does not know', () => {
    const map = resource(tf, 'google_compute_url_map', 'https');
    abortsAll(block(map, 'default_route_action'), 404);
    expect(map).not.toHaveProperty('default_url_redirect');
  });

  it('has one host rule and path matcher per set of paths, routing exactly those paths', () => {
    const map = resource(tf, 'google_compute_url_map', 'https');
    expect(blocks(map, 'host_rule')).toEqual([]);
    expect(blocks(map, 'path_matcher')).toEqual([]);
    const [hostRule] = dynamicBlocks(map, 'host_rule');
    expect(hostRule!.forEach).toBe(`\${local.https_path_matchers}`);
    expect(hostRule!.content).toEqual({
      hosts: `\${host_rule.value.hosts}`,
      path_matcher: `\${host_rule.key}`,
    });

    const [matcher] = dynamicBlocks(map, 'path_matcher');
    expect(matcher!.forEach).toBe(`\${local.https_path_matchers}`);
    const pm = matcher!.content;
    expect(pm.name).toBe(`\${path_matcher.key}`);
    // A known host with an unknown path (/healthz, /metrics, /v1/t/) is a 404 too.
    abortsAll(block(pm, 'default_route_action'), 404);
    expect(blocks(pm, 'path_rule')).toEqual([]);
    const rules = blocks(pm, 'route_rules');
    expect(rules).toHaveLength(1);
    expect(rules[0]!.service).toBe(WORKER);
    expect(rules[0]).not.toHaveProperty('route_action');
    const [match] = dynamicBlocks(rules[0]!, 'match_rules');
    expect(match!.forEach).toBe(`\${path_matcher.value.paths}`);
    // Exact paths, and no method or header condition (CORS preflights pass).
    expect(match!.content).toEqual({ full_path_match: `\${match_rules.value}` });
  });

  it('carries a URL map test per routed host and path, which Google checks on apply', () => {
    const [test] = dynamicBlocks(resource(tf, 'google_compute_url_map', 'https'), 'test');
    expect(test!.forEach).toBe(`\${local.https_routes}`);
    expect(test!.content).toMatchObject({
      host: `\${test.value.host}`,
      path: `\${test.value.path}`,
      service: WORKER,
    });
  });
});

describe('certificates', () => {
  it('gives every hostname its own managed certificate, all on the HTTPS proxy', () => {
    const cert = resource(tf, 'google_compute_managed_ssl_certificate', 'https');
    expect(cert.for_each).toBe(`\${local.https_hosts}`);
    expect(block(cert, 'managed').domains).toEqual([`\${each.key}`]);
    const proxy = resource(tf, 'google_compute_target_https_proxy', 'https');
    expect(String(proxy.ssl_certificates)).toContain('keys(local.https_hosts)');
    expect(String(proxy.ssl_certificates)).toContain(
      'google_compute_managed_ssl_certificate.https[host].id',
    );
  });
});

describe('DNS and outputs', () => {
  it('keeps the endpoint locals free of resources, so they can be evaluated offline', () => {
    for (const f of VARIABLE_ONLY_FILES) {
      expect(tf.sources[f], f).not.toMatch(/\b(google_[a-z_]+\.[a-z_]+|data\.[a-z_]+)\b/);
    }
  });

  it('lists for the operator the records in zones it does not manage', () => {
    const out = tf.outputs.operator_dns_records!;
    const value = String(out.value);
    expect(value).toContain('local.https_external_hosts');
    for (const field of ['name', 'type', 'value'])
      expect(value).toMatch(new RegExp(`\\b${field}\\s*=`));
    expect(value).toContain('google_compute_global_address.https.address');
    expect(value).toMatch(/type\s*=\s*"A"/);
  });

  it('outputs every HTTPS URL and both UDP endpoints', () => {
    const https = String(tf.outputs.https_endpoints!.value);
    expect(https).toContain('local.https_hosts');
    expect(https).toContain(`https://\${host}\${path}`);
    const udp = resource(tf, 'google_dns_record_set', 'udp');
    expect(udp.for_each).toBe(`\${local.domains}`);
    expect(String(tf.outputs.udp_endpoints!.value)).toContain(`udp.\${d}:\${local.udp_port}`);
    expect(DEFAULT_UDP_ENDPOINT).toBe(
      `udp.${tf.variables.primary_domain!.default}:${tf.locals.udp_port}`,
    );
  });
});

describe('cors_origins', () => {
  const validations = () =>
    blocks(tf.variables.cors_origins!, 'validation').map((v) => String(v.condition));

  it('defaults to none and reaches the worker as comma-joined CORS_ORIGINS', () => {
    expect(tf.variables.cors_origins!.default).toEqual([]);
    expect(tf.locals.worker_cors_env).toEqual({ CORS_ORIGINS: `\${join(",", var.cors_origins)}` });
    expect(tf.locals.cors_enabled).toBe(`\${length(var.cors_origins) > 0}`);
  });

  it('refuses "*" explicitly', () => {
    expect(validations()).toContain(`\${!contains(var.cors_origins, "*")}`);
  });

  it('accepts exact origins only', () => {
    const cond = validations().find((c) => c.includes('regex('));
    expect(cond).toBeDefined();
    const origin = regexIn(cond!, 'o');
    for (const ok of [
      'https://runmat.com',
      'https://app.runmat.com',
      'http://localhost:3000',
      'https://x-1.example.org:8443',
    ]) {
      expect(origin.test(ok), ok).toBe(true);
    }
    for (const bad of [
      '*',
      'https://*.runmat.com',
      'https://runmat.com/',
      'https://runmat.com/app',
      'https://runmat.com?x=1',
      'https://runmat.com#x',
      'runmat.com',
      'ftp://runmat.com',
      'null',
      'HTTPS://RunMat.com',
      'https://user@runmat.com',
      'https://runmat.com:',
      '',
    ]) {
      expect(origin.test(bad), bad).toBe(false);
    }
  });
});

describe('endpoint locals, evaluated (terraform console)', () => {
  beforeAll(requireTerraform);
  it('groups hostnames by paths and sends only our zones to DNS', async () => {
    const r = await evaluate(
      '{ matchers = values(local.https_path_matchers), zones = local.https_host_zone, external = local.https_external_hosts, routes = length(local.https_routes) }',
    );
    expect(r).toEqual({
      ok: true,
      value: {
        matchers: expect.arrayContaining([
          { hosts: ['api.runmat.com'], paths: [ROUTES.ingestV1] },
          {
            hosts: ['telemetry.runmat.com', 'telemetry.runmat.org'],
            paths: [...INGEST_ROUTES].sort(),
          },
        ]),
        zones: {
          'api.runmat.com': null,
          'telemetry.runmat.com': 'primary',
          'telemetry.runmat.org': 'legacy',
        },
        external: ['api.runmat.com'],
        routes: 7,
      },
    });
  });

  it('puts a hostname in the closest of nested zones, and none in a look-alike one', async () => {
    const r = await evaluate('local.https_host_zone', {
      primary_domain: 'telemetry.runmat.com',
      legacy_domain: 'runmat.com',
      https_hosts:
        '{"api.runmat.com"=["/v1/t"],"eu.telemetry.runmat.com"=["/v1/t"],"notrunmat.com"=["/v1/t"]}',
    });
    expect(r).toEqual({
      ok: true,
      value: {
        'api.runmat.com': 'legacy',
        'eu.telemetry.runmat.com': 'primary',
        'notrunmat.com': null,
      },
    });
  });

  it.each([
    ['a public health route', '{"telemetry.runmat.com"=["/healthz"]}'],
    ['a hostname without paths', '{"telemetry.runmat.com"=[]}'],
    ['a wildcard hostname', '{"*.runmat.com"=["/v1/t"]}'],
  ])('refuses %s in https_hosts', async (_, value) => {
    const r = await evaluate('var.https_hosts', { https_hosts: value });
    expect(r.ok ? '' : r.error).toMatch(/Invalid value for variable[\s\S]*variable "https_hosts"/);
  });

  it('accepts another hostname inside our zones', async () => {
    const value = { 'eu.telemetry.runmat.com': [ROUTES.ingestV1] };
    const r = await evaluate('var.https_hosts', {
      https_hosts: '{"eu.telemetry.runmat.com"=["/v1/t"]}',
    });
    expect(r).toEqual({ ok: true, value });
  });

  it.each([
    ['["*"]'],
    ['["https://runmat.com/"]'],
    ['["https://a.runmat.com","https://b.runmat.com/x"]'],
    ['["https://runmat.com:443"]'],
    ['["http://localhost:80"]'],
    ['["http://localhost:0"]'],
    ['["http://localhost:70000"]'],
  ])('refuses cors_origins = %s', async (value) => {
    const r = await evaluate('var.cors_origins', { cors_origins: value });
    expect(r.ok ? '' : r.error).toMatch(/Invalid value for variable[\s\S]*variable "cors_origins"/);
  });
});
