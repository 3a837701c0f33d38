// The ops workbook: throughput, latency percentiles, backlog by state, failures with reasons, Speech calls.
// The panels live in workbook.json (the workbook's own format); fallbackResourceIds binds them to the app's
// Application Insights.

param location string
param tags object
param appInsightsId string

var content = loadJsonContent('workbook.json')

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, appInsightsId, 'speech-harvester-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Speech Harvester'
    category: 'workbook'
    sourceId: appInsightsId
    serializedData: string(union(content, { fallbackResourceIds: [appInsightsId] }))
  }
}

output id string = workbook.id
