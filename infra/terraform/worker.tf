# HTTP ingest worker on Cloud Run (v2 API).
locals {
  # Plain settings. Cloud Run sets PORT itself from container_port (PORT is a
  # reserved name there), so it is not listed.
  worker_env = {
    HOST         = "0.0.0.0"
    POSTHOG_HOST = var.posthog_host
    LOG_LEVEL    = var.log_level
    TRUST_PROXY  = var.worker_trust_proxy
    # The metrics listener. Cloud Run routes requests to container_port only,
    # so this port is reachable from the instance's own containers (the
    # Prometheus sidecar, which scrapes 0.0.0.0:<port>) and nothing else.
    METRICS_PORT = local.worker_metrics_port
    METRICS_HOST = "0.0.0.0"
    # Log lines carry projects/<project>/traces/<id>, which Cloud Logging links to Cloud Trace.
    GOOGLE_CLOUD_PROJECT = var.project_id
    # The container's limit, so queues, dedupe window and V8 heap are sized to it.
    MEMORY_LIMIT_MIB = tostring(local.worker_memory_mib)
  }

  # env var name => secret id; read by secret_key_ref, never as a plain value.
  worker_secret_env = {
    INGESTION_KEY   = "worker-ingestion-keys"
    POSTHOG_API_KEY = "posthog-api-key"
  }

  # GA4 is optional: the measurement id and its API secret are set together or
  # not at all (the worker enables GA4 only when both are present).
  ga_enabled           = var.ga_measurement_id != ""
  worker_ga_env        = { GA_MEASUREMENT_ID = var.ga_measurement_id }
  worker_ga_secret_env = { GA_API_SECRET = "ga-api-secret" }

  # Exact browser origins, comma-joined (validation refuses "*"); left unset
  # when there are none, so the worker allows no cross-origin browser.
  cors_enabled    = length(var.cors_origins) > 0
  worker_cors_env = { CORS_ORIGINS = join(",", var.cors_origins) }
}

resource "google_cloud_run_v2_service" "worker" {
  name                = "telemetry-worker"
  location            = var.region
  description         = "RunMat telemetry HTTP ingest worker"
  deletion_protection = true
  # Only the HTTPS load balancer (which routes the ingest paths and 404s the
  # rest) and this project's VPC reach the service; the run.app URL answers
  # 404 to anyone else on the internet. The forwarder VMs post to the run.app
  # URL from the VPC: no external IP, and their subnet has Private Google
  # Access, so the request counts as internal (see infra/README.md, "Network
  # paths"). Requests still need an ingestion key.
  ingress = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  labels  = local.labels

  template {
    service_account                  = google_service_account.worker.email
    max_instance_request_concurrency = var.worker_concurrency
    timeout                          = "30s"

    scaling {
      min_instance_count = var.worker_min_instances
      max_instance_count = var.worker_max_instances
    }

    # Direct VPC egress to Memorystore (dedupe.tf): private ranges go through
    # the VPC, everything else (PostHog, GA4, Google APIs) leaves as before.
    dynamic "vpc_access" {
      for_each = local.dedupe_enabled ? [google_compute_subnetwork.worker[0].id] : []
      content {
        network_interfaces {
          network    = google_compute_network.telemetry.id
          subnetwork = vpc_access.value
        }
        egress = "PRIVATE_RANGES_ONLY"
      }
    }

    containers {
      name  = "worker"
      image = var.worker_image

      ports {
        container_port = local.worker_port
      }

      resources {
        limits = {
          cpu    = var.worker_cpu
          memory = var.worker_memory
        }
        # The worker forwards to PostHog/GA4 after answering 202, so it needs
        # CPU between requests.
        cpu_idle          = false
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = merge(
          local.worker_env,
          { for k, v in local.worker_ga_env : k => v if local.ga_enabled },
          { for k, v in local.worker_cors_env : k => v if local.cors_enabled },
          { for k, v in local.worker_dedupe_env : k => v if local.dedupe_enabled },
        )
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = merge(local.worker_secret_env, { for k, v in local.worker_ga_secret_env : k => v if local.ga_enabled })
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.this[env.value].secret_id
              version = "latest"
            }
          }
        }
      }

      dynamic "env" {
        for_each = { for k, v in local.worker_dedupe_secret_env : k => v if local.dedupe_enabled }
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.dedupe_redis_url[0].secret_id
              version = "latest"
            }
          }
        }
      }

      # Traffic only once the queue and outbound clients are ready.
      startup_probe {
        initial_delay_seconds = 0
        period_seconds        = 2
        timeout_seconds       = 1
        failure_threshold     = 30
        http_get {
          path = local.readyz_path
          port = local.worker_port
        }
      }

      # Liveness uses /healthz, not /readyz: a full queue makes /readyz answer
      # 503, and restarting then would drop what is queued.
      liveness_probe {
        initial_delay_seconds = 10
        period_seconds        = 15
        timeout_seconds       = 2
        failure_threshold     = 3
        http_get {
          path = local.healthz_path
          port = local.worker_port
        }
      }
    }

    # Google's Managed Service for Prometheus sidecar: scrapes the worker's
    # metrics port (RunMonitoring config below) and writes to Cloud Monitoring
    # as the worker's service account. Started after the worker is up.
    containers {
      name       = "prometheus-sidecar"
      image      = var.gmp_sidecar_image
      depends_on = ["worker"]

      resources {
        limits = {
          cpu    = "1"
          memory = "256Mi"
        }
        # Scrapes between requests too (Google recommends instance-based billing for it).
        cpu_idle = false
      }

      volume_mounts {
        name       = "run-monitoring-config"
        mount_path = "/etc/rungmp"
      }
    }

    # The sidecar reads /etc/rungmp/config.yaml; without it, it would scrape
    # port 8080, which has no /metrics.
    volumes {
      name = "run-monitoring-config"
      secret {
        secret = google_secret_manager_secret.worker_run_monitoring.secret_id
        items {
          version = "latest"
          path    = "config.yaml"
        }
      }
    }
  }

  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }

  # A revision that cannot read its secrets never becomes ready.
  depends_on = [
    google_project_service.this,
    google_secret_manager_secret_iam_member.worker,
    google_secret_manager_secret_iam_member.worker_run_monitoring,
    google_secret_manager_secret_version.worker_run_monitoring,
    google_secret_manager_secret_iam_member.worker_dedupe,
    google_secret_manager_secret_version.dedupe_redis_url,
  ]
}

# The sidecar's RunMonitoring config (not a secret: Cloud Run mounts files
# only from Secret Manager). A change makes a new version; the next revision
# reads it.
resource "google_secret_manager_secret" "worker_run_monitoring" {
  secret_id = "telemetry-worker-run-monitoring"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret_version" "worker_run_monitoring" {
  secret      = google_secret_manager_secret.worker_run_monitoring.id
  secret_data = local.worker_run_monitoring
}

resource "google_secret_manager_secret_iam_member" "worker_run_monitoring" {
  secret_id = google_secret_manager_secret.worker_run_monitoring.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.worker.email}"
}

# Anyone may invoke the service: the ingress setting decides which network
# paths reach it (the load balancer carries no identity to check), and the
# worker checks the ingestion key itself.
resource "google_cloud_run_v2_service_iam_member" "worker_public" {
  name     = google_cloud_run_v2_service.worker.name
  location = google_cloud_run_v2_service.worker.location
  role     = "roles/run.invoker"
  member   = "allUsers"
}
