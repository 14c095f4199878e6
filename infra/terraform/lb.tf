# Global external Application Load Balancer in front of Cloud Run: the
# hostnames and paths of var.https_hosts, a managed certificate per hostname,
# one anycast IP, HTTP -> HTTPS.
# (Cloud Run domain mappings are preview, limited to some regions and use the
# v1 API, so they are not used.)
resource "google_compute_global_address" "https" {
  name       = "telemetry-https"
  depends_on = [google_project_service.this]
}

resource "google_compute_region_network_endpoint_group" "worker" {
  name                  = "telemetry-worker-neg"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = google_cloud_run_v2_service.worker.name
  }
}

resource "google_compute_backend_service" "worker" {
  name                  = "telemetry-worker"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"

  backend {
    group = google_compute_region_network_endpoint_group.worker.id
  }

  log_config {
    enable      = true
    sample_rate = 0.1
  }
}

# Only the hostnames and paths in var.https_hosts reach the worker. Everything
# else (an unknown Host header, /healthz, /metrics, a typo) is answered 404 by
# the load balancer itself: the default route aborts every request it gets
# with fault injection, so none of it reaches Cloud Run.
resource "google_compute_url_map" "https" {
  name            = "telemetry-https"
  default_service = google_compute_backend_service.worker.id

  default_route_action {
    fault_injection_policy {
      abort {
        http_status = 404
        percentage  = 100
      }
    }
  }

  dynamic "host_rule" {
    for_each = local.https_path_matchers
    content {
      hosts        = host_rule.value.hosts
      path_matcher = host_rule.key
    }
  }

  dynamic "path_matcher" {
    for_each = local.https_path_matchers
    content {
      name            = path_matcher.key
      default_service = google_compute_backend_service.worker.id

      default_route_action {
        fault_injection_policy {
          abort {
            http_status = 404
            percentage  = 100
          }
        }
      }

      # Exact paths (query strings aside): /v1/t/ or /v1/tx are 404 too. No
      # method match, so CORS preflights (OPTIONS) reach the worker.
      route_rules {
        priority = 1
        service  = google_compute_backend_service.worker.id

        dynamic "match_rules" {
          for_each = path_matcher.value.paths
          content {
            full_path_match = match_rules.value
          }
        }
      }
    }
  }

  # Google checks these on every apply: each routed host and path resolves to
  # the worker, or the URL map is rejected.
  dynamic "test" {
    for_each = local.https_routes
    content {
      description = "${test.value.host}${test.value.path} reaches the worker"
      host        = test.value.host
      path        = test.value.path
      service     = google_compute_backend_service.worker.id
    }
  }
}

# One Google-managed certificate per hostname: a name whose DNS does not point
# here yet (api.runmat.com is an operator step) fails on its own instead of
# holding back, or permanently failing, a certificate shared with the others.
resource "google_compute_managed_ssl_certificate" "https" {
  for_each = local.https_hosts

  name = "telemetry-${substr(replace(each.key, ".", "-"), 0, 40)}-${substr(sha256(each.key), 0, 6)}"

  managed {
    domains = [each.key]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_target_https_proxy" "https" {
  name             = "telemetry-https"
  url_map          = google_compute_url_map.https.id
  ssl_certificates = [for host in sort(keys(local.https_hosts)) : google_compute_managed_ssl_certificate.https[host].id]
}

resource "google_compute_global_forwarding_rule" "https" {
  name                  = "telemetry-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  port_range            = "443"
  ip_address            = google_compute_global_address.https.id
  target                = google_compute_target_https_proxy.https.id
}

resource "google_compute_url_map" "http_redirect" {
  name = "telemetry-http-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "PERMANENT_REDIRECT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "http_redirect" {
  name    = "telemetry-http-redirect"
  url_map = google_compute_url_map.http_redirect.id
}

resource "google_compute_global_forwarding_rule" "http_redirect" {
  name                  = "telemetry-http-redirect"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_protocol           = "TCP"
  port_range            = "80"
  ip_address            = google_compute_global_address.https.id
  target                = google_compute_target_http_proxy.http_redirect.id
}
