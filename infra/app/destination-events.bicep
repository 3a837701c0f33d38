// The Event Grid system topic on the destination account, the source of BlobCreated events for consumers.
// Its subscription is made after deployment (consumer-subscription.bicep, from the postdeploy hook), because
// the consumer's endpoint needs the blobs extension key, which exists only once the consumer app runs.

param name string
param accountName string
param tags object

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: accountName
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: name
  location: account.location
  tags: tags
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output name string = topic.name
