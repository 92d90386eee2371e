// One storage account: Functions host storage, the deployment package, and the app's data
// (artifacts, imports, import reports, exports). Shared keys are off: every caller uses Entra ID.
param name string
param location string
param tags object
@description('Principal (the app identity) that gets data-plane access.')
param principalId string
param deploymentContainerName string
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
@description('Replication: ZRS (default) keeps three copies across the region\'s zones.')
param replication string = 'Standard_ZRS'
// Plain values with the hardened defaults, so a scanner (checkov) reads what is deployed.
@allowed([
  'Disabled'
  'Enabled'
])
@description('Disabled: reached through its private endpoints only; Enabled for development.')
param publicNetworkAccess string = 'Disabled'
@allowed([
  'Deny'
  'Allow'
])
param firewallDefaultAction string = 'Deny'

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
  // #checkov:skip=CKV_AZURE_206: geo replication copies the data to the paired region, which several EU regions lack (Italy North, Spain Central, Poland Central); ZRS by default, GZRS with the replication parameter
  // #checkov:skip=CKV_AZURE_36: no trusted Azure service needs the data: the app is the only caller, through its private endpoints
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: replication
  }
  properties: {
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: firewallDefaultAction
      bypass: 'None'
      ipRules: []
      virtualNetworkRules: []
    }
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

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
output systemTopicName string = blobEvents.name
