// Speech Harvester on Azure Functions Flex Consumption, deployed with `azd up`.
// Subscription scope: creates the resource group, then everything in it through the modules in app/ and
// monitor/. No shared keys anywhere: every connection is the app's user-assigned identity with a data role.

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names and the resource group derive from it.')
param environmentName string

@minLength(1)
@description('Region of every new resource (Flex Consumption must be available there).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of whoever runs azd: may register the web hook and manage the Key Vault secret. Empty to grant nothing.')
param principalId string = ''

@description('Memory of each instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Upper bound of scale-out.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('An existing Speech resource to use (it needs a custom subdomain); empty creates one.')
param existingSpeechName string = ''
@description('Resource group of the existing Speech resource; empty means the deployment\'s own.')
param existingSpeechResourceGroup string = ''
@description('Region of a new Speech resource; empty means `location`.')
param speechLocation string = ''
@allowed(['2024-11-15', '2025-10-15', 'v3.2'])
param speechApiVersion string = '2024-11-15'

@description('An existing storage account for the transcripts; empty creates one.')
param existingDestinationAccountName string = ''
@description('Resource group of the existing destination account; empty means the deployment\'s own.')
param existingDestinationResourceGroup string = ''
@description('The destination container (created with a new account; must exist in an existing one).')
param destinationContainerName string = 'transcripts'
@description('A folder inside the container, e.g. speech/ (DESTINATION_PREFIX).')
param destinationPrefix string = ''

@description('An Event Grid system topic that already exists on an existing destination account (one per account); empty names a new one.')
param destinationSystemTopicName string = ''

@description('Minutes between poll ticks (a divisor of 60); also what the "no poll tick" alert counts in.')
@allowed([1, 2, 3, 5, 10, 15, 30])
param pollIntervalMinutes int = 1
@allowed(['all', 'tracked'])
param discovery string = 'all'
param pendingWarningMinutes int = 120
param ttlWarningHours int = 6
param outputFormats string = 'json,txt,srt,vtt'
param harvestQueueName string = 'harvest-requests'
param ledgerTableName string = 'harvestledger'
@description('A Storage queue on the host account for transcript-ready events (NOTIFY_QUEUE); empty for none.')
param notifyQueueName string = 'transcript-events'

@description('Deploy the consumer example (examples/consumer, azd service "consumer"); with false, also remove that service from azure.yaml.')
param consumerEnabled bool = true

@secure()
@description('Signs the Speech web hook events. main.parameters.json lets azd generate it once and read it back from Key Vault.')
param webhookSecret string

@description('Private networking: a VNet for the app\'s outbound traffic, private endpoints for its storage.')
param vnetEnabled bool = false

@description('Who gets the alerts by e-mail; empty creates the alert rules without notification.')
param alertEmail string = ''

var abbrs = loadJsonContent('abbreviations.json')
var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var appName = '${abbrs.functionApp}${token}'
var deploymentContainerName = 'app-package-${take(token, 12)}'
var newSpeech = empty(existingSpeechName)
var speechName = newSpeech ? '${abbrs.speech}${token}' : existingSpeechName
var newDestination = empty(existingDestinationAccountName)
var destinationAccountName = newDestination ? '${abbrs.storageAccount}dest${token}' : existingDestinationAccountName
var notifyQueues = empty(notifyQueueName) ? [] : [notifyQueueName, '${notifyQueueName}-poison']
var hostQueues = concat([harvestQueueName, '${harvestQueueName}-poison'], notifyQueues)
var consumerIndexTable = 'transcriptindex'
var pollSchedule = pollIntervalMinutes == 1 ? '0 * * * * *' : '0 */${pollIntervalMinutes} * * * *'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourceGroup}${environmentName}'
  location: location
  tags: tags
}

resource speechGroup 'Microsoft.Resources/resourceGroups@2024-03-01' existing = {
  name: newSpeech || empty(existingSpeechResourceGroup) ? rg.name : existingSpeechResourceGroup
}

resource destinationGroup 'Microsoft.Resources/resourceGroups@2024-03-01' existing = {
  name: newDestination || empty(existingDestinationResourceGroup) ? rg.name : existingDestinationResourceGroup
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentity}harvester-${token}'
    location: location
    tags: tags
  }
}

module hostStorage 'app/function-storage.bicep' = {
  name: 'host-storage'
  scope: rg
  params: {
    name: '${abbrs.storageAccount}host${token}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    queueNames: hostQueues
    tableNames: [ledgerTableName]
    principalId: identity.outputs.principalId
    publicNetworkAccess: !vnetEnabled
  }
}

module destination 'app/destination.bicep' = if (newDestination) {
  name: 'destination'
  scope: rg
  params: {
    name: destinationAccountName
    location: location
    tags: tags
    containerName: destinationContainerName
    publicNetworkAccess: !vnetEnabled
  }
}

module destinationAccess 'app/destination-access.bicep' = {
  name: 'destination-access'
  scope: destinationGroup
  params: {
    accountName: destinationAccountName
    containerName: destinationContainerName
    principalId: identity.outputs.principalId
    consumerPrincipalId: consumerEnabled ? consumerIdentity.outputs.principalId : ''
  }
  dependsOn: [destination]
}

module destinationEvents 'app/destination-events.bicep' = {
  name: 'destination-events'
  scope: destinationGroup
  params: {
    name: empty(destinationSystemTopicName) ? '${abbrs.systemTopic}dest-${token}' : destinationSystemTopicName
    accountName: destinationAccountName
    tags: tags
  }
  dependsOn: [destination]
}

module speech 'app/speech.bicep' = if (newSpeech) {
  name: 'speech'
  scope: rg
  params: {
    name: speechName
    location: empty(speechLocation) ? location : speechLocation
    tags: tags
  }
}

module speechAccess 'app/speech-access.bicep' = {
  name: 'speech-access'
  scope: speechGroup
  params: {
    speechName: speechName
    principalId: identity.outputs.principalId
    deployerPrincipalId: principalId
  }
  dependsOn: [speech]
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.logAnalytics}${token}'
    appInsightsName: '${abbrs.appInsights}${token}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    consumerPrincipalId: consumerEnabled ? consumerIdentity.outputs.principalId : ''
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: '${abbrs.keyVault}${take(token, 16)}'
    location: location
    tags: tags
    webhookSecret: webhookSecret
    principalId: identity.outputs.principalId
    deployerPrincipalId: principalId
  }
}

module network 'app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: '${abbrs.virtualNetwork}${token}'
    location: location
    tags: tags
  }
}

// Private endpoints for each storage service the apps use; none without vnetEnabled.
var storageServices = vnetEnabled ? ['blob', 'queue', 'table'] : []

module hostEndpoints 'app/private-endpoint.bicep' = [for service in storageServices: {
  name: 'pe-host-${service}'
  scope: rg
  params: {
    name: '${abbrs.privateEndpoint}host-${service}-${token}'
    location: location
    tags: tags
    resourceId: hostStorage.outputs.id
    groupId: service
    subnetId: network.outputs.privateEndpointSubnetId
    dnsZoneId: network.outputs.dnsZoneIds[service]
  }
}]

module destinationEndpoint 'app/private-endpoint.bicep' = if (vnetEnabled && newDestination) {
  name: 'pe-destination-blob'
  scope: rg
  params: {
    name: '${abbrs.privateEndpoint}dest-blob-${token}'
    location: location
    tags: tags
    resourceId: destination.outputs.id
    groupId: 'blob'
    subnetId: network.outputs.privateEndpointSubnetId
    dnsZoneId: network.outputs.dnsZoneIds.blob
  }
}

module consumerEndpoints 'app/private-endpoint.bicep' = [for service in (consumerEnabled ? storageServices : []): {
  name: 'pe-consumer-${service}'
  scope: rg
  params: {
    name: '${abbrs.privateEndpoint}cons-${service}-${token}'
    location: location
    tags: tags
    resourceId: consumerStorage.outputs.id
    groupId: service
    subnetId: network.outputs.privateEndpointSubnetId
    dnsZoneId: network.outputs.dnsZoneIds[service]
  }
}]

// Everything the app reads (shared/settings.py), in the identity-based forms: no key, no SAS, no connection
// string with a secret. tests/infra checks this list against the settings model.
var appSettings = union({
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  AzureWebJobsStorage__blobServiceUri: hostStorage.outputs.blobEndpoint
  AzureWebJobsStorage__queueServiceUri: hostStorage.outputs.queueEndpoint
  AzureWebJobsStorage__tableServiceUri: hostStorage.outputs.tableEndpoint
  AZURE_CLIENT_ID: identity.outputs.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
  PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
  SPEECH_ENDPOINT: speechAccess.outputs.endpoint
  SPEECH_REGION: speechAccess.outputs.region
  SPEECH_API_VERSION: speechApiVersion
  DESTINATION_CONTAINER_URL: destinationAccess.outputs.containerUrl
  DESTINATION_PREFIX: destinationPrefix
  POLL_SCHEDULE: pollSchedule
  HARVEST_QUEUE: harvestQueueName
  LEDGER_TABLE: ledgerTableName
  DISCOVERY: discovery
  OUTPUT_FORMATS: outputFormats
  PENDING_WARNING_MINUTES: string(pendingWarningMinutes)
  TTL_WARNING_HOURS: string(ttlWarningHours)
  WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.webhookSecretUri})'
}, empty(notifyQueueName) ? {} : { NOTIFY_QUEUE: notifyQueueName })

module app 'app/function.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: appName
    planName: '${abbrs.flexPlan}${token}'
    location: location
    tags: tags
    serviceName: 'harvester'
    identityId: identity.outputs.id
    deploymentContainerUrl: hostStorage.outputs.deploymentContainerUrl
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    appSettings: appSettings
    subnetId: vnetEnabled ? network.outputs.appSubnetId : ''
  }
}

module consumerIdentity 'app/identity.bicep' = if (consumerEnabled) {
  name: 'consumer-identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentity}consumer-${token}'
    location: location
    tags: tags
  }
}

module notifyAccess 'app/notify-access.bicep' = if (consumerEnabled && !empty(notifyQueueName)) {
  name: 'notify-access'
  scope: rg
  params: {
    accountName: hostStorage.outputs.name
    queueNames: notifyQueues
    consumerPrincipalId: consumerIdentity.outputs.principalId
  }
}

module consumerStorage 'app/function-storage.bicep' = if (consumerEnabled) {
  name: 'consumer-storage'
  scope: rg
  params: {
    name: '${abbrs.storageAccount}cons${token}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    tableNames: [consumerIndexTable]
    principalId: consumerIdentity.outputs.principalId
    publicNetworkAccess: !vnetEnabled
  }
}

module consumer 'app/consumer.bicep' = if (consumerEnabled) {
  name: 'consumer'
  scope: rg
  params: {
    appName: '${abbrs.functionApp}consumer-${token}'
    planName: '${abbrs.flexPlan}consumer-${token}'
    location: location
    tags: tags
    identityId: consumerIdentity.outputs.id
    identityClientId: consumerIdentity.outputs.clientId
    storageBlobEndpoint: consumerStorage.outputs.blobEndpoint
    storageQueueEndpoint: consumerStorage.outputs.queueEndpoint
    storageTableEndpoint: consumerStorage.outputs.tableEndpoint
    deploymentContainerUrl: consumerStorage.outputs.deploymentContainerUrl
    indexTableName: consumerIndexTable
    destinationBlobEndpoint: destinationAccess.outputs.blobEndpoint
    destinationContainerName: destinationContainerName
    destinationPrefix: destinationPrefix
    notifyQueueEndpoint: hostStorage.outputs.queueEndpoint
    notifyQueueName: notifyQueueName
    appInsightsConnectionString: monitoring.outputs.connectionString
    subnetId: vnetEnabled ? network.outputs.consumerSubnetId : ''
  }
}

module alerts 'monitor/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: '${abbrs.alert}${token}'
    location: location
    tags: tags
    appInsightsId: monitoring.outputs.appInsightsId
    pendingWarningMinutes: pendingWarningMinutes
    pollIntervalMinutes: pollIntervalMinutes
    alertEmail: alertEmail
    actionGroupName: '${abbrs.actionGroup}${token}'
  }
}

module workbook 'monitor/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    appInsightsId: monitoring.outputs.appInsightsId
  }
}

// azd keeps these in .azure/<env>/.env; the postdeploy hook reads them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.name
output SERVICE_HARVESTER_URI string = 'https://${app.outputs.hostName}'
output WEBHOOK_URL string = 'https://${app.outputs.hostName}/api/webhooks/speech'
output SPEECH_ENDPOINT string = speechAccess.outputs.endpoint
output SPEECH_REGION string = speechAccess.outputs.region
output SPEECH_API_VERSION string = speechApiVersion
output DESTINATION_CONTAINER_URL string = destinationAccess.outputs.containerUrl
output DESTINATION_PREFIX string = destinationPrefix
output DESTINATION_SYSTEM_TOPIC string = destinationEvents.outputs.name
output DESTINATION_RESOURCE_GROUP string = destinationGroup.name
output DESTINATION_CONTAINER string = destinationContainerName
output HOST_STORAGE_BLOB_ENDPOINT string = hostStorage.outputs.blobEndpoint
output HOST_STORAGE_QUEUE_ENDPOINT string = hostStorage.outputs.queueEndpoint
output HOST_STORAGE_TABLE_ENDPOINT string = hostStorage.outputs.tableEndpoint
output CONSUMER_FUNCTION_APP_NAME string = consumerEnabled ? consumer.outputs.name : ''
output CONSUMER_HOST_NAME string = consumerEnabled ? consumer.outputs.hostName : ''
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
