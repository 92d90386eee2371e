// Key Vault holding the passport signing key (EC P-256, ES256). RBAC mode, soft delete and purge
// protection; the app may only sign with this one key (Key Vault Crypto User on the key).
param name string
param location string
param tags object
@description('Principal (the app identity) that signs passports.')
param principalId string
param signingKeyName string = 'dpp-signing'

var cryptoUser = '12338af0-0e69-4776-bea7-57ae8d297424'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource signingKey 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: signingKeyName
  properties: {
    kty: 'EC'
    curveName: 'P-256'
    keyOps: ['sign', 'verify']
    attributes: {
      enabled: true
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

output name string = vault.name
// Without a version: the app follows rotations, and every version that signed stays published.
output signingKeyId string = '${vault.properties.vaultUri}keys/${signingKey.name}'
