// The whole DPP service in one resource group: `azd up`, or
// `az deployment sub create -l <region> -f infra/main.bicep -p infra/main.parameters.json`.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Name of the environment (azd env); names and tags every resource.')
param environmentName string

@minLength(1)
@description('Azure region of every resource; one of allowedRegions.')
param location string

// Seed 000: data stays in EU datacenters. Another jurisdiction is a deliberate override: pass its
// regions here (docs/deploy.md). A region outside the list fails the deployment at its first step.
@description('Regions location may be; default the EU regions.')
param allowedRegions array = [
  'westeurope'
  'northeurope'
  'francecentral'
  'francesouth'
  'germanywestcentral'
  'germanynorth'
  'italynorth'
  'spaincentral'
  'swedencentral'
  'polandcentral'
]

@description('Development only: public network access on Cosmos DB, Key Vault, Storage and the Event Grid topic of passport events, and no VNet or private endpoints (about $47 a month less). Off: the hardened shape.')
param developmentPublicAccess bool = false

@allowed([
  'Standard_AzureFrontDoor'
  'Premium_AzureFrontDoor'
])
@description('Front Door tier: Premium adds the managed WAF rule sets and the Private Link origin (about $300 a month more).')
param frontDoorSku string = 'Standard_AzureFrontDoor'

@description('Custom host name for the resolver and the API (a CNAME to the Front Door endpoint, managed certificate); empty = none.')
param customDomainName string = ''

@description('HSM-backed signing key (EC-HSM, Key Vault Premium); false = a software key.')
param hsmSigningKey bool = true

@description('EU regions with Cosmos DB read replicas (e.g. [\'northeurope\']); provisioned mode only.')
param cosmosReadRegions array = []

@description('Zone redundancy of Cosmos DB and the Function App plan (cost: docs/deploy.md).')
param zoneRedundant bool = false

@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
@description('Storage replication (cost: docs/deploy.md).')
param storageReplication string = 'Standard_ZRS'

@description('Expected issuer (iss) of bearer tokens: https://login.microsoftonline.com/<tenant-id>/v2.0 for Entra ID.')
param authIssuer string

@description('Expected audience (aud) of bearer tokens: the API app registration\'s Application ID URI or client id.')
param authAudience string

@description('JWKS of the issuer; empty = the Entra ID keys of this subscription\'s tenant.')
param authJwksUrl string = ''

@description('Token claim naming the economic operator a token acts for.')
param authOperatorClaim string = 'economicOperatorId'

@allowed([
  'serverless'
  'provisioned'
])
@description('Cosmos DB capacity: serverless (pay per request) or provisioned with autoscale.')
param cosmosCapacityMode string = 'serverless'

@description('Autoscale ceiling in RU/s when cosmosCapacityMode is provisioned.')
param cosmosAutoscaleMaxThroughput int = 1000

@description('Always-ready instances for the HTTP functions (0 accepts cold starts).')
param alwaysReadyHttpInstances int = 1

@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

param maximumInstanceCount int = 100

@description('Deletion refused until a passport is this many days old (DPP_RETENTION_DAYS).')
param retentionDays int = 0

@description('Cache lifetime of public (anonymous) answers in seconds (DPP_PUBLIC_MAX_AGE).')
param publicMaxAge int = 300

@description('External DPP registry that registrations are forwarded to; empty = record locally.')
param registryUrl string = ''

param registryAutoRegister bool = false

@description('Comma-separated origins whose pages may call the API with a bearer token (DPP_CORS_ORIGINS); public reads are open to every origin.')
param corsOrigins string = ''

@description('PIM connectors, a JSON list (DPP_CONNECTORS, docs/connectors.md); their credentials go in the Key Vault secret dpp-connector-secrets.')
param connectors string = ''

var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
// One line: checkov's Bicep parser stops at conditionals spread over lines.
var entraKeys = 'https://login.microsoftonline.com/${tenant().tenantId}/discovery/v2.0/keys'
var jwksUrl = empty(authJwksUrl) ? entraKeys : authJwksUrl
var regionAllowed = contains(allowedRegions, location)
var hardened = !developmentPublicAccess
// Links the app hands out to blobs (DPP_STORAGE_LINKS): with storage private, SAS URLs would not
// work from the internet (and Front Door Standard cannot reach private storage), so clients are
// sent to the app's own routes, which move the bytes over the private endpoints.
var storageLinks = hardened ? 'app' : 'sas'
var dataNetworkAccess = developmentPublicAccess ? 'Enabled' : 'Disabled'
var dataFirewall = developmentPublicAccess ? 'Allow' : 'Deny'
var functionAppName = 'func-dpp-${token}'
var deploymentContainerName = 'deployment-package'

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  // Not a region: the deployment stops here, naming why.
  location: regionAllowed ? location : 'location-${location}-is-not-in-allowedRegions'
  tags: tags
}

module identity 'modules/identity.bicep' = {
  scope: group
  name: 'identity'
  params: {
    name: 'id-dpp-${token}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: group
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-dpp-${token}'
    appInsightsName: 'appi-dpp-${token}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
  }
}

module storage 'modules/storage.bicep' = {
  scope: group
  name: 'storage'
  params: {
    name: 'stdpp${token}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    deploymentContainerName: deploymentContainerName
    replication: storageReplication
    publicNetworkAccess: dataNetworkAccess
    firewallDefaultAction: dataFirewall
  }
}

module cosmos 'modules/cosmos.bicep' = {
  scope: group
  name: 'cosmos'
  params: {
    name: 'cosmos-dpp-${token}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    capacityMode: cosmosCapacityMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    readRegions: cosmosReadRegions
    zoneRedundant: zoneRedundant
    publicNetworkAccess: dataNetworkAccess
    logAnalyticsId: monitoring.outputs.workspaceId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  scope: group
  name: 'keyvault'
  params: {
    name: 'kv-dpp-${token}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    keyType: hsmSigningKey ? 'EC-HSM' : 'EC'
    publicNetworkAccess: dataNetworkAccess
    firewallDefaultAction: dataFirewall
    logAnalyticsId: monitoring.outputs.workspaceId
  }
}

module events 'modules/events.bicep' = {
  scope: group
  name: 'events'
  params: {
    name: 'evgt-dpp-${token}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    publicNetworkAccess: dataNetworkAccess
    logAnalyticsId: monitoring.outputs.workspaceId
  }
}

module network 'modules/network.bicep' = if (hardened) {
  scope: group
  name: 'network'
  params: {
    name: 'vnet-dpp-${token}'
    location: location
    tags: tags
  }
}

module privateEndpoints 'modules/privateendpoints.bicep' = if (hardened) {
  scope: group
  name: 'privateendpoints'
  params: {
    prefix: 'dpp-${token}'
    location: location
    tags: tags
    subnetId: hardened ? network.outputs.endpointSubnetId : ''
    cosmosAccountId: cosmos.outputs.id
    keyVaultId: keyVault.outputs.id
    storageAccountId: storage.outputs.id
    eventTopicId: events.outputs.id
  }
}

module frontDoor 'modules/frontdoor.bicep' = {
  scope: group
  name: 'frontdoor'
  params: {
    name: 'afd-dpp-${token}'
    endpointName: 'dpp-${token}'
    tags: tags
    sku: frontDoorSku
    logAnalyticsId: monitoring.outputs.workspaceId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  scope: group
  name: 'functionapp'
  params: {
    name: functionAppName
    planName: 'plan-dpp-${token}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabase: cosmos.outputs.databaseName
    signingKeyId: keyVault.outputs.signingKeyId
    appInsightsConnectionString: monitoring.outputs.connectionString
    authIssuer: authIssuer
    authAudience: authAudience
    authJwksUrl: jwksUrl
    authOperatorClaim: authOperatorClaim
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    retentionDays: retentionDays
    publicMaxAge: publicMaxAge
    registryUrl: registryUrl
    registryAutoRegister: registryAutoRegister
    corsOrigins: corsOrigins
    cosmosRegions: cosmos.outputs.regions
    subnetId: hardened ? network.outputs.appSubnetId : ''
    frontDoorId: frontDoor.outputs.frontDoorId
    zoneRedundant: zoneRedundant
    publicUrl: 'https://${publicHost}'
    storageLinks: storageLinks
    connectors: connectors
    connectorSecretsUri: keyVault.outputs.connectorSecretsUri
    eventsTopicEndpoint: events.outputs.endpoint
  }
  // The app's host storage and data are reached through the private endpoints from its first start.
  dependsOn: [privateEndpoints]
}

module edge 'modules/frontdoor-routes.bicep' = {
  scope: group
  name: 'frontdoor-routes'
  params: {
    profileName: frontDoor.outputs.name
    endpointName: frontDoor.outputs.endpointName
    wafPolicyId: frontDoor.outputs.wafPolicyId
    premium: frontDoor.outputs.premium
    appHostName: functionApp.outputs.defaultHostName
    appId: functionApp.outputs.id
    location: location
    customDomainName: customDomainName
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = group.name
// Readers and clients use the edge (the app itself admits Front Door only).
var publicHost = empty(customDomainName) ? frontDoor.outputs.endpointHostName : customDomainName
output API_BASE_URL string = 'https://${publicHost}/api'
output JWKS_URL string = 'https://${publicHost}/api/v1/keys'
output DID_DOCUMENT_URL string = 'https://${publicHost}/api/did.json'
output FRONT_DOOR_ENDPOINT string = frontDoor.outputs.endpointHostName
output CUSTOM_DOMAIN_VALIDATION_TOKEN string = edge.outputs.customDomainValidation
output FUNCTION_APP_NAME string = functionApp.outputs.name
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output EVENT_GRID_SYSTEM_TOPIC string = storage.outputs.systemTopicName
// Where passport events are published: subscribe consumers here (docs/interoperability.md).
output EVENT_GRID_EVENTS_TOPIC string = events.outputs.name
output COSMOS_ACCOUNT_NAME string = cosmos.outputs.name
output KEY_VAULT_NAME string = keyVault.outputs.name
output SIGNING_KEY_ID string = keyVault.outputs.signingKeyId
output APPLICATION_INSIGHTS_NAME string = monitoring.outputs.name
