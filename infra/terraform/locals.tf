# Ports and routes the apps listen on. The infra tests compare these with the
# values the apps import from @runmat-telemetry/schema, so a change on either
# side that is not mirrored here fails CI instead of failing health checks.
locals {
  worker_port  = 8080
  udp_port     = 7846
  health_port  = 9000
  healthz_path = "/healthz"
  readyz_path  = "/readyz"
  batch_path   = "/v1/batch"
  metrics_path = "/metrics"

  # The worker's metrics listener (METRICS_PORT): the Managed Prometheus
  # sidecar scrapes it inside the instance; Cloud Run routes nothing to it.
  worker_metrics_port = 9464

  # Largest telemetry datagram a client sends (docs/architecture.md, Sizes and bounds: 16 KiB).
  # Over a 1500-byte path it arrives as a dozen IP fragments; the UDP load
  # balancer, the firewalls and the VM kernel are configured for that.
  max_datagram_bytes = 16384

  domains = {
    primary = var.primary_domain
    legacy  = var.legacy_domain
  }

  image_registry_host = "${var.region}-docker.pkg.dev"

  # Regional MIGs need max_surge_fixed to be 0 or at least the zone count;
  # without explicit zones GCP spreads over (up to) three zones.
  forwarder_zone_count = length(var.forwarder_zones) > 0 ? length(var.forwarder_zones) : 3

  # Google's probe ranges. Autohealing and proxy load balancers probe from
  # 35.191.0.0/16 and 130.211.0.0/22; the external passthrough network load
  # balancer probes from 35.191.0.0/16, 209.85.152.0/22 and 209.85.204.0/22.
  # The union is what may reach the health port.
  health_probe_ranges = ["35.191.0.0/16", "130.211.0.0/22", "209.85.152.0/22", "209.85.204.0/22"]

  labels = {
    app = "runmat-telemetry"
  }

  # worker_memory in MiB (512Mi -> 512, 1Gi -> 1024): the worker's
  # MEMORY_LIMIT_MIB, so it sizes itself from the limit Cloud Run enforces
  # rather than guessing from a cgroup file.
  worker_memory_mib = endswith(var.worker_memory, "Gi") ? tonumber(trimsuffix(var.worker_memory, "Gi")) * 1024 : tonumber(trimsuffix(var.worker_memory, "Mi"))
}
