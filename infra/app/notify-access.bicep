// The consumer example's access to the harvester's notify queue: Storage Queue Data Contributor on that queue
// and its poison queue only (the queue trigger reads, deletes, and moves poison messages), not the account,
// so the consumer cannot touch the harvest queue or the ledger.

param accountName string
param queueNames array
param consumerPrincipalId string

var roles = loadJsonContent('../roles.json')

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: accountName
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = [for queue in queueNames: {
  parent: queueService
  name: queue
}]

resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (queue, i) in queueNames: {
  name: guid(queues[i].id, consumerPrincipalId, roles.storageQueueDataContributor)
  scope: queues[i]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: consumerPrincipalId
    principalType: 'ServicePrincipal'
  }
}]
