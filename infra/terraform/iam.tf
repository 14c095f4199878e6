# One identity per workload, with only the roles it uses.
resource "google_service_account" "worker" {
  account_id   = "telemetry-worker"
  display_name = "RunMat telemetry worker (Cloud Run)"
  depends_on   = [google_project_service.this]
}

resource "google_service_account" "forwarder" {
  account_id   = "telemetry-udp-forwarder"
  display_name = "RunMat telemetry UDP forwarder (instance group)"
  depends_on   = [google_project_service.this]
}

# Container-Optimized OS ships logs, and the collector next to the forwarder
# writes its scrapes, as the VM's service account.
resource "google_project_iam_member" "forwarder" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.forwarder.email}"
}

# The worker's Prometheus sidecar writes its scrapes to Cloud Monitoring as
# the service's identity.
resource "google_project_iam_member" "worker" {
  for_each = toset([
    "roles/monitoring.metricWriter",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.worker.email}"
}

# Pull access is scoped to the one repository, not the whole project.
resource "google_artifact_registry_repository_iam_member" "forwarder_reader" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.forwarder.email}"
}

# Cloud Run pulls the worker image with the service agent, but granting the
# runtime identity read access keeps cross-project image setups working too.
resource "google_artifact_registry_repository_iam_member" "worker_reader" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.worker.email}"
}
