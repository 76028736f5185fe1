terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0" # google_cloud_run_v2_job with deletion_protection, secret env via value_source
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
