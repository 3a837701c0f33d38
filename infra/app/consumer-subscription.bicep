// The Event Grid subscription that feeds the consumer example's blob trigger (on_manifest): BlobCreated events
// of manifest.json files under the destination's transcriptions/ folder, sent to the Functions host's blobs
// extension endpoint. Deployed by infra/hooks/postdeploy.sh into the destination's resource group, after the
// consumer runs, because the endpoint needs the blobs extension key, which exists only then.

param systemTopicName string
param consumerHostName string
@description('The consumer\'s trigger function name, as the Functions host knows it.')
param functionName string = 'on_manifest'
@secure()
@description('The consumer app\'s blobs_extension system key (read after deployment, never stored).')
param blobsExtensionKey string
param containerName string
@description('DESTINATION_PREFIX, empty or ending in /.')
param prefix string = ''

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

resource manifests 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: 'transcript-manifests'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${consumerHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'
        maxEventsPerBatch: 1
      }
    }
    filter: {
      includedEventTypes: ['Microsoft.Storage.BlobCreated']
      subjectBeginsWith: '/blobServices/default/containers/${containerName}/blobs/${prefix}transcriptions/'
      subjectEndsWith: '/manifest.json'
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output name string = manifests.name
