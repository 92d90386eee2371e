// Logs and traces: Application Insights on a Log Analytics workspace. Local (instrumentation key)
// authentication is off, so only Entra ID principals with the publisher role can send telemetry.
param logAnalyticsName string
param appInsightsName string
param location string
param tags object
@description('Principal (the app identity) allowed to publish telemetry.')
param principalId string

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Names where telemetry goes; with local auth disabled it is not a credential.
output connectionString string = appInsights.properties.ConnectionString
output name string = appInsights.name
output workspaceId string = logs.id
