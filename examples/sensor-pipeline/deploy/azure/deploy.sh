#!/usr/bin/env bash
# Deploys the sensor pipeline to Azure Functions. Usage: deploy.sh <resource-group> <prefix> [location]
set -euo pipefail
group=${1:?usage: deploy.sh <resource-group> <prefix> [location]}
prefix=${2:?usage: deploy.sh <resource-group> <prefix> [location]}
location=${3:-westeurope}
here=$(cd "$(dirname "$0")" && pwd)
example=$(cd "$here/../.." && pwd)

az group create --name "$group" --location "$location" >/dev/null
# 1. Infrastructure, without the Event Grid subscriptions (their functions do not exist yet).
az deployment group create --resource-group "$group" --template-file "$here/main.bicep" \
  --parameters prefix="$prefix" location="$location" deploySubscriptions=false >/dev/null

# 2. The code: one app folder per function, merged into one app (both register with @azure/functions).
cd "$example"
for fn in analyze-sensors roll-up-hourly; do
  npx sluice build src/function.ts --target azure --function "$fn" --out ".sluice/build/azure/$fn"
done
app=".sluice/build/azure/app"
rm -rf "$app" && mkdir -p "$app/dist"
cp .sluice/build/azure/analyze-sensors/host.json "$app/"
cp .sluice/build/azure/analyze-sensors/dist/index.js "$app/dist/analyze-sensors.js"
cp .sluice/build/azure/roll-up-hourly/dist/index.js "$app/dist/roll-up-hourly.js"
printf '{ "name": "sensor-pipeline", "version": "1.0.0", "private": true, "main": "dist/*.js" }\n' > "$app/package.json"
(cd "$app" && zip -qr ../app.zip .)
az functionapp deployment source config-zip --resource-group "$group" --name "$prefix-sensors" --src .sluice/build/azure/app.zip

# 3. The subscriptions, now that the functions exist.
az deployment group create --resource-group "$group" --template-file "$here/main.bicep" \
  --parameters prefix="$prefix" location="$location" deploySubscriptions=true >/dev/null
