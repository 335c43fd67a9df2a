// The serverless chat on Azure: SignalR Service (Serverless mode, upstream to the app), a Flex Consumption
// Function App running as a user-assigned identity, Storage (no account keys) and Application Insights.
// `azd up` provisions this and deploys the `api` service (azure.yaml) to the app tagged azd-service-name 'api'.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names the resource group and seeds the resource names.')
param environmentName string

@minLength(1)
@description('Region for every resource. Flex Consumption runs in a subset of regions (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deploying user or pipeline principal; gets data roles for debugging. Empty: none.')
param principalId string = ''

@description('Kind of principalId: User when run by a person, ServicePrincipal in the pipeline (azd sets AZURE_PRINCIPAL_TYPE).')
@allowed([
  'User'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('SignalR Service pricing tier: Free_F1 (free, 20 connections, 20 000 messages a day) or Standard_S1 for real use.')
@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
param signalRSku string = 'Free_F1'

@description('SignalR Service units (Free_F1 allows only 1).')
@minValue(1)
param signalRCapacity int = 1

@description('identity (default): SignalR with local auth disabled, the app uses its managed identity, the upstream carries Entra tokens. key: access keys and X-ASRS-Signature.')
@allowed([
  'identity'
  'key'
])
param signalRAuth string = 'identity'

@description('entra (default): App Service Authentication with Microsoft Entra ID in front of the chat. none: no sign-in (names are claims, for demos).')
@allowed([
  'entra'
  'none'
])
param chatAuth string = 'entra'

@description('Application (client) id of an existing Entra app registration to use instead of creating one (for people who may not create registrations). Empty: the template creates it.')
param entraClientId string = ''

@description('SignalR hub the chat uses (CHAT_HUB_NAME).')
param hubName string = 'chat'

@description('Blob container for the chat history (CHAT_HISTORY_CONTAINER).')
param historyContainerName string = 'chat-history'

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
// One registration serves Easy Auth (entra) and is the audience of SignalR's upstream tokens (identity).
var needsRegistration = chatAuth == 'entra' || signalRAuth == 'identity'
var createRegistration = needsRegistration && empty(entraClientId)
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity './modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module signalRIdentity './modules/identity.bicep' = {
  name: 'signalr-identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}signalr-${resourceToken}'
    location: location
    tags: tags
  }
}

module entraApp './modules/entra-app.bicep' = if (createRegistration) {
  name: 'entra-app'
  scope: rg
  params: {
    uniqueName: 'serverless-signalr-chat-${resourceToken}'
    displayName: 'Serverless SignalR chat (${environmentName})'
    functionAppName: functionAppName
    appIdentityPrincipalId: identity.outputs.principalId
  }
}

var appClientId = createRegistration ? entraApp.outputs.clientId : entraClientId

module storage './modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    historyContainerName: historyContainerName
  }
}

module monitoring './modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module signalR './modules/signalr.bicep' = {
  name: 'signalr'
  scope: rg
  params: {
    name: '${abbrs.signalRServiceSignalR}${resourceToken}'
    location: location
    tags: tags
    sku: signalRSku
    capacity: signalRCapacity
    functionAppName: functionAppName
    auth: signalRAuth
    identityId: signalRIdentity.outputs.id
    upstreamAudience: appClientId
  }
}

module roles './modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    historyContainerName: storage.outputs.historyContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    signalRName: signalR.outputs.name
    signalRAuth: signalRAuth
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module app './modules/function-app.bicep' = {
  name: 'app'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    planName: '${abbrs.webServerFarms}${resourceToken}'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    historyContainerName: storage.outputs.historyContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    signalRName: signalR.outputs.name
    hubName: hubName
    signalRAuth: signalRAuth
    signalRIdentityPrincipalId: signalRIdentity.outputs.principalId
    upstreamAudience: signalR.outputs.upstreamAudience
    chatAuth: chatAuth
    entraClientId: appClientId
  }
  // The host starts with identity-based storage and telemetry: let the roles exist first.
  dependsOn: [
    roles
  ]
}

// Read by azd and printed for the user. No secret is output: in key mode the SignalR keys live only in app
// settings; in identity mode there are none.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.name
output SERVICE_API_NAME string = app.outputs.name
output SIGNALR_NAME string = signalR.outputs.name
output SIGNALR_UPSTREAM_URL_TEMPLATE string = signalR.outputs.upstreamUrlTemplate
output SIGNALR_AUTH string = signalRAuth
output CHAT_AUTH string = chatAuth
output ENTRA_APP_CLIENT_ID string = appClientId
output CHAT_URL string = 'https://${app.outputs.defaultHostName}/api/home'
