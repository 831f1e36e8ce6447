#!/usr/bin/env bash
# Deploys the sensor pipeline to Cloud Functions (2nd gen) with gcloud.
# Usage: deploy.sh <project-id> <name-prefix> [region]
set -euo pipefail
project=${1:?usage: deploy.sh <project-id> <name-prefix> [region]}
prefix=${2:?usage: deploy.sh <project-id> <name-prefix> [region]}
region=${3:-europe-west1}
here=$(cd "$(dirname "$0")" && pwd)
example=$(cd "$here/../.." && pwd)

raw="$prefix-sensor-raw"
reports="$prefix-sensor-reports"
quarantine="$prefix-sensor-quarantine"
account="sensor-pipeline@$project.iam.gserviceaccount.com"
gcloud config set project "$project"

gcloud services enable cloudfunctions.googleapis.com run.googleapis.com eventarc.googleapis.com \
  cloudbuild.googleapis.com artifactregistry.googleapis.com pubsub.googleapis.com storage.googleapis.com

for bucket in "$raw" "$reports" "$quarantine"; do
  gcloud storage buckets create "gs://$bucket" --location="$region" --uniform-bucket-level-access
done

# One service account for both functions, with roles on the buckets it needs and nothing else.
gcloud iam service-accounts create sensor-pipeline --display-name="Sluice sensor pipeline"
gcloud storage buckets add-iam-policy-binding "gs://$raw" --member="serviceAccount:$account" --role=roles/storage.objectViewer
# objectUser: create and overwrite (a redelivered event rewrites the same report), and read for the roll-up.
gcloud storage buckets add-iam-policy-binding "gs://$reports" --member="serviceAccount:$account" --role=roles/storage.objectUser
gcloud storage buckets add-iam-policy-binding "gs://$quarantine" --member="serviceAccount:$account" --role=roles/storage.objectUser
# Eventarc delivers as this account, and Cloud Storage publishes its events through Pub/Sub.
gcloud projects add-iam-policy-binding "$project" --member="serviceAccount:$account" --role=roles/eventarc.eventReceiver
gcs_agent=$(gcloud storage service-agent --project="$project")
gcloud projects add-iam-policy-binding "$project" --member="serviceAccount:$gcs_agent" --role=roles/pubsub.publisher

cd "$example"
for fn in analyze-sensors roll-up-hourly; do
  npx sluice build src/function.ts --target gcp --function "$fn" --out ".sluice/build/gcp/$fn"
done

# NODE_ENV=production keeps the Functions Framework from answering with stack traces.
env="SENSOR_RAW_BUCKET=$raw,SENSOR_REPORT_BUCKET=$reports,SENSOR_QUARANTINE_BUCKET=$quarantine,FUNCTION_TIMEOUT_SEC=300,NODE_ENV=production"
# Eventarc cannot filter Cloud Storage events by object name: the bucket filter is the closest, and Sluice
# drops everything outside readings/ (and outside reports/readings/*.json) at run time.
gcloud functions deploy analyze-sensors --gen2 --region="$region" --runtime=nodejs22 \
  --source=".sluice/build/gcp/analyze-sensors" --entry-point=analyze-sensors \
  --trigger-event-filters="type=google.cloud.storage.object.v1.finalized" --trigger-event-filters="bucket=$raw" \
  --trigger-location="$region" --service-account="$account" --trigger-service-account="$account" \
  --retry --timeout=300s --memory=1Gi --set-env-vars="$env"
gcloud functions deploy roll-up-hourly --gen2 --region="$region" --runtime=nodejs22 \
  --source=".sluice/build/gcp/roll-up-hourly" --entry-point=roll-up-hourly \
  --trigger-event-filters="type=google.cloud.storage.object.v1.finalized" --trigger-event-filters="bucket=$reports" \
  --trigger-location="$region" --service-account="$account" --trigger-service-account="$account" \
  --retry --timeout=300s --memory=512Mi --max-instances=1 --set-env-vars="$env"
