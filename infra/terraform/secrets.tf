# Secret containers. Values arrive either through the sensitive variables
# (write-only, so never in state) or out of band with
# `gcloud secrets versions add`; workloads always read the latest version.
locals {
  # secret id => the env var its value is read into.
  secret_env = {
    worker-ingestion-keys   = "INGESTION_KEY"
    posthog-api-key         = "POSTHOG_API_KEY"
    ga-api-secret           = "GA_API_SECRET"
    forwarder-ingestion-key = "TELEMETRY_INGESTION_KEY"
  }

  # Kept apart from secret_env so nothing iterated by for_each is sensitive.
  secret_values = {
    worker-ingestion-keys   = var.worker_ingestion_keys
    posthog-api-key         = var.posthog_api_key
    ga-api-secret           = var.ga_api_secret
    forwarder-ingestion-key = var.forwarder_ingestion_key
  }

  # Which secrets have a value is not itself secret; only the values are.
  secrets_with_values = nonsensitive(toset([for id, v in local.secret_values : id if v != null]))
}

resource "google_secret_manager_secret" "this" {
  for_each = local.secret_env

  secret_id = "telemetry-${each.key}"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret_version" "this" {
  for_each = local.secrets_with_values

  secret                 = google_secret_manager_secret.this[each.key].id
  secret_data_wo         = local.secret_values[each.key]
  secret_data_wo_version = var.secret_values_version
}

# Each secret is readable only by the one service account that needs it.
resource "google_secret_manager_secret_iam_member" "worker" {
  for_each = toset(["worker-ingestion-keys", "posthog-api-key", "ga-api-secret"])

  secret_id = google_secret_manager_secret.this[each.key].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.worker.email}"
}

resource "google_secret_manager_secret_iam_member" "forwarder" {
  secret_id = google_secret_manager_secret.this["forwarder-ingestion-key"].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.forwarder.email}"
}
