// The consumer example (examples/consumer, azd service "consumer"): a second Flex Consumption app that keeps
// a searchable index of transcripts. It has its own storage account (its host and the index table, made in
// main.bicep with function-storage.bicep), reads the destination container (Storage Blob Data Owner there and
// Queue Data Contributor on its blob trigger's poison queue, granted in destination-access.bicep) and the
// harvester's notify queue (notify-access.bicep), all with its own user-assigned identity. Its blob trigger
// is fed by the Event Grid subscription that the postdeploy hook creates (consumer-subscription.bicep).

param appName string
param planName string
param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
param deploymentContainerUrl string
param location string
param tags object
param identityId string
param identityClientId string
param destinationBlobEndpoint string
param destinationContainerName string
param destinationPrefix string
param notifyQueueEndpoint string
param notifyQueueName string
param indexTableName string
param appInsightsConnectionString string
param subnetId string = ''

// examples/consumer/local.settings.sample.json lists the same names with local values.
var appSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
  TranscriptsStorage__credential: 'managedidentity'
  TranscriptsStorage__clientId: identityClientId
  TranscriptsStorage__blobServiceUri: destinationBlobEndpoint
  TRANSCRIPTS_CONTAINER: destinationContainerName
  TRANSCRIPTS_PREFIX: destinationPrefix
  NotifyStorage__credential: 'managedidentity'
  NotifyStorage__clientId: identityClientId
  NotifyStorage__queueServiceUri: notifyQueueEndpoint
  NOTIFY_QUEUE: notifyQueueName
  INDEX_TABLE: indexTableName
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
}

module app 'function.bicep' = {
  name: 'consumer-app'
  params: {
    name: appName
    planName: planName
    location: location
    tags: tags
    serviceName: 'consumer'
    identityId: identityId
    deploymentContainerUrl: deploymentContainerUrl
    instanceMemoryMB: 512
    maximumInstanceCount: 10
    appSettings: appSettings
    subnetId: subnetId
  }
}

output name string = app.outputs.name
output hostName string = app.outputs.hostName
