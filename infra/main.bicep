// The whole DPP service in one resource group: `azd up`, or
// `az deployment sub create -l <region> -f infra/main.bicep -p infra/main.parameters.json`.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Name of the environment (azd env); names and tags every resource.')
param environmentName string

@minLength(1)
@description('Azure region of every resource.')
param location string

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

var token = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var jwksUrl = empty(authJwksUrl)
  ? 'https://login.microsoftonline.com/${tenant().tenantId}/discovery/v2.0/keys'
  : authJwksUrl
var deploymentContainerName = 'deployment-package'

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
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
  }
}

module functionApp 'modules/functionapp.bicep' = {
  scope: group
  name: 'functionapp'
  params: {
    name: 'func-dpp-${token}'
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
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = group.name
output API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
output JWKS_URL string = 'https://${functionApp.outputs.defaultHostName}/api/v1/keys'
output DID_DOCUMENT_URL string = 'https://${functionApp.outputs.defaultHostName}/api/did.json'
output FUNCTION_APP_NAME string = functionApp.outputs.name
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output EVENT_GRID_SYSTEM_TOPIC string = storage.outputs.systemTopicName
output COSMOS_ACCOUNT_NAME string = cosmos.outputs.name
output KEY_VAULT_NAME string = keyVault.outputs.name
output SIGNING_KEY_ID string = keyVault.outputs.signingKeyId
output APPLICATION_INSIGHTS_NAME string = monitoring.outputs.name
