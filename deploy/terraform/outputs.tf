output "job_name" {
  description = "Run it now: gcloud run jobs execute <job_name> --region <region> --wait"
  value       = google_cloud_run_v2_job.daily.name
}

output "scheduler_job" {
  description = "The Cloud Scheduler job that starts the Cloud Run job."
  value       = google_cloud_scheduler_job.daily.name
}

output "bucket" {
  description = "BUCKET: raw JSON (epc/json/), checkpoints (state/) and run records (runs/)."
  value       = "gs://${google_storage_bucket.data.name}"
}

output "dataset" {
  description = "BQ_DATASET: raw tables, models and pipeline_runs."
  value       = "${var.project_id}.${google_bigquery_dataset.raw.dataset_id}"
}

output "secret" {
  description = "Add the token: printf %s \"$EPC_API_TOKEN\" | gcloud secrets versions add <secret> --data-file=-"
  value       = google_secret_manager_secret.epc_api_token.secret_id
}

output "job_service_account" {
  value = google_service_account.job.email
}

output "scheduler_service_account" {
  value = google_service_account.scheduler.email
}
