#!/bin/sh
# azd postdeploy hook, after both apps are deployed:
# 1. register the Speech web hook for the harvester, signed with the secret from Key Vault;
# 2. subscribe the consumer example's blob trigger to the destination's manifest.json BlobCreated events
#    (infra/app/consumer-subscription.bicep), which needs the consumer's blobs extension key.
# azd exports the deployment's outputs (infra/main.bicep) as environment variables. Needs the Azure CLI signed
# in (`az login`) as the deployer, who holds Key Vault Secrets Officer and Cognitive Services Speech Contributor;
# the Python CLI reaches Speech with the deployer's Entra token (DefaultAzureCredential: az or azd login).
set -eu

: "${AZURE_KEY_VAULT_NAME:?run through azd (azd up / azd deploy)}"
: "${WEBHOOK_URL:?}" "${SPEECH_ENDPOINT:?}" "${DESTINATION_CONTAINER_URL:?}"

python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x .venv/bin/python ]; then python=.venv/bin/python; else python=python3; fi
fi

secret=$(az keyvault secret show --vault-name "$AZURE_KEY_VAULT_NAME" --name webhook-secret --query value -o tsv)

# The settings the CLI validates, in the app's identity-based forms (no key, no SAS), but without
# __credential=managedidentity: here the deployer's own sign-in (DefaultAzureCredential) is the identity.
register() {
  env WEBHOOK_SECRET="$secret" \
    SPEECH_ENDPOINT="$SPEECH_ENDPOINT" SPEECH_REGION="${SPEECH_REGION:-}" SPEECH_API_VERSION="${SPEECH_API_VERSION:-2024-11-15}" \
    DESTINATION_CONTAINER_URL="$DESTINATION_CONTAINER_URL" DESTINATION_PREFIX="${DESTINATION_PREFIX:-}" \
    AzureWebJobsStorage__blobServiceUri="$HOST_STORAGE_BLOB_ENDPOINT" \
    AzureWebJobsStorage__queueServiceUri="$HOST_STORAGE_QUEUE_ENDPOINT" \
    AzureWebJobsStorage__tableServiceUri="$HOST_STORAGE_TABLE_ENDPOINT" \
    "$python" -m shared.cli webhook register --url "$WEBHOOK_URL"
}

# New role assignments take a few minutes to reach Speech, and the app may still be starting (the service
# sends its challenge at once): try for about five minutes.
attempt=1
until register; do
  if [ "$attempt" -ge 10 ]; then
    echo "postdeploy: could not register the web hook; run infra/hooks/postdeploy.sh again later" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 30
done

[ -n "${CONSUMER_FUNCTION_APP_NAME:-}" ] || exit 0

# The blobs extension key exists once the consumer's host has started and indexed its Event Grid blob
# trigger; a request wakes the host. Try for about five minutes.
attempt=1
while :; do
  key=$(az functionapp keys list -g "$AZURE_RESOURCE_GROUP" -n "$CONSUMER_FUNCTION_APP_NAME" \
    --query systemKeys.blobs_extension -o tsv 2>/dev/null || true)
  [ -n "$key" ] && break
  if [ "$attempt" -ge 20 ]; then
    echo "postdeploy: the consumer has no blobs_extension key yet; run infra/hooks/postdeploy.sh again later" >&2
    exit 1
  fi
  curl -s -o /dev/null --max-time 30 "https://$CONSUMER_HOST_NAME/" || true
  attempt=$((attempt + 1))
  sleep 15
done

# The key goes to ARM as a secure parameter through a private file, never on a command line.
umask 077
parameters=$(mktemp)
trap 'rm -f "$parameters"' EXIT
cat >"$parameters" <<JSON
{
  "\$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "systemTopicName": {"value": "$DESTINATION_SYSTEM_TOPIC"},
    "consumerHostName": {"value": "$CONSUMER_HOST_NAME"},
    "blobsExtensionKey": {"value": "$key"},
    "containerName": {"value": "$DESTINATION_CONTAINER"},
    "prefix": {"value": "${DESTINATION_PREFIX:-}"}
  }
}
JSON
az deployment group create -g "$DESTINATION_RESOURCE_GROUP" --name consumer-subscription \
  --template-file infra/app/consumer-subscription.bicep --parameters "@$parameters" -o none
echo "postdeploy: manifest.json events of $DESTINATION_CONTAINER go to $CONSUMER_FUNCTION_APP_NAME"
