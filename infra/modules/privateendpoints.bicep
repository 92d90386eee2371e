// A private endpoint for each data service the app uses (and the events' topic), in the `endpoints` subnet, each registered
// in its private DNS zone (network.bicep): inside the VNet the services' usual host names resolve
// to these private addresses, so the app's settings name the same endpoints as without them.
param prefix string
param location string
param tags object
param subnetId string
param cosmosAccountId string
param keyVaultId string
param storageAccountId string
param eventTopicId string

// Functions host storage needs blob, queue and table (leases, trigger receipts, timers); the
// deployment package and the app's data are blobs.
var endpoints = [
  {
    name: 'cosmos'
    serviceId: cosmosAccountId
    groupId: 'Sql'
    zone: 'privatelink.documents.azure.com'
  }
  {
    name: 'vault'
    serviceId: keyVaultId
    groupId: 'vault'
    zone: 'privatelink.vaultcore.azure.net'
  }
  {
    name: 'blob'
    serviceId: storageAccountId
    groupId: 'blob'
    zone: 'privatelink.blob.${environment().suffixes.storage}'
  }
  {
    name: 'queue'
    serviceId: storageAccountId
    groupId: 'queue'
    zone: 'privatelink.queue.${environment().suffixes.storage}'
  }
  {
    name: 'table'
    serviceId: storageAccountId
    groupId: 'table'
    zone: 'privatelink.table.${environment().suffixes.storage}'
  }
  {
    // The passport events' topic (events.bicep): the app publishes over it.
    name: 'events'
    serviceId: eventTopicId
    groupId: 'topic'
    zone: 'privatelink.eventgrid.azure.net'
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for endpoint in endpoints: {
    name: 'pe-${prefix}-${endpoint.name}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: subnetId
      }
      privateLinkServiceConnections: [
        {
          name: endpoint.name
          properties: {
            privateLinkServiceId: endpoint.serviceId
            groupIds: [endpoint.groupId]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (endpoint, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: replace(endpoint.zone, '.', '-')
          properties: {
            privateDnsZoneId: resourceId('Microsoft.Network/privateDnsZones', endpoint.zone)
          }
        }
      ]
    }
  }
]
