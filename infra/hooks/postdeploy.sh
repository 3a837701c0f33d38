#!/bin/sh
# azd postdeploy hook: register the Speech web hook for the deployed app, signed with the secret from Key Vault.
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
