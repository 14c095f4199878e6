# Secret containers. Values arrive either through the sensitive variables
# (write-only, so never in state) or out of band with
# `gcloud secrets versions add`; workloads always read the latest version.
locals {
  secrets = {
    worker-ingestion-keys   = { env = "INGESTION_KEY", value = var.worker_ingestion_keys }
    posthog-api-key         = { env = "POSTHOG_API_KEY", value = var.posthog_api_key }
    ga-api-secret           = { env = "GA_API_SECRET", value = var.ga_api_secret }
    forwarder-ingestion-key = { env = "TELEMETRY_INGESTION_KEY", value = var.forwarder_ingestion_key }
  }

  # Which secrets have a value is not itself secret; only the values are.
  secrets_with_values = nonsensitive(toset([for id, s in local.secrets : id if s.value != null]))
}

resource "google_secret_manager_secret" "this" {
  for_each = local.secrets

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
  secret_data_wo         = local.secrets[each.key].value
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
