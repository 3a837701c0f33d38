// The app's user-assigned identity: every data-plane call (storage, Speech, Key Vault, Application Insights)
// runs as this identity, so roles are granted to one principal and survive the app being recreated.

param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
