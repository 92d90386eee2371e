// The Event Grid topic passport events are published to (shared/publication/events.py, docs/interoperability.md):
// CloudEvents 1.0 in, as sent; Entra ID only (local auth, keys and SAS, off), the app's identity
// holding EventGrid Data Sender on this topic alone; reached through its private endpoint when
// hardened. Subscribers are the operator's (an event subscription per consumer).
param name string
param location string
param tags object
@description('Principal (the app identity) that publishes the events.')
param principalId string
// Plain values with the hardened defaults, so a scanner (checkov) reads what is deployed.
@allowed([
  'Disabled'
  'Enabled'
])
@description('Disabled: published to through its private endpoint only; Enabled for development.')
param publicNetworkAccess string = 'Disabled'
param logAnalyticsId string

var dataSender = 'd5a91429-5739-47e2-a06b-3470a27159e7'

resource topic 'Microsoft.EventGrid/topics@2022-06-15' = {
  name: name
  location: location
  tags: tags
  // Its own identity, for subscriptions that deliver to Azure destinations (a Service Bus queue,
  // say) as the topic rather than with a key.
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    publicNetworkAccess: publicNetworkAccess
    inboundIpRules: []
    // Seed 000: events stay in the region, as the data does.
    dataResidencyBoundary: 'WithinRegion'
  }
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, principalId, dataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataSender)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Publish and delivery failures, where the other services log.
resource logs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: topic
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

output id string = topic.id
output name string = topic.name
// `https://<name>.<region>-1.eventgrid.azure.net/api/events`: DPP_EVENTS_TOPIC_ENDPOINT.
output endpoint string = topic.properties.endpoint
