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
]

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
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
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

output name string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
