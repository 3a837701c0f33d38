// Access to the destination container, new or existing (deployed into the destination's resource group).
// The harvester writes there: Storage Blob Data Contributor on the container only, not the whole account.
// The consumer example's blob trigger uses this account as its connection, for which Functions documents
// Storage Blob Data Owner and Storage Queue Data Contributor: Blob Data Owner on the container only, and Queue
// Data Contributor only on the queue where the trigger keeps a manifest that failed five times
// (webjobs-blobtrigger-poison, made here so that the role can be scoped to it), not on the account's others.

param accountName string
param containerName string
@description('Principal id of the harvester\'s identity.')
param principalId string
@description('Principal id of the consumer example\'s identity; empty when it is not deployed.')
param consumerPrincipalId string = ''

var roles = loadJsonContent('../roles.json')

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: accountName
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobs
  name: containerName
}

resource writer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, principalId, roles.storageBlobDataContributor)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource consumerBlobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(consumerPrincipalId)) {
  name: guid(container.id, consumerPrincipalId, roles.storageBlobDataOwner)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: consumerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource blobTriggerPoison 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = if (!empty(consumerPrincipalId)) {
  parent: queueService
  name: 'webjobs-blobtrigger-poison'
}

resource consumerPoison 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(consumerPrincipalId)) {
  name: guid(blobTriggerPoison.id, consumerPrincipalId, roles.storageQueueDataContributor)
  scope: blobTriggerPoison
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: consumerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output blobEndpoint string = account.properties.primaryEndpoints.blob
output containerUrl string = '${account.properties.primaryEndpoints.blob}${containerName}'
