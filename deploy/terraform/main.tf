# The daily job on Google Cloud: a Cloud Run job running `python -m extract.job`, started at 08:00
# London time by Cloud Scheduler; its raw tables, models and run records in one BigQuery dataset;
# raw JSON, checkpoints and run records in one bucket; the EPC API token in Secret Manager. Each
# identity gets only what it uses.

locals {
  apis = [
    "bigquery.googleapis.com",
    "cloudscheduler.googleapis.com",
    "iam.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.apis)
  service            = each.value
  disable_on_destroy = false
}

# --- identities ------------------------------------------------------------------------------
resource "google_service_account" "job" {
  account_id   = "epc-daily-job"
  display_name = "EPC daily job (Cloud Run): extracts, builds, records"
}

resource "google_service_account" "scheduler" {
  account_id   = "epc-daily-scheduler"
  display_name = "EPC daily schedule: starts the Cloud Run job"
}

# --- warehouse -------------------------------------------------------------------------------
resource "google_bigquery_dataset" "raw" {
  dataset_id  = var.dataset
  location    = var.region
  description = "EPC raw tables (dlt), dbt models and pipeline_runs"
  depends_on  = [google_project_service.apis]
}

# dlt merges through a staging dataset named after the raw one
resource "google_bigquery_dataset" "staging" {
  dataset_id                  = "${var.dataset}_staging"
  location                    = var.region
  description                 = "dlt's merge staging for ${var.dataset} (truncated after each load)"
  default_table_expiration_ms = 7 * 24 * 3600 * 1000
  depends_on                  = [google_project_service.apis]
}

resource "google_bigquery_dataset_iam_member" "job_edits_raw" {
  dataset_id = google_bigquery_dataset.raw.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.job.email}"
}

resource "google_bigquery_dataset_iam_member" "job_edits_staging" {
  dataset_id = google_bigquery_dataset.staging.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.job.email}"
}

resource "google_project_iam_member" "job_runs_queries" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.job.email}"
}

# --- bucket ----------------------------------------------------------------------------------
resource "google_storage_bucket" "data" {
  name                        = var.bucket
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  # the raw NDJSON is history, read rarely once loaded: cheaper storage after a while
  lifecycle_rule {
    condition {
      age            = var.raw_json_nearline_after_days
      matches_prefix = ["epc/json/"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_iam_member" "job_manages_objects" {
  bucket = google_storage_bucket.data.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.job.email}"
}

# --- the API token ---------------------------------------------------------------------------
# Only the secret lives here; its value is added outside Terraform (README: gcloud secrets
# versions add), so it is in no file and no state.
resource "google_secret_manager_secret" "epc_api_token" {
  secret_id = "epc-api-token"
  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret_iam_member" "job_reads_token" {
  secret_id = google_secret_manager_secret.epc_api_token.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.job.email}"
}

# --- the job ---------------------------------------------------------------------------------
resource "google_cloud_run_v2_job" "daily" {
  name                = "epc-daily"
  location            = var.region
  deletion_protection = false

  template {
    task_count = 1
    template {
      service_account = google_service_account.job.email
      timeout         = "3600s"
      max_retries     = 0 # a failed run is recorded; the next day's run catches up

      containers {
        image = var.image
        args  = ["--kinds", var.kinds, "--log-format", "json"]

        resources {
          limits = {
            cpu    = "2"
            memory = "4Gi"
          }
        }

        env {
          name  = "PROJECT_ID"
          value = var.project_id
        }
        env {
          name  = "REGION"
          value = var.region
        }
        env {
          name  = "BQ_DATASET"
          value = google_bigquery_dataset.raw.dataset_id
        }
        env {
          name  = "BUCKET"
          value = "gs://${google_storage_bucket.data.name}"
        }
        env {
          name  = "START_YEAR"
          value = tostring(var.start_year)
        }
        env {
          name = "EPC_API_TOKEN"
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.epc_api_token.secret_id
              version = "latest"
            }
          }
        }
      }
    }
  }

  depends_on = [
    google_project_service.apis,
    google_secret_manager_secret_iam_member.job_reads_token,
  ]
}

# --- the schedule ----------------------------------------------------------------------------
resource "google_cloud_run_v2_job_iam_member" "scheduler_runs_job" {
  name     = google_cloud_run_v2_job.daily.name
  location = google_cloud_run_v2_job.daily.location
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_cloud_scheduler_job" "daily" {
  name             = "epc-daily"
  region           = var.region
  description      = "Starts the EPC daily job"
  schedule         = var.schedule
  time_zone        = var.time_zone
  attempt_deadline = "180s"

  retry_config {
    retry_count = 1
  }

  http_target {
    http_method = "POST"
    # Cloud Run Admin API v2: jobs.run
    uri = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${google_cloud_run_v2_job.daily.name}:run"

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_cloud_run_v2_job_iam_member.scheduler_runs_job]
}
