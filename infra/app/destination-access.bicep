// Access to the destination container, new or existing (deployed into the destination's resource group).
// The harvester writes there: Storage Blob Data Contributor on the container only, not the whole account.
// The consumer example only reads: Storage Blob Data Reader on the same container. (Functions lists Blob Data
// Owner and Queue Data Contributor for a blob trigger's connection, the queue part for its poison queue
// webjobs-blobtrigger-poison on that account. The example keeps to reading; grant those two here if you want
// manifests that failed five times kept on that queue.)

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

resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(consumerPrincipalId)) {
  name: guid(container.id, consumerPrincipalId, roles.storageBlobDataReader)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: consumerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output blobEndpoint string = account.properties.primaryEndpoints.blob
output containerUrl string = '${account.properties.primaryEndpoints.blob}${containerName}'
