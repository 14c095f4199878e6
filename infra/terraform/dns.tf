# One public zone per telemetry domain. After the first apply, delegate each
# domain to the name servers in the `name_servers` output.
resource "google_dns_managed_zone" "telemetry" {
  for_each = local.domains

  name        = "telemetry-${each.key}"
  dns_name    = "${each.value}."
  description = "RunMat telemetry (${each.key}): HTTPS ingest at the apex, UDP at udp."
  labels      = local.labels

  dnssec_config {
    state = "on"
  }

  depends_on = [google_project_service.this]
}

resource "google_dns_record_set" "https" {
  for_each = local.domains

  managed_zone = google_dns_managed_zone.telemetry[each.key].name
  name         = "${each.value}."
  type         = "A"
  ttl          = 300
  rrdatas      = [google_compute_global_address.https.address]
}

resource "google_dns_record_set" "udp" {
  for_each = local.domains

  managed_zone = google_dns_managed_zone.telemetry[each.key].name
  name         = "udp.${each.value}."
  type         = "A"
  ttl          = 300
  rrdatas      = [google_compute_address.forwarder.address]
}
