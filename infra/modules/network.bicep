// The private network: the Function App's outbound traffic leaves through the `app` subnet (VNet
// integration), and Cosmos DB, Key Vault and Storage are reached through private endpoints in the
// `endpoints` subnet, their names resolved by the private DNS zones linked here.
param name string
param location string
param tags object
param addressPrefix string = '10.40.0.0/16'
// Flex Consumption integrates with a subnet delegated to Microsoft.App/environments (a /24 leaves
// room for its scale-out; written out because checkov's parser does not know cidrSubnet()).
param appSubnet string = '10.40.0.0/24'
param endpointSubnet string = '10.40.1.0/24'

// The private DNS zones of every private endpoint (privateendpoints.bicep names the group of each);
// tests/infra/test_bicep.py checks each endpoint has its zone.
var zones = [
  'privatelink.documents.azure.com'
  'privatelink.vaultcore.azure.net'
  'privatelink.blob.${environment().suffixes.storage}'
  'privatelink.queue.${environment().suffixes.storage}'
  'privatelink.table.${environment().suffixes.storage}'
  'privatelink.eventgrid.azure.net'
]

resource appRules 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${name}-app'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

// Only the integrated app reaches the endpoints: inbound from the app subnet, nothing else.
resource endpointRules 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${name}-endpoints'
  location: location
  tags: tags
  properties: {
    securityRules: [
      {
        name: 'app-to-endpoints'
        properties: {
          priority: 100
          direction: 'Inbound'
          access: 'Allow'
          protocol: 'Tcp'
          sourceAddressPrefix: appSubnet
          sourcePortRange: '*'
          destinationAddressPrefix: endpointSubnet
          destinationPortRange: '443'
        }
      }
      {
        name: 'deny-other-inbound'
        properties: {
          priority: 4000
          direction: 'Inbound'
          access: 'Deny'
          protocol: '*'
          sourceAddressPrefix: '*'
          sourcePortRange: '*'
          destinationAddressPrefix: '*'
          destinationPortRange: '*'
        }
      }
    ]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [addressPrefix]
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnet
          networkSecurityGroup: {
            id: appRules.id
          }
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'endpoints'
        properties: {
          addressPrefix: endpointSubnet
          networkSecurityGroup: {
            id: endpointRules.id
          }
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
    ]
  }
}

resource privateZones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in zones: {
    name: zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in zones: {
    parent: privateZones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

output id string = vnet.id
output appSubnetId string = vnet.properties.subnets[0].id
output endpointSubnetId string = vnet.properties.subnets[1].id
