// The Function App on the Flex Consumption plan (Linux, Python), running as the user-assigned
// identity. Every connection is identity-based: no key or connection string is in its settings.
param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param cosmosEndpoint string
param cosmosDatabase string
param signingKeyId string
param appInsightsConnectionString string
param authIssuer string
param authAudience string
param authJwksUrl string
param authOperatorClaim string
param alwaysReadyHttpInstances int
param instanceMemoryMB int
param maximumInstanceCount int
param retentionDays int
param publicMaxAge int
param registryUrl string
param registryAutoRegister bool
param corsOrigins string
@description('Regions Cosmos DB reads go to, nearest first (COSMOS_PREFERRED_REGIONS).')
param cosmosRegions array
@description('Subnet of the VNet integration (delegated to Microsoft.App/environments); empty = none.')
param subnetId string
@description('Front Door profile id (X-Azure-FDID): only requests through this profile are let in.')
param frontDoorId string
param zoneRedundant bool
@description('Where readers reach the service (the Front Door endpoint or the custom domain), as https://host.')
param publicUrl string
@description('Links to blobs: app (routes of the app, storage private) or sas (straight to storage) (DPP_STORAGE_LINKS).')
@allowed([
  'app'
  'sas'
])
param storageLinks string
@description('PIM connectors, a JSON list (DPP_CONNECTORS, docs/connectors.md); empty: none.')
param connectors string
@description('The Key Vault secret holding the connectors\' credentials (DPP_CONNECTOR_SECRETS resolves it).')
param connectorSecretsUri string
@description('The Event Grid topic passport events are published to (DPP_EVENTS_TOPIC_ENDPOINT).')
param eventsTopicEndpoint string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

// Names are the settings the code reads (shared/platform/settings.py SETTING_NAMES) and the host's own;
// tests/infra/test_bicep.py checks both directions and that no value is a key or connection string.
var appSettings = {
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  DPP_ENVIRONMENT: 'azure'
  AZURE_CLIENT_ID: identityClientId
  COSMOS_ENDPOINT: cosmosEndpoint
  // The change-feed trigger (functions/changes.py) connects as the app's identity too.
  COSMOS_CHANGES__accountEndpoint: cosmosEndpoint
  COSMOS_CHANGES__credential: 'managedidentity'
  COSMOS_CHANGES__clientId: identityClientId
  COSMOS_DATABASE: cosmosDatabase
  AUTH_ISSUER: authIssuer
  AUTH_AUDIENCE: authAudience
  AUTH_JWKS_URL: authJwksUrl
  AUTH_OPERATOR_CLAIM: authOperatorClaim
  DPP_SIGNING_KEY_ID: signingKeyId
  DPP_RETENTION_DAYS: string(retentionDays)
  DPP_PUBLIC_MAX_AGE: string(publicMaxAge)
  DPP_REGISTRY_URL: registryUrl
  DPP_REGISTRY_AUTO_REGISTER: string(registryAutoRegister)
  DPP_CORS_ORIGINS: corsOrigins
  COSMOS_PREFERRED_REGIONS: join(cosmosRegions, ',')
  // The app's own host name admits Front Door only: URLs and issuer DIDs name the edge's host.
  DPP_PUBLIC_URL: publicUrl
  DPP_STORAGE_LINKS: storageLinks
  DPP_CONNECTORS: connectors
  // A Key Vault reference: the platform resolves it with the app's identity, the value never
  // sits in the app's configuration (the operator sets the secret: docs/connectors.md).
  DPP_CONNECTOR_SECRETS: '@Microsoft.KeyVault(SecretUri=${connectorSecretsUri})'
  // Passport events (functions/changes.py), published as the app's identity.
  DPP_EVENTS_TOPIC_ENDPOINT: eventsTopicEndpoint
}

// The only callers let in: this Front Door profile (its service tag and its id in X-Azure-FDID,
// which another customer's Front Door cannot forge), and Event Grid delivering blob events to the
// blob triggers' webhook. Everything else is refused (403) before it reaches the app.
var accessRules = [
  {
    name: 'front-door'
    priority: 100
    action: 'Allow'
    tag: 'ServiceTag'
    ipAddress: 'AzureFrontDoor.Backend'
    headers: {
      'x-azure-fdid': [frontDoorId]
    }
  }
  {
    name: 'event-grid'
    priority: 200
    action: 'Allow'
    tag: 'ServiceTag'
    ipAddress: 'AzureEventGrid'
  }
]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // #checkov:skip=CKV_AZURE_225: zone redundancy is the zoneRedundant parameter (off by default: it needs always-ready instances in every zone, cost in docs/deploy.md)
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  // #checkov:skip=CKV_AZURE_222: Front Door Standard reaches its origin over the internet; the access rules admit only this profile (AzureFrontDoor.Backend with its X-Azure-FDID) and Event Grid, and deny the rest
  // #checkov:skip=CKV_AZURE_17: callers authenticate with Entra ID bearer tokens, and public reads are anonymous by design; client certificates have no issuer to trust
  // #checkov:skip=CKV_AZURE_212: Flex Consumption scales out by itself; always-ready instances are the alwaysReadyHttpInstances parameter
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references (DPP_CONNECTOR_SECRETS) are resolved as the user-assigned identity.
    keyVaultReferenceIdentity: identityId
    // Outbound through the VNet: the data services' names resolve to their private endpoints.
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // Readiness (functions/platform.py): the platform replaces an instance that fails it.
      healthCheckPath: '/api/health'
      ipSecurityRestrictions: accessRules
      ipSecurityRestrictionsDefaultAction: 'Deny'
      // Deployments (azd, OneDeploy) use the scm site, which takes Entra ID only (basic publishing
      // credentials are off below), so it keeps its own, open rules.
      scmIpSecurityRestrictionsUseMain: false
      // Platform CORS off: the app answers preflights and grants origins itself (functions/cors.py);
      // with origins listed here the platform would answer instead and replace the app's headers.
      cors: {
        allowedOrigins: []
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        // Warm instances for the HTTP group: reads never wait for a cold start.
        alwaysReady: [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ]
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }

  resource settings 'config' = {
    // #checkov:skip=CKV_AZURE_13: the app validates Entra ID tokens itself (shared/access); App Service Authentication would refuse the anonymous public reads the resolver must answer
    // #checkov:skip=CKV_AZURE_63: App Service HTTP logs do not exist on Flex Consumption; requests are logged by Application Insights and Front Door access logs
    // #checkov:skip=CKV_AZURE_65: detailed error pages are an IIS (Windows) feature; errors are Result objects, traced in Application Insights
    // #checkov:skip=CKV_AZURE_66: failed request tracing is an IIS (Windows) feature; failures are traced in Application Insights
    // #checkov:skip=CKV_AZURE_80: a Python app, no .NET Framework
    // #checkov:skip=CKV_AZURE_88: Flex Consumption has no Azure Files content share; the package is a blob read with the identity
    // #checkov:skip=CKV_AZURE_222: these are app settings, not a network setting; the site's access rules are above
    name: 'appsettings'
    properties: appSettings
  }
}

// No publishing with user names and passwords: deployments use Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
output id string = app.id
