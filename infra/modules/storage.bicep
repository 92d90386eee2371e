// One storage account: Functions host storage, the deployment package, and the app's data
// (artifacts, imports, import reports, exports). Shared keys are off: every caller uses Entra ID.
param name string
param location string
param tags object
@description('Principal (the app identity) that gets data-plane access.')
param principalId string
param deploymentContainerName string

// The app's containers (shared/passports/artifacts.py, shared/onboarding/imports.py, shared/onboarding/exports.py); tests/infra/test_bicep.py
// checks this list against the code.
var blobContainers = [
  deploymentContainerName
  'artifacts'
  'imports'
  'import-reports'
  'exports'
]

// Blob Data Owner: host leases, the package, app data, and user delegation keys for download
// links. Queue and Table Data Contributor: the Functions host's own bookkeeping (blob trigger
// receipts, timers).
var roles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in blobContainers: {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
    }
  }
]

resource dataAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in roles: {
    name: guid(account.id, principalId, role)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Blob events for the blob-triggered functions (Flex Consumption supports only the Event Grid
// source); the subscriptions are made after the code is deployed (infra/eventgrid.bicep).
resource blobEvents 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: 'evgt-${name}'
  location: location
  tags: tags
  properties: {
    source: account.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
output systemTopicName string = blobEvents.name
