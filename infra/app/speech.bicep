// A new Speech resource. Entra authentication needs a custom subdomain, and with it keys can be switched off.

param name string
param location string
param tags object
@allowed(['F0', 'S0'])
param sku string = 'S0'

resource speech 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'SpeechServices'
  sku: { name: sku }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

output name string = speech.name
