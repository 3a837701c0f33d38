// Log Analytics and Application Insights with local (key-based) auth off: telemetry is accepted only with an
// Entra token, which the app's identity gets through Monitoring Metrics Publisher.

param logAnalyticsName string
param appInsightsName string
param location string
param tags object
param principalId string
@description('The consumer example\'s identity, which also sends telemetry; empty when it is not deployed.')
param consumerPrincipalId string = ''

var roles = loadJsonContent('../roles.json')

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
    features: { disableLocalAuth: true }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource consumerMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(consumerPrincipalId)) {
  name: guid(appInsights.id, consumerPrincipalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: consumerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output appInsightsId string = appInsights.id
output appInsightsName string = appInsights.name
@description('The connection string holds the instrumentation key and endpoints, not a secret: with local auth off, ingestion needs an Entra token.')
output connectionString string = appInsights.properties.ConnectionString
output workspaceId string = workspace.id
