# Global external Application Load Balancer in front of Cloud Run: managed
# certificates for both telemetry domains, one anycast IP, HTTP -> HTTPS.
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

resource "google_compute_url_map" "https" {
  name            = "telemetry-https"
  default_service = google_compute_backend_service.worker.id
}

resource "google_compute_managed_ssl_certificate" "https" {
  # Certificates are immutable; a domain change creates a new one first.
  name = "telemetry-${substr(sha256(join(",", values(local.domains))), 0, 8)}"

  managed {
    domains = values(local.domains)
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_target_https_proxy" "https" {
  name             = "telemetry-https"
  url_map          = google_compute_url_map.https.id
  ssl_certificates = [google_compute_managed_ssl_certificate.https.id]
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
