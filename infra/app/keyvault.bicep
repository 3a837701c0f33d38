// Key Vault for the web hook secret. Access is by RBAC only: the app's identity reads secrets (Key Vault
// Secrets User, for the Key Vault reference in its app settings); the deployer manages them, so azd can read
// the secret back on the next `azd provision` (instead of generating a new one) and an operator can rotate it.

param name string
param location string
param tags object
@secure()
@description('The web hook signing secret; azd generates it once (secretOrRandomPassword) and reuses it.')
param webhookSecret string
param principalId string
param deployerPrincipalId string = ''

var roles = loadJsonContent('../roles.json')

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'webhook-secret'
  properties: {
    value: webhookSecret
    contentType: 'HMAC-SHA256 key for X-MicrosoftSpeechServices-Signature'
  }
}

resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: deployerPrincipalId
  }
}

output name string = vault.name
output id string = vault.id
@description('The secret\'s URI without a version, so the app follows rotations.')
output webhookSecretUri string = secret.properties.secretUri
