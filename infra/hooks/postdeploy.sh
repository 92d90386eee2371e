#!/bin/sh
# azd postdeploy hook: subscribe the blob-triggered functions to blob events. It runs after the
# code is deployed because the webhook needs the host's blobs_extension key, which exists only once
# the host has started with a blob trigger. Safe to run again (the deployment is idempotent).
set -eu
: "${AZURE_RESOURCE_GROUP:?run through azd, or export AZURE_RESOURCE_GROUP}"
: "${FUNCTION_APP_NAME:?}"
: "${EVENT_GRID_SYSTEM_TOPIC:?}"
az deployment group create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name eventgrid-subscriptions \
  --template-file "$(dirname "$0")/../eventgrid.bicep" \
  --parameters functionAppName="$FUNCTION_APP_NAME" systemTopicName="$EVENT_GRID_SYSTEM_TOPIC" \
  --output none
echo "Event Grid subscriptions for import_upload and export_request are in place."
