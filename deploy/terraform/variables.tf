variable "project_id" {
  description = "The Google Cloud project that runs the job and holds the dataset and the bucket."
  type        = string
}

variable "region" {
  description = "Where everything lives: the BigQuery dataset, the bucket, the job and its schedule."
  type        = string
  default     = "europe-west2"
}

variable "image" {
  description = "The job's container image (deploy/Dockerfile), e.g. europe-west2-docker.pkg.dev/PROJECT/epc/epc-job:TAG."
  type        = string
}

variable "dataset" {
  description = "The BigQuery dataset of the raw tables, the models and pipeline_runs (BQ_DATASET)."
  type        = string
  default     = "dame_epc"
}

variable "bucket" {
  description = "The bucket of the raw JSON, the checkpoints and the run records (BUCKET). Globally unique."
  type        = string
}

variable "kinds" {
  description = "The certificate kinds the daily run fetches."
  type        = string
  default     = "domestic,non-domestic,display"
}

variable "start_year" {
  description = "The first year the live source searches when it has no ledger yet (START_YEAR); backfill older years from the bulk files."
  type        = number
  default     = 2026
}

variable "schedule" {
  description = "When the job runs (unix-cron), in time_zone."
  type        = string
  default     = "0 8 * * *"
}

variable "time_zone" {
  description = "The schedule's IANA time zone: 08:00 London time on both sides of the clock changes."
  type        = string
  default     = "Europe/London"
}

variable "raw_json_nearline_after_days" {
  description = "Days after which the raw NDJSON (epc/json/) moves to Nearline storage."
  type        = number
  default     = 90
}
