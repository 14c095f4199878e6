// Operable in production: the metrics are scraped where the apps run, only
// the ingest routes are public, and the alerts and the dashboard ask for
// metrics the apps really export.
import { ROUTES, WORKER_METRICS_PORT, WORKER_PORT } from '@runmat-telemetry/schema';
import { ForwarderMetrics } from '@runmat-telemetry/udp-forwarder';
import { WORKER_ENV, WorkerMetrics } from '@runmat-telemetry/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parsePromql } from './support/promql.ts';
import {
  type Body,
  block,
  blocks,
  loadTerraform,
  localMap,
  resolve,
  resource,
  type TerraformModule,
} from './support/terraform.ts';
import { evaluate, requireTerraform } from './support/terraform-console.ts';

const GMP_SIDECAR_REPO = 'us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/';
const OTEL_COLLECTOR_REPO =
  'us-docker.pkg.dev/cloud-ops-agents-artifacts/google-cloud-opentelemetry-collector/';

let tf: TerraformModule;
beforeAll(async () => {
  tf = await loadTerraform();
});

const workerService = () => resource(tf, 'google_cloud_run_v2_service', 'worker');
const containers = () => blocks(block(workerService(), 'template'), 'containers');

/** Evaluates `expression` with `terraform console` and fails the test on a Terraform error. */
async function value<T>(expression: string, vars: Record<string, string> = {}): Promise<T> {
  const r = await evaluate(expression, vars);
  if (!r.ok) throw new Error(r.error);
  return r.value as T;
}

/** Every series name the worker and the forwarder export (histograms as their _bucket/_count/_sum). */
function exportedMetricNames(): Set<string> {
  const registries = [new WorkerMetrics().registry, new ForwarderMetrics(() => undefined).registry];
  const names = new Set<string>();
  for (const registry of registries) {
    for (const m of registry.getMetricsAsArray()) {
      // prom-client types `type` as an enum; at run time it is the exposition's type name.
      if (String(m.type) === 'histogram') {
        for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${m.name}${suffix}`);
      } else {
        names.add(m.name);
      }
    }
  }
  return names;
}

describe('worker metrics on Cloud Run: the Managed Service for Prometheus sidecar', () => {
  it('gives the worker a metrics port of its own, and the project for log traces', () => {
    expect(tf.locals.worker_metrics_port).toBe(WORKER_METRICS_PORT);
    expect(tf.locals.metrics_path).toBe(ROUTES.metrics);
    const env = localMap(tf, 'worker_env');
    expect(resolve(tf, env[WORKER_ENV.metricsPort])).toBe(WORKER_METRICS_PORT);
    expect(WORKER_METRICS_PORT).not.toBe(WORKER_PORT);
    expect(env[WORKER_ENV.googleCloudProject]).toBe(`\${var.project_id}`);
    // Cloud Run routes requests to container_port only.
    const [worker] = containers();
    expect(blocks(worker!, 'ports')).toHaveLength(1);
    expect(resolve(tf, block(worker!, 'ports').container_port)).toBe(WORKER_PORT);
  });

  it('runs Google’s sidecar image, pinned, after the worker, with its config mounted from Secret Manager', () => {
    const [worker, sidecar, ...rest] = containers();
    expect(rest).toEqual([]);
    expect(worker!.name).toBe('worker');
    expect(sidecar!.image).toBe(`\${var.gmp_sidecar_image}`);
    const image = String(tf.variables.gmp_sidecar_image!.default);
    expect(image.startsWith(`${GMP_SIDECAR_REPO}cloud-run-gmp-sidecar:`)).toBe(true);
    expect(image).not.toMatch(/:latest$/);
    // Container dependencies: the sidecar starts once the worker's startup probe passes.
    expect(sidecar!.depends_on).toEqual(['worker']);
    expect(blocks(sidecar!, 'ports')).toEqual([]);
    const mount = block(sidecar!, 'volume_mounts');
    expect(mount.mount_path).toBe('/etc/rungmp');

    const volume = blocks(block(workerService(), 'template'), 'volumes').find(
      (v) => v.name === mount.name,
    ) as Body;
    const secret = block(volume, 'secret');
    expect(secret.secret).toBe(`\${google_secret_manager_secret.worker_run_monitoring.secret_id}`);
    expect(block(secret, 'items')).toEqual({ version: 'latest', path: 'config.yaml' });
    const version = resource(tf, 'google_secret_manager_secret_version', 'worker_run_monitoring');
    expect(version.secret_data).toBe(`\${local.worker_run_monitoring}`);
  });

  it('lets the worker identity read the config and write metrics, nothing wider', () => {
    const access = resource(tf, 'google_secret_manager_secret_iam_member', 'worker_run_monitoring');
    expect(access.role).toBe('roles/secretmanager.secretAccessor');
    expect(access.member).toContain('google_service_account.worker.email');
    expect(access.secret_id).toContain('google_secret_manager_secret.worker_run_monitoring');
    const project = resource(tf, 'google_project_iam_member', 'worker');
    expect(project.member).toContain('google_service_account.worker.email');
    expect(String(project.for_each)).toContain('"roles/monitoring.metricWriter"');
    expect(String(project.for_each)).not.toMatch(/admin|editor|owner/);
  });
});

describe('forwarder metrics on the VMs: the OpenTelemetry Collector', () => {
  it('passes Google’s collector image and the scrape config to cloud-init', () => {
    const template = resource(tf, 'google_compute_instance_template', 'forwarder');
    const userData = (template.metadata as Record<string, string>)['user-data']!;
    expect(userData).toMatch(/collector_image\s*=\s*var\.forwarder_collector_image/);
    expect(userData).toMatch(/collector_config\s*=\s*local\.forwarder_collector_config/);
    const image = String(tf.variables.forwarder_collector_image!.default);
    expect(image.startsWith(`${OTEL_COLLECTOR_REPO}otelcol-google:`)).toBe(true);
    expect(image).not.toMatch(/:latest$/);
    // The VM identity writes the scrapes (and the logs).
    expect(String(resource(tf, 'google_project_iam_member', 'forwarder').for_each)).toContain(
      '"roles/monitoring.metricWriter"',
    );
  });
});

describe('only public routes are public', () => {
  it('takes traffic only from the load balancer and the VPC', () => {
    expect(workerService().ingress).toBe('INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER');
  });

  it('lets the forwarders reach the run.app URL from the VPC through Private Google Access', () => {
    const env = localMap(tf, 'forwarder_env');
    expect(env.TELEMETRY_HTTP_ENDPOINT).toBe(
      `\${google_cloud_run_v2_service.worker.uri}\${local.batch_path}`,
    );
    expect(resource(tf, 'google_compute_subnetwork', 'forwarder').private_ip_google_access).toBe(
      true,
    );
    // No external IP: a VM with one would reach run.app from the internet and be refused.
    const nic = block(
      resource(tf, 'google_compute_instance_template', 'forwarder'),
      'network_interface',
    );
    expect(nic).not.toHaveProperty('access_config');
    expect(nic.subnetwork).toContain('google_compute_subnetwork.forwarder');
  });

  it('keeps the URL map on exact ingest paths with a 404 for everything else', () => {
    const map = resource(tf, 'google_compute_url_map', 'https');
    const abort = block(
      block(block(map, 'default_route_action'), 'fault_injection_policy'),
      'abort',
    );
    expect(abort).toEqual({ http_status: 404, percentage: 100 });
  });
});

describe('alerts and dashboard resources', () => {
  it('creates a PromQL alert policy per alert, notifying the configured channels', () => {
    const policy = resource(tf, 'google_monitoring_alert_policy', 'prometheus');
    expect(policy.for_each).toBe(`\${local.prometheus_alerts}`);
    expect(policy.notification_channels).toBe(`\${local.alert_notification_channels}`);
    const condition = block(block(policy, 'conditions'), 'condition_prometheus_query_language');
    expect(condition.query).toBe(`\${trimspace(each.value.query)}`);
    expect(condition.disable_metric_validation).toBe(true);
    // Cloud Monitoring wants Prometheus label names here.
    expect(condition.rule_group).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
    expect(condition.alert_rule).toBe(`\${each.key}`);
    expect(block(policy, 'documentation').content).toBe(`\${each.value.documentation}`);

    const channels = String(tf.locals.alert_notification_channels);
    expect(channels).toContain('google_monitoring_notification_channel.email');
    expect(channels).toContain('var.alert_notification_channels');
    const email = resource(tf, 'google_monitoring_notification_channel', 'email');
    expect(email.for_each).toBe(`\${toset(var.alert_notification_emails)}`);
    expect(email.type).toBe('email');
    expect(tf.variables.alert_notification_emails!.default).toEqual([]);
  });

  it('alerts when the UDP load balancer’s health check marks a forwarder unhealthy', () => {
    const hc = resource(tf, 'google_compute_region_health_check', 'forwarder_lb');
    expect(block(hc, 'log_config').enable).toBe(true);
    const policy = resource(tf, 'google_monitoring_alert_policy', 'udp_health_check');
    const filter = String(block(block(policy, 'conditions'), 'condition_matched_log').filter);
    expect(filter).toContain('compute.googleapis.com%2Fhealthchecks');
    expect(filter).toContain('resource.type=\\"gce_instance_group\\"');
    expect(filter).toContain('google_compute_region_instance_group_manager.forwarder.name');
    expect(filter).toContain('jsonPayload.healthCheckProbeResult.healthState=\\"UNHEALTHY\\"');
    // Log-based alerts must rate-limit notifications.
    expect(block(block(policy, 'alert_strategy'), 'notification_rate_limit').period).toBe('300s');
    expect(policy.notification_channels).toBe(`\${local.alert_notification_channels}`);
  });

  it('creates the dashboard from local.dashboard_json', () => {
    expect(resource(tf, 'google_monitoring_dashboard', 'telemetry').dashboard_json).toBe(
      `\${local.dashboard_json}`,
    );
  });
});

describe('scrape configs, alerts and dashboard, evaluated (terraform console)', () => {
  beforeAll(requireTerraform);

  it('points the sidecar at the metrics port only (never the public port)', async () => {
    const config = parseYaml(await value<string>('local.worker_run_monitoring')) as {
      apiVersion: string;
      kind: string;
      spec: { endpoints: { port: string; path: string; interval: string }[] };
    };
    expect(config.apiVersion).toBe('monitoring.googleapis.com/v1beta');
    expect(config.kind).toBe('RunMonitoring');
    expect(config.spec.endpoints).toEqual([
      { port: String(WORKER_METRICS_PORT), path: ROUTES.metrics, interval: '30s' },
    ]);
  });

  it('has the VM collector scrape the forwarder’s /metrics on loopback into Managed Prometheus', async () => {
    const config = parseYaml(await value<string>('local.forwarder_collector_config')) as {
      receivers: { prometheus: { config: { scrape_configs: Record<string, unknown>[] } } };
      exporters: Record<string, unknown>;
      service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
    };
    const [job, ...more] = config.receivers.prometheus.config.scrape_configs;
    expect(more).toEqual([]);
    expect(job).toMatchObject({
      job_name: 'udp-forwarder',
      metrics_path: ROUTES.metrics,
      static_configs: [{ targets: [`127.0.0.1:${tf.locals.health_port}`] }],
    });
    expect(config.exporters).toHaveProperty('googlemanagedprometheus');
    expect(config.service.pipelines.metrics).toMatchObject({
      receivers: ['prometheus'],
      exporters: ['googlemanagedprometheus'],
    });
  });

  it('renders a cloud-init that writes that config and runs the collector next to the forwarder', async () => {
    // One line: `terraform console` reads an expression per line.
    const vars = [
      'image = "r/forwarder:1"',
      'registry_host = "r"',
      'env_file = "A=1"',
      'secret_env_name = "K"',
      'secret_name = "projects/p/secrets/s"',
      'udp_port = local.udp_port',
      'health_port = local.health_port',
      'probe_ranges = "35.191.0.0/16"',
      'rmem_max = 33554432',
      'collector_image = var.forwarder_collector_image',
      'collector_config = local.forwarder_collector_config',
    ];
    const rendered = await value<string>(
      `templatefile("cloud-init/forwarder.yaml", { ${vars.join(', ')} })`,
    );
    const doc = parseYaml(rendered) as {
      write_files: { path: string; content: string }[];
      runcmd: string[];
    };
    const file = (path: string) => doc.write_files.find((f) => f.path === path)?.content ?? '';
    expect(parseYaml(file('/etc/runmat/otel-collector.yaml'))).toEqual(
      parseYaml(await value<string>('local.forwarder_collector_config')),
    );
    const unit = file('/etc/systemd/system/otel-collector.service');
    expect(unit).toMatch(/docker run --rm --name otel-collector --network host/);
    expect(unit).toContain('-v /etc/runmat/otel-collector.yaml:/etc/otelcol-google/config.yaml:ro');
    expect(unit).toContain(
      `${tf.variables.forwarder_collector_image!.default} --config=/etc/otelcol-google/config.yaml`,
    );
    expect(unit).toContain('Restart=always');
    expect(doc.runcmd).toContain('systemctl start otel-collector.service');
  });

  it('alerts on every kind of loss the issue names, in queries that parse and name exported metrics', async () => {
    const alerts =
      await value<
        Record<
          string,
          { display_name: string; query: string; documentation: string; severity: string }
        >
      >('local.prometheus_alerts');
    const exported = exportedMetricNames();
    const metricsOf = (key: string) => parsePromql(alerts[key]!.query).metrics;
    for (const [key, alert] of Object.entries(alerts)) {
      // The key is the policy's alert_rule: a Prometheus label name.
      expect(key).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
      const parsed = parsePromql(alert.query.trim());
      expect(parsed.errors, `${key}: ${alert.query}`).toEqual([]);
      for (const m of parsed.metrics) expect(exported, `${key} queries ${m}`).toContain(m);
      expect(['CRITICAL', 'ERROR', 'WARNING']).toContain(alert.severity);
      // What it means and what to do first.
      expect(alert.documentation, key).toMatch(/First response:/);
    }
    // Events lost by reason: forward failures on both hops, queue-full drops,
    // oversize/invalid spikes; kernel UDP drops; worker 5xx; queues near capacity.
    expect(metricsOf('events_lost')).toEqual(
      expect.arrayContaining(['runmat_delivery_failed_events_total']),
    );
    expect(alerts.queue_full_drops!.query).toContain('reason="queue_full"');
    expect(alerts.queue_full_drops!.query).toContain('code="queue_full"');
    expect(metricsOf('invalid_spike')).toEqual(
      expect.arrayContaining([
        'runmat_forwarder_datagrams_dropped_total',
        'runmat_forwarder_datagrams_received_total',
        'runmat_worker_events_rejected_total',
      ]),
    );
    expect(metricsOf('kernel_udp_drops')).toEqual(['runmat_forwarder_udp_kernel_drops_total']);
    expect(alerts.worker_5xx!.query).toContain('status_code=~"5.."');
    expect(metricsOf('queue_near_capacity')).toEqual(
      expect.arrayContaining([
        'runmat_worker_queue_depth',
        'runmat_worker_queue_capacity',
        'runmat_delivery_pending_events',
        'runmat_delivery_capacity_events',
      ]),
    );
    // Thresholds come from variables.
    const tighter = await value<Record<string, { query: string }>>('local.prometheus_alerts', {
      alert_worker_5xx_ratio: '0.2',
    });
    expect(tighter.worker_5xx!.query).toContain('> 0.2');
  });

  it('builds a dashboard with the panels an operator needs, each query parsing and exported', async () => {
    const dashboard = JSON.parse(await value<string>('local.dashboard_json')) as {
      displayName: string;
      mosaicLayout: {
        columns: number;
        tiles: {
          xPos: number;
          width: number;
          widget: {
            title: string;
            xyChart: { dataSets: { timeSeriesQuery: { prometheusQuery: string } }[] };
          };
        }[];
      };
    };
    const exported = exportedMetricNames();
    const { tiles, columns } = dashboard.mosaicLayout;
    const titles = tiles.map((t) => t.widget.title);
    for (const topic of [
      /^Events in, by transport/,
      /^Accepted/,
      /^Deduplicated/,
      /^Forwarded/,
      /^Lost, by reason/,
      /^Queue depth/,
      /p99/,
    ]) {
      expect(
        titles.some((t) => topic.test(t)),
        String(topic),
      ).toBe(true);
    }
    for (const tile of tiles) {
      expect(tile.xPos + tile.width).toBeLessThanOrEqual(columns);
      expect(tile.widget.xyChart.dataSets.length).toBeGreaterThan(0);
      for (const ds of tile.widget.xyChart.dataSets) {
        const parsed = parsePromql(ds.timeSeriesQuery.prometheusQuery);
        expect(parsed.errors, ds.timeSeriesQuery.prometheusQuery).toEqual([]);
        for (const m of parsed.metrics) expect(exported, `${tile.widget.title}: ${m}`).toContain(m);
      }
    }
    const lost = tiles.find((t) => /^Lost/.test(t.widget.title))!;
    const lostMetrics = lost.widget.xyChart.dataSets.flatMap(
      (ds) => parsePromql(ds.timeSeriesQuery.prometheusQuery).metrics,
    );
    expect(lostMetrics).toContain('runmat_forwarder_udp_kernel_drops_total');
    const p99 = tiles.find((t) => /p99/.test(t.widget.title))!;
    expect(p99.widget.xyChart.dataSets[0]!.timeSeriesQuery.prometheusQuery).toMatch(
      /^histogram_quantile\(0\.99, .*runmat_worker_http_request_duration_seconds_bucket/,
    );
  });

  it('refuses a sidecar or collector image tagged latest, and bad alert settings', async () => {
    for (const [name, v] of [
      ['gmp_sidecar_image', `${GMP_SIDECAR_REPO}cloud-run-gmp-sidecar:latest`],
      ['forwarder_collector_image', `${OTEL_COLLECTOR_REPO}otelcol-google:latest`],
      ['alert_notification_emails', '["not-an-address"]'],
      ['alert_worker_5xx_ratio', '1.5'],
    ] as const) {
      const r = await evaluate(`var.${name}`, { [name]: v });
      expect(r.ok ? '' : r.error, name).toMatch(
        new RegExp(`Invalid value for variable[\\s\\S]*variable "${name}"`),
      );
    }
  });
});

describe('PromQL parsing (the test helper itself)', () => {
  it('reports syntax errors and the metrics selected', () => {
    expect(parsePromql('sum(rate(a_total[5m])) >').errors).not.toEqual([]);
    expect(parsePromql('sum by (x) (rate(a_total{y="1"}[5m])) / b').metrics.sort()).toEqual([
      'a_total',
      'b',
    ]);
  });
});
