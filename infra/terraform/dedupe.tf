# Shared dedupe: one Memorystore for Redis instance the worker's Cloud Run
# instances claim event uuids in (SET NX PX, one round trip per request or
# batch), so an event whose UDP copy (forwarder -> load balancer) and HTTP
# copy land on different instances still reaches PostHog and GA4 once.
#
# - AUTH on, and in-transit encryption (TLS, SERVER_AUTHENTICATION): the
#   worker connects with rediss://:<AUTH string>@<host>:<port> (port 6378
#   with TLS) and verifies the server's certificate against the instance's
#   own CA, passed as DEDUPE_REDIS_CA (every current CA: both during a CA
#   rotation).
# - Reached from Cloud Run by Direct VPC egress into the telemetry VPC
#   (worker.tf, vpc_access): no Serverless VPC Access connector to run or pay
#   for. The instance peers with the VPC (DIRECT_PEERING, the default).
# - The URL holds the AUTH string, so it is a Secret Manager secret read by
#   the worker's service account only, through secret_key_ref.
# - The workers fail open when Redis is slow or down (their local windows
#   decide), so BASIC (one node) is enough: maintenance or a failure costs
#   some duplicates at GA4 for its duration, never an event.
locals {
  dedupe_enabled = var.dedupe_redis_enabled

  # env var name => secret id; read by secret_key_ref, never as a plain value.
  worker_dedupe_secret_env = { DEDUPE_REDIS_URL = "dedupe-redis-url" }

  # Plain settings: the instance's server CA certificates (public, not
  # secret), PEM, concatenated. Empty when dedupe is off (and then not set).
  worker_dedupe_env = {
    DEDUPE_REDIS_CA = join("", flatten([for r in google_redis_instance.dedupe : [for c in r.server_ca_certs : c.cert]]))
  }
}

resource "google_compute_subnetwork" "worker" {
  count = local.dedupe_enabled ? 1 : 0

  name                     = "telemetry-worker"
  region                   = var.region
  network                  = google_compute_network.telemetry.id
  ip_cidr_range            = var.worker_subnet_cidr
  private_ip_google_access = true
}

resource "google_redis_instance" "dedupe" {
  count = local.dedupe_enabled ? 1 : 0

  name           = "telemetry-dedupe"
  display_name   = "RunMat telemetry shared dedupe"
  region         = var.region
  tier           = var.dedupe_redis_tier
  memory_size_gb = var.dedupe_redis_memory_size_gb
  redis_version  = var.dedupe_redis_version

  authorized_network      = google_compute_network.telemetry.id
  connect_mode            = "DIRECT_PEERING"
  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"

  redis_configs = {
    # Every key carries its TTL (the dedupe window). Should memory run out,
    # the claims closest to expiry go first, instead of SETs being refused.
    "maxmemory-policy" = "volatile-ttl"
  }

  labels     = local.labels
  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret" "dedupe_redis_url" {
  count = local.dedupe_enabled ? 1 : 0

  secret_id = "telemetry-dedupe-redis-url"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

# The AUTH string is an attribute of the instance, so it is in Terraform
# state whatever this resource does; a plain (not write-only) argument at
# least follows it when it changes (a new instance, an AUTH rotation) with a
# new secret version. A new version reaches new worker revisions; roll the
# service (README: Rotate the ingestion key, step 1) to move running ones.
resource "google_secret_manager_secret_version" "dedupe_redis_url" {
  count = local.dedupe_enabled ? 1 : 0

  secret      = google_secret_manager_secret.dedupe_redis_url[0].id
  secret_data = "rediss://:${google_redis_instance.dedupe[0].auth_string}@${google_redis_instance.dedupe[0].host}:${google_redis_instance.dedupe[0].port}"
}

resource "google_secret_manager_secret_iam_member" "worker_dedupe" {
  count = local.dedupe_enabled ? 1 : 0

  secret_id = google_secret_manager_secret.dedupe_redis_url[0].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.worker.email}"
}
