output "https_endpoints" {
  description = "HTTPS ingest URLs per hostname: single events on /ingest and /v1/t, batches on /v1/batch. Anything else on these hosts is a 404 from the load balancer."
  value       = { for host, paths in local.https_hosts : host => [for path in paths : "https://${host}${path}"] }
}

output "udp_endpoints" {
  description = "UDP endpoints (host:port) for the client's udp_endpoint, one per domain."
  value       = { for k, d in local.domains : k => "udp.${d}:${local.udp_port}" }
}

output "operator_dns_records" {
  description = "DNS records to create by hand in zones this stack does not manage (e.g. api.runmat.com): name, type, ttl, value. Until they exist those hostnames do not reach the load balancer and their certificates stay in provisioning."
  value = [for host in local.https_external_hosts : {
    name  = "${host}."
    type  = "A"
    ttl   = 300
    value = google_compute_global_address.https.address
  }]
}

output "certificate_names" {
  description = "Managed certificate per HTTPS hostname; watch provisioning with `gcloud compute ssl-certificates describe <name> --global`."
  value       = { for host, cert in google_compute_managed_ssl_certificate.https : host => cert.name }
}

output "name_servers" {
  description = "Cloud DNS name servers per domain; delegate each domain to these at its registrar."
  value       = { for k, z in google_dns_managed_zone.telemetry : local.domains[k] => z.name_servers }
}

output "https_ip" {
  description = "Anycast IP of the HTTPS load balancer."
  value       = google_compute_global_address.https.address
}

output "udp_ip" {
  description = "Static IP of the UDP load balancer."
  value       = google_compute_address.forwarder.address
}

output "worker_url" {
  description = "Cloud Run URL of the worker: what the forwarders post to from the VPC. Its ingress admits only the load balancer and the VPC, so from the internet it answers 404."
  value       = google_cloud_run_v2_service.worker.uri
}

output "image_repository" {
  description = "Artifact Registry path to push images to: <repo>/worker:<sha> and <repo>/udp-forwarder:<sha>."
  value       = "${local.image_registry_host}/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "worker_image" {
  description = "Worker image currently deployed (lets a pipeline redeploy one app and keep the other)."
  value       = var.worker_image
}

output "forwarder_image" {
  description = "Forwarder image currently deployed."
  value       = var.forwarder_image
}

output "secret_ids" {
  description = "Secret Manager secret ids, for `gcloud secrets versions add`."
  value       = { for k, s in google_secret_manager_secret.this : k => s.secret_id }
}

output "dedupe_redis" {
  description = "The shared-dedupe Memorystore instance (host, port, tier, GB) and the secret holding its rediss:// URL; null when dedupe_redis_enabled is false."
  value = local.dedupe_enabled ? {
    host           = google_redis_instance.dedupe[0].host
    port           = google_redis_instance.dedupe[0].port
    tier           = google_redis_instance.dedupe[0].tier
    memory_size_gb = google_redis_instance.dedupe[0].memory_size_gb
    url_secret     = google_secret_manager_secret.dedupe_redis_url[0].secret_id
  } : null
}
