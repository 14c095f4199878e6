# One public zone per telemetry domain. After the first apply, delegate each
# domain to the name servers in the `name_servers` output. UDP is udp.<domain>
# in both zones, which is what clients (and older builds, on .org) resolve.
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

# An A record for every HTTPS hostname inside a zone of ours. Hostnames in
# zones this stack does not manage (api.runmat.com) get no record here: the
# operator creates the ones in the operator_dns_records output.
resource "google_dns_record_set" "https" {
  for_each = local.https_managed_hosts

  managed_zone = google_dns_managed_zone.telemetry[each.value].name
  name         = "${each.key}."
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
