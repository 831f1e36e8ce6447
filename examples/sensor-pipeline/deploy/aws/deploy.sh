#!/usr/bin/env bash
# Builds both stages with `sluice build` and deploys them with SAM. Usage: deploy.sh <name-prefix> [region]
set -euo pipefail
prefix=${1:?usage: deploy.sh <name-prefix> [region]}
region=${2:-${AWS_REGION:-us-east-1}}
here=$(cd "$(dirname "$0")" && pwd)
example=$(cd "$here/../.." && pwd)

cd "$example"
for fn in analyze-sensors roll-up-hourly; do
  npx sluice build src/function.ts --target aws --function "$fn" --out ".sluice/build/aws/$fn"
done

cd "$here"
sam deploy \
  --template-file template.yaml \
  --stack-name "$prefix-sensor-pipeline" \
  --region "$region" \
  --capabilities CAPABILITY_IAM \
  --resolve-s3 \
  --parameter-overrides "NamePrefix=$prefix"
