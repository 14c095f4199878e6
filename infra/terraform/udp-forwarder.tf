# UDP forwarder: a regional managed instance group of Container-Optimized OS
# VMs behind an external passthrough network load balancer.
locals {
  # Plain settings written to an env file by cloud-init. The ingestion key is
  # not here: the VM fetches it from Secret Manager at boot (see cloud-init).
  forwarder_env = {
    UDP_HOST                = "0.0.0.0"
    UDP_PORT                = local.udp_port
    HEALTH_PORT             = local.health_port
    TELEMETRY_HTTP_ENDPOINT = "${google_cloud_run_v2_service.worker.uri}${local.batch_path}"
    FORWARDER_CONCURRENCY   = var.forwarder_concurrency
    LOG_LEVEL               = var.log_level
    # The VM's rmem_max is set to the same value (cloud-init), so it is granted.
    UDP_RECV_BUFFER_BYTES = var.forwarder_recv_buffer_bytes
  }

  forwarder_secret_env = {
    TELEMETRY_INGESTION_KEY = "forwarder-ingestion-key"
  }
}

data "google_compute_image" "cos" {
  family  = "cos-stable"
  project = "cos-cloud"
}

resource "google_compute_instance_template" "forwarder" {
  name_prefix  = "telemetry-udp-forwarder-"
  machine_type = var.forwarder_machine_type
  region       = var.region
  tags         = ["udp-forwarder"]
  labels       = local.labels

  disk {
    source_image = data.google_compute_image.cos.self_link
    auto_delete  = true
    boot         = true
    disk_size_gb = 10
    disk_type    = "pd-balanced"
  }

  network_interface {
    subnetwork = google_compute_subnetwork.forwarder.id
  }

  service_account {
    email  = google_service_account.forwarder.email
    scopes = ["cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  # Metadata carries configuration only; no secret is rendered into it.
  metadata = {
    user-data = templatefile("${path.module}/cloud-init/forwarder.yaml", {
      image           = var.forwarder_image
      registry_host   = local.image_registry_host
      env_file        = join("\n", [for k, v in local.forwarder_env : "${k}=${v}"])
      secret_env_name = keys(local.forwarder_secret_env)[0]
      secret_name     = google_secret_manager_secret.this[values(local.forwarder_secret_env)[0]].id
      udp_port        = local.udp_port
      health_port     = local.health_port
      probe_ranges    = join(",", local.health_probe_ranges)
      rmem_max        = var.forwarder_recv_buffer_bytes
      # The collector that scrapes the forwarder's /metrics (monitoring-config.tf).
      collector_image  = var.forwarder_collector_image
      collector_config = local.forwarder_collector_config
    })
    google-logging-enabled    = "true"
    google-monitoring-enabled = "true"
    enable-oslogin            = "TRUE"
    block-project-ssh-keys    = "true"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# Autohealing probes the app's HTTP health route: a VM whose container is up
# but wedged gets replaced. (A global check: the kind every MIG accepts.)
resource "google_compute_health_check" "forwarder_autohealing" {
  name                = "telemetry-forwarder-autohealing"
  check_interval_sec  = 10
  timeout_sec         = 5
  healthy_threshold   = 2
  unhealthy_threshold = 3

  http_health_check {
    port         = local.health_port
    request_path = local.healthz_path
  }
}

# The load balancer only needs to know the process accepts connections; a
# short interval takes a stopping VM out of rotation quickly.
resource "google_compute_region_health_check" "forwarder_lb" {
  name                = "telemetry-forwarder-lb"
  region              = var.region
  check_interval_sec  = 5
  timeout_sec         = 5
  healthy_threshold   = 2
  unhealthy_threshold = 2

  tcp_health_check {
    port = local.health_port
  }

  # Health transitions go to Cloud Logging; the udp_health_check alert
  # (monitoring.tf) fires on a VM turning UNHEALTHY.
  log_config {
    enable = true
  }
}

resource "google_compute_region_instance_group_manager" "forwarder" {
  name                             = "telemetry-udp-forwarder"
  region                           = var.region
  base_instance_name               = "telemetry-udp-forwarder"
  distribution_policy_zones        = length(var.forwarder_zones) > 0 ? var.forwarder_zones : null
  distribution_policy_target_shape = "EVEN"

  version {
    instance_template = google_compute_instance_template.forwarder.id
  }

  auto_healing_policies {
    health_check = google_compute_health_check.forwarder_autohealing.id
    # Boot pulls the image and fetches the key; do not heal before that.
    initial_delay_sec = 180
  }

  # New template (new image or config): add new VMs first, then drain old ones,
  # so capacity never dips.
  update_policy {
    type                         = "PROACTIVE"
    minimal_action               = "REPLACE"
    instance_redistribution_type = "PROACTIVE"
    replacement_method           = "SUBSTITUTE"
    max_surge_fixed              = local.forwarder_zone_count
    max_unavailable_fixed        = 0
  }

  # The autoscaler owns the size.
  lifecycle {
    ignore_changes = [target_size]
  }
}

resource "google_compute_region_autoscaler" "forwarder" {
  name   = "telemetry-udp-forwarder"
  region = var.region
  target = google_compute_region_instance_group_manager.forwarder.id

  autoscaling_policy {
    min_replicas    = var.forwarder_min_replicas
    max_replicas    = var.forwarder_max_replicas
    cooldown_period = 180

    cpu_utilization {
      target = 0.6
    }
  }
}

# A 16 KiB datagram reaches the load balancer as IP fragments, and only the
# first fragment carries the UDP header. Google's guidance for fragmented UDP
# on passthrough load balancers: hash without ports (session affinity
# CLIENT_IP or CLIENT_IP_PROTO) and track connections per session, so every
# fragment of a datagram picks the backend its first fragment picked (the
# default 5-tuple hash would scatter them, and no VM could reassemble).
resource "google_compute_region_backend_service" "forwarder" {
  name                  = "telemetry-udp-forwarder"
  region                = var.region
  protocol              = "UDP"
  load_balancing_scheme = "EXTERNAL"
  health_checks         = [google_compute_region_health_check.forwarder_lb.id]
  session_affinity      = "CLIENT_IP_PROTO"
  # Give in-flight batches time to flush when a VM leaves.
  connection_draining_timeout_sec = 30

  connection_tracking_policy {
    tracking_mode = "PER_SESSION"
  }

  backend {
    group          = google_compute_region_instance_group_manager.forwarder.instance_group
    balancing_mode = "CONNECTION"
  }
}

resource "google_compute_address" "forwarder" {
  name         = "telemetry-udp"
  region       = var.region
  address_type = "EXTERNAL"
  network_tier = "PREMIUM"
  depends_on   = [google_project_service.this]
}

# The only forwarding rule on this IP, UDP on all ports: fragments after the
# first have no destination port, and a rule listing ports would not forward
# them (Google: one UDP rule with all ports, or one L3_DEFAULT rule, per IP
# for fragmented UDP). The host firewall admits only the forwarder's port.
resource "google_compute_forwarding_rule" "forwarder" {
  name                  = "telemetry-udp"
  region                = var.region
  ip_protocol           = "UDP"
  all_ports             = true
  load_balancing_scheme = "EXTERNAL"
  ip_address            = google_compute_address.forwarder.address
  backend_service       = google_compute_region_backend_service.forwarder.id
  network_tier          = "PREMIUM"
}
