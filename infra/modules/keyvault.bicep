// Key Vault holding the passport signing key (EC P-256, ES256). RBAC mode, soft delete and purge
// protection; the app may only sign with this one key (Key Vault Crypto User on the key). The key is
// HSM-backed (Premium vault) unless keyType is EC, and rotates itself before it expires.
param name string
param location string
param tags object
@description('Principal (the app identity) that signs passports.')
param principalId string
param signingKeyName string = 'dpp-signing'
@description('The secret the operator sets with the PIM connectors\' credentials (docs/connectors.md).')
param connectorSecretName string = 'dpp-connector-secrets'
// Plain values with the hardened defaults, so a scanner (checkov) reads what is deployed.
@allowed([
  'EC-HSM'
  'EC'
])
@description('EC-HSM: the key lives in an HSM (Premium vault, default); EC: a software key (Standard vault).')
param keyType string = 'EC-HSM'
@allowed([
  'Disabled'
  'Enabled'
])
@description('Disabled: reached through its private endpoint only; Enabled for development.')
param publicNetworkAccess string = 'Disabled'
@allowed([
  'Deny'
  'Allow'
])
param firewallDefaultAction string = 'Deny'
param logAnalyticsId string
@description('Lifetime of each key version; the rotation policy makes the next one 30 days before it ends.')
param keyLifetime string = 'P1Y'
// Deployment time, the start of the first version's lifetime (utcNow() is allowed only here).
param deployedAt string = utcNow()

var cryptoUser = '12338af0-0e69-4776-bea7-57ae8d297424'
var secretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: keyType == 'EC-HSM' ? 'premium' : 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: firewallDefaultAction
      bypass: 'None'
    }
  }
}

resource signingKey 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: signingKeyName
  properties: {
    kty: keyType
    curveName: 'P-256'
    keyOps: ['sign', 'verify']
    attributes: {
      enabled: true
      exp: dateTimeToEpoch(dateTimeAdd(deployedAt, keyLifetime))
    }
    // A new version 30 days before the current one expires; the app signs with the newest and the
    // key ring keeps publishing (and verifying with) every version that signed.
    rotationPolicy: {
      attributes: {
        expiryTime: keyLifetime
      }
      lifetimeActions: [
        {
          trigger: {
            timeBeforeExpiry: 'P30D'
          }
          action: {
            type: 'rotate'
          }
        }
        {
          trigger: {
            timeBeforeExpiry: 'P30D'
          }
          action: {
            type: 'notify'
          }
        }
      ]
    }
  }
}

resource signer 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(signingKey.id, principalId, cryptoUser)
  scope: signingKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cryptoUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets User on the vault: the connectors' secret is set by the operator after the
// deployment (so it cannot be the scope here), and the vault holds no other secret.
resource secretReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, secretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource auditLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

output id string = vault.id
output name string = vault.name
// Without a version: the app follows rotations, and every version that signed stays published.
output connectorSecretsUri string = '${vault.properties.vaultUri}secrets/${connectorSecretName}'
output signingKeyId string = '${vault.properties.vaultUri}keys/${signingKey.name}'
