terraform {
  # 1.11 brings write-only arguments (secret_data_wo), so secret values passed
  # through variables are sent to Secret Manager without landing in state.
  required_version = ">= 1.11.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.40"
    }
  }

  # Partial configuration: bucket and prefix come from
  # `terraform init -backend-config=...` so no environment is baked in here.
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    app        = "runmat-telemetry"
    managed-by = "terraform"
  }
}
