// Cosmos DB for NoSQL: serverless by default, autoscale as an option; keys are disabled, so the
// app reaches it only through its identity and the data-plane role below.
param name string
param location string
param tags object
@description('Principal (the app identity) that reads and writes items.')
param principalId string
@allowed([
  'serverless'
  'provisioned'
])
param capacityMode string = 'serverless'
@description('Autoscale ceiling (RU/s) shared by the database in provisioned mode.')
param autoscaleMaxThroughput int = 1000
param databaseName string = 'dpp'
@description('EU regions that hold read replicas (e.g. northeurope); provisioned mode only: serverless accounts are single-region.')
param readRegions array = []
@description('Replicas in availability zones of each region (about +25% on provisioned throughput).')
param zoneRedundant bool = false
// Plain values with the hardened defaults, so a scanner (checkov) reads what is deployed.
@allowed([
  'Disabled'
  'Enabled'
])
@description('Disabled: reached through its private endpoint only; Enabled for development.')
param publicNetworkAccess string = 'Disabled'
param logAnalyticsId string

// The containers, partition keys and indexing the code uses (shared/storage/cosmos.py CONTAINERS);
// tests/infra/test_bicep.py checks this list against the code.
var containers = [
  {
    name: 'passports'
    partitionKey: '/dppId'
    includedPaths: ['/*']
    excludedPaths: ['/document/*', '/"_etag"/?']
  }
  {
    name: 'products'
    partitionKey: '/productId'
    includedPaths: ['/*']
    excludedPaths: ['/"_etag"/?']
  }
  {
    name: 'searchIndex'
    partitionKey: '/term'
    includedPaths: ['/issuer/?', '/status/?', '/keywords/[]/?']
    excludedPaths: ['/*']
  }
  {
    name: 'registrations'
    partitionKey: '/dppId'
    includedPaths: ['/*']
    excludedPaths: ['/payload/*', '/"_etag"/?']
  }
  {
    name: 'jobs'
    partitionKey: '/jobId'
    includedPaths: []
    excludedPaths: ['/*']
  }
  {
    name: 'operators'
    partitionKey: '/registry'
    includedPaths: []
    excludedPaths: ['/*']
  }
  {
    name: 'relations'
    partitionKey: '/target'
    includedPaths: ['/type/?']
    excludedPaths: ['/*']
  }
  {
    name: 'statusLists'
    partitionKey: '/listId'
    includedPaths: []
    excludedPaths: ['/*']
  }
  {
    // The change-feed trigger's leases (functions/changes.py), created here: the trigger's
    // identity has data-plane rights only, so create_lease_container_if_not_exists is off.
    name: 'leases'
    partitionKey: '/id'
    includedPaths: ['/*']
    excludedPaths: []
  }
]

// The write region first, then the read replicas (serverless accounts have one region only).
var replicaRegions = capacityMode == 'provisioned' ? readRegions : []
var regions = concat([location], replicaRegions)

// Cosmos DB Built-in Data Contributor: items only, no control plane.
var dataContributor = '00000000-0000-0000-0000-000000000002'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: publicNetworkAccess
    // One write region (the app's Session consistency and conflict-free writes rely on it).
    enableMultipleWriteLocations: false
    // No public IP may call it; the private endpoint is a separate path and not filtered here.
    isVirtualNetworkFilterEnabled: publicNetworkAccess == 'Disabled'
    virtualNetworkRules: []
    ipRules: []
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    // Service-managed failover to a read region, where there is one (serverless: none).
    enableAutomaticFailover: length(regions) > 1
    locations: [
      for (region, i) in regions: {
        locationName: region
        failoverPriority: i
        isZoneRedundant: zoneRedundant
      }
    ]
    capabilities: capacityMode == 'serverless' ? [{ name: 'EnableServerless' }] : []
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: capacityMode == 'provisioned' ? { autoscaleSettings: { maxThroughput: autoscaleMaxThroughput } } : {}
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for container in containers: {
    parent: database
    name: container.name
    properties: {
      resource: {
        id: container.name
        partitionKey: {
          paths: [container.partitionKey]
          kind: 'Hash'
          version: 2
        }
        indexingPolicy: {
          indexingMode: 'consistent'
          automatic: true
          includedPaths: [for path in container.includedPaths: { path: path }]
          excludedPaths: [for path in container.excludedPaths: { path: path }]
        }
      }
    }
  }
]

resource appAccess 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(account.id, principalId, dataContributor)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributor}'
    principalId: principalId
    scope: account.id
  }
}

resource logs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: logAnalyticsId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'DataPlaneRequests'
        enabled: true
      }
      {
        category: 'ControlPlaneRequests'
        enabled: true
      }
      {
        category: 'QueryRuntimeStatistics'
        enabled: true
      }
    ]
  }
}

output id string = account.id
output name string = account.name
// Where reads go, nearest first (COSMOS_PREFERRED_REGIONS).
output regions array = regions
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
