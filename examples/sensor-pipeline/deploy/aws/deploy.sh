#!/usr/bin/env bash
# Builds both stages and the layer of what they share with `sluice build --layer`, and deploys them with
# SAM. Usage: deploy.sh <name-prefix> [region]
set -euo pipefail
prefix=${1:?usage: deploy.sh <name-prefix> [region]}
region=${2:-${AWS_REGION:-us-east-1}}
here=$(cd "$(dirname "$0")" && pwd)
example=$(cd "$here/../.." && pwd)

cd "$example"
# .sluice/build/aws/<function>/<function>.zip for each stage, and .sluice/build/aws/layer.zip
npx sluice build src/function.ts --target aws --layer --out .sluice/build/aws

cd "$here"
sam deploy \
  --template-file template.yaml \
  --stack-name "$prefix-sensor-pipeline" \
  --region "$region" \
  --capabilities CAPABILITY_IAM \
  --resolve-s3 \
  --parameter-overrides "NamePrefix=$prefix"
