// Access to the Speech resource, new or existing (deployed into its resource group). Cognitive Services
// Speech Contributor creates, lists and deletes transcriptions and web hooks; unlike Cognitive Services User
// it cannot read the resource's keys. The deployer gets it too, so the postdeploy hook can register the hook.

param speechName string
@description('Principal id of the harvester\'s identity.')
param principalId string
@description('The person or pipeline running azd (registers the web hook after deployment); empty to skip.')
param deployerPrincipalId string = ''

var roles = loadJsonContent('../roles.json')

resource speech 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: speechName
}

resource appSpeechContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(speech.id, principalId, roles.cognitiveServicesSpeechContributor)
  scope: speech
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesSpeechContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerSpeechContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(speech.id, deployerPrincipalId, roles.cognitiveServicesSpeechContributor)
  scope: speech
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesSpeechContributor)
    principalId: deployerPrincipalId
  }
}

@description('The custom-subdomain endpoint (https://<name>.cognitiveservices.azure.com/); Entra tokens need it.')
output endpoint string = speech.properties.endpoint
@description('The conversation endpoint cannot be derived from a custom domain, so SPEECH_REGION carries it.')
output region string = speech.location
