// The serverless chat on Azure: a realtime service (REALTIME_SERVICE: SignalR Service in Serverless mode with its
// upstream to the app, or Web PubSub with its event handler to the app), a Flex Consumption Function App running as a
// user-assigned identity, Storage (no account keys) and Application Insights.
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

@description('Pricing tier of the realtime service (SignalR and Web PubSub use the same names): Standard_S1 (default: the tier with an SLA and private endpoints), Premium_P1 (zone redundancy, autoscale) or Free_F1 (20 connections, 20 000 messages a day, no SLA: for a try-out). With networkIsolation, Free_F1 becomes Standard_S1 (docs/deploy.md has the prices).')
@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
param signalRSku string = 'Standard_S1'

@description('Units of the realtime service (Free_F1 allows only 1).')
@minValue(1)
param signalRCapacity int = 1

@description('identity (default): the realtime service with local auth disabled, the app uses its managed identity, the upstream carries Entra tokens. key: access keys and X-ASRS-Signature (SignalR) or ce-signature (Web PubSub).')
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

@description('Application (client) id of an existing Entra app registration. Set (by the first `azd up`\'s ENTRA_CLIENT_ID output, or by an admin): nothing is written to Microsoft Graph. Empty: the template creates the registration.')
param entraClientId string = ''

@description('With entraClientId: the Graph uniqueName of a registration an admin created and made the deployer owner of; the template then adds only the federated credential for the app\'s identity (one pass). Empty: no Graph write.')
param entraAppUniqueName string = ''

@description('true: grant tenant-wide admin consent to the sign-in permissions (the deployer must be an admin). Only when the template creates the registration.')
param entraGrantAdminConsent bool = false

@description('true: only users assigned the Chat.User role (or members of entraSignInGroupId) may sign in; SignalR\'s identity is assigned its upstream role. Only when the template creates the registration.')
param entraAssignmentRequired bool = false

@description('Object id of the security group whose members may sign in when entraAssignmentRequired is true.')
param entraSignInGroupId string = ''

@description('true: a VNet, Flex Consumption VNet integration, private endpoints for Storage and the realtime service, a shared private endpoint for its upstream calls, Storage without a public endpoint, the realtime service\'s REST API private (clients stay public). Its tier becomes at least Standard_S1.')
param networkIsolation bool = false

@description('Tags merged into every resource\'s tags (e.g. mandatory cost-center or owner tags of a landing zone), from the EXTRA_TAGS azd variable as JSON: {"costCenter":"1234"}.')
param extraTags object = {}

@description('Days a chat history segment is kept after its last append, and an attachment after its upload; 0 keeps both forever.')
@minValue(0)
param historyRetentionDays int = 365

@description('Days a clientMessageId marker (the retry de-duplication record) is kept.')
@minValue(1)
param markerRetentionDays int = 2

@description('Days a user\'s command-limit bucket (_limits/<user>) is kept after its last write.')
@minValue(1)
param limitRetentionDays int = 1

@description('The realtime service: signalr (Azure SignalR Service, Serverless mode: the SignalR chat) or webpubsub (Azure Web PubSub: the raw-WebSocket chat). Exactly one is deployed, with the same private endpoint, diagnostics and role wiring (docs/deploy.md, "SignalR or Web PubSub").')
@allowed([
  'signalr'
  'webpubsub'
])
param realtimeService string = 'signalr'

@description('The hub the chat uses (CHAT_HUB_NAME), in SignalR or in Web PubSub.')
param hubName string = 'chat'

@description('Blob container for the chat history (CHAT_HISTORY_CONTAINER).')
param historyContainerName string = 'chat-history'

@description('Blob container that holds attachments (files and images; docs/architecture.md, "Attachments").')
param attachmentsContainerName string = 'chat-attachments'

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
// azd finds its resources by azd-env-name, so a tag in extraTags cannot override it.
var tags = union(extraTags, {
  'azd-env-name': environmentName
})

var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
// One registration serves Easy Auth (entra) and is the audience of the realtime service's upstream tokens (identity).
var needsRegistration = chatAuth == 'entra' || signalRAuth == 'identity'
var createRegistration = needsRegistration && empty(entraClientId)
// An admin-made registration the deployer owns: only its federated credential is written.
var addCredentialOnly = needsRegistration && !empty(entraClientId) && !empty(entraAppUniqueName) && chatAuth == 'entra'
// Private endpoints need Standard or Premium; Free_F1 cannot have them.
var effectiveSignalRSku = networkIsolation && signalRSku == 'Free_F1' ? 'Standard_S1' : signalRSku
var useWebPubSub = realtimeService == 'webpubsub'
var signalRName = '${abbrs.signalRServiceSignalR}${resourceToken}'
var webPubSubName = '${abbrs.signalRServiceWebPubSub}${resourceToken}'
var storageAccountName = '${abbrs.storageStorageAccounts}${resourceToken}'
// Per realtime service: its private link sub-resource and private DNS zone (Learn, "Use private endpoints for Azure
// SignalR Service" and "... for Azure Web PubSub").
var realtimePrivateLinks = {
  signalr: {
    groupId: 'signalr'
    privateDnsZone: 'privatelink.service.signalr.net'
  }
  webpubsub: {
    groupId: 'webpubsub'
    privateDnsZone: 'privatelink.webpubsub.azure.com'
  }
}
var realtimePrivateLink = realtimePrivateLinks[realtimeService]
var realtimePrivateDnsZone = realtimePrivateLink.privateDnsZone
var blobPrivateDnsZone = 'privatelink.blob.${environment().suffixes.storage}'
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

// The realtime service's own identity (SignalR's or Web PubSub's): it gets the upstream tokens the app checks.
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
    functionAppHostName: app.outputs.defaultHostName
    appIdentityPrincipalId: identity.outputs.principalId
    signalRIdentityPrincipalId: signalRIdentity.outputs.principalId
    ownerPrincipalId: principalId
    grantAdminConsent: entraGrantAdminConsent
    assignmentRequired: entraAssignmentRequired
    signInGroupId: entraSignInGroupId
  }
}

module entraCredential './modules/entra-credential.bicep' = if (addCredentialOnly) {
  name: 'entra-credential'
  scope: rg
  params: {
    uniqueName: entraAppUniqueName
    appIdentityPrincipalId: identity.outputs.principalId
  }
}

// `.?` with a fallback: the module's output is read only when it was deployed (no BCP318 warning).
var appClientId = createRegistration ? (entraApp.?outputs.clientId ?? '') : entraClientId

module network './modules/network.bicep' = if (networkIsolation) {
  name: 'network'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
    location: location
    tags: tags
    privateDnsZoneNames: [
      blobPrivateDnsZone
      realtimePrivateDnsZone
    ]
  }
}

module blobPrivateEndpoint './modules/private-endpoint.bicep' = if (networkIsolation) {
  name: 'blob-private-endpoint'
  scope: rg
  params: {
    name: '${abbrs.networkPrivateEndpoints}blob-${resourceToken}'
    location: location
    tags: tags
    subnetId: network.?outputs.endpointSubnetId ?? ''
    serviceId: storage.outputs.id
    groupId: 'blob'
    privateDnsZoneId: network.?outputs.privateDnsZoneIds[0] ?? ''
  }
}

module realtimePrivateEndpoint './modules/private-endpoint.bicep' = if (networkIsolation) {
  name: 'realtime-private-endpoint'
  scope: rg
  params: {
    name: '${abbrs.networkPrivateEndpoints}realtime-${resourceToken}'
    location: location
    tags: tags
    subnetId: network.?outputs.endpointSubnetId ?? ''
    serviceId: realtimeId
    groupId: realtimePrivateLink.groupId
    privateDnsZoneId: network.?outputs.privateDnsZoneIds[1] ?? ''
  }
}

module storage './modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    historyContainerName: historyContainerName
    attachmentsContainerName: attachmentsContainerName
    networkIsolation: networkIsolation
    historyRetentionDays: historyRetentionDays
    markerRetentionDays: markerRetentionDays
    limitRetentionDays: limitRetentionDays
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
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

module signalR './modules/signalr.bicep' = if (!useWebPubSub) {
  name: 'signalr'
  scope: rg
  params: {
    name: signalRName
    location: location
    tags: tags
    sku: effectiveSignalRSku
    capacity: signalRCapacity
    functionAppHostName: app.outputs.defaultHostName
    networkIsolation: networkIsolation
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    auth: signalRAuth
    identityId: signalRIdentity.outputs.id
    upstreamAudience: appClientId
  }
}

module webPubSub './modules/webpubsub.bicep' = if (useWebPubSub) {
  name: 'webpubsub'
  scope: rg
  params: {
    name: webPubSubName
    location: location
    tags: tags
    sku: effectiveSignalRSku
    capacity: signalRCapacity
    hubName: hubName
    functionAppHostName: app.outputs.defaultHostName
    networkIsolation: networkIsolation
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    auth: signalRAuth
    identityId: signalRIdentity.outputs.id
    upstreamAudience: appClientId
  }
}

// What the rest of the template reads from whichever realtime service is deployed (`.?` with a fallback: the other
// module's outputs are never read, so no BCP318 warning).
var realtimeId = useWebPubSub ? (webPubSub.?outputs.id ?? '') : (signalR.?outputs.id ?? '')
var realtimeName = useWebPubSub ? (webPubSub.?outputs.name ?? '') : (signalR.?outputs.name ?? '')
var realtimeUpstreamAudience = useWebPubSub ? (webPubSub.?outputs.upstreamAudience ?? '') : (signalR.?outputs.upstreamAudience ?? '')
var realtimeUpstreamUrlTemplate = useWebPubSub ? (webPubSub.?outputs.upstreamUrlTemplate ?? '') : (signalR.?outputs.upstreamUrlTemplate ?? '')

module roles './modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    historyContainerName: storage.outputs.historyContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    realtimeService: realtimeService
    realtimeName: realtimeName
    signalRAuth: signalRAuth
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

// The order that lets every URL use the site's real host (secure unique default hostnames add a hash and the region to
// it): the site first, then the registration (its redirect URI) and the realtime service (its upstream URL), then the
// app's settings, which read the realtime service and the registration's client id (docs/deploy.md, "Secure unique
// default hostnames").
module app './modules/function-app.bicep' = {
  name: 'app'
  scope: rg
  params: {
    name: functionAppName
    location: location
    tags: tags
    planName: '${abbrs.webServerFarms}${resourceToken}'
    identityId: identity.outputs.id
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    virtualNetworkSubnetId: network.?outputs.appSubnetId ?? ''
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

module appSettings './modules/function-app-settings.bicep' = {
  name: 'app-settings'
  scope: rg
  params: {
    name: app.outputs.name
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    historyContainerName: storage.outputs.historyContainerName
    attachmentsContainerName: storage.outputs.attachmentsContainerName
    // With network isolation the account has no public endpoint: browsers could not upload (docs/deploy.md).
    attachmentsEnabled: !networkIsolation
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    realtimeService: realtimeService
    signalRName: signalRName
    webPubSubName: webPubSubName
    hubName: hubName
    signalRAuth: signalRAuth
    signalRIdentityPrincipalId: signalRIdentity.outputs.principalId
    upstreamAudience: realtimeUpstreamAudience
    chatAuth: chatAuth
    entraClientId: appClientId
  }
  // The host starts with identity-based storage and telemetry once these settings exist: let the roles exist first,
  // and in isolation mode the private endpoint its storage calls go to. The realtime service must exist before its
  // keys or host are read.
  dependsOn: [
    roles
    blobPrivateEndpoint
    signalR
    webPubSub
  ]
}

// The page uploads and reads attachments straight from Blob Storage: CORS for its origin, once the site's real host
// is known. Not with network isolation, where attachments are off.
module storageCors './modules/storage-cors.bicep' = if (!networkIsolation) {
  name: 'storage-cors'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    allowedOrigins: [
      'https://${app.outputs.defaultHostName}'
    ]
  }
}

// The text the postprovision hook approves the shared private endpoint by.
var realtimeDisplayName = useWebPubSub ? 'Web PubSub' : 'SignalR'
var upstreamLinkRequest = '${realtimeDisplayName} upstream for ${functionAppName}'

module upstreamLink './modules/signalr-upstream-link.bicep' = if (networkIsolation && !useWebPubSub) {
  name: 'signalr-upstream-link'
  scope: rg
  params: {
    signalRName: realtimeName
    functionAppId: app.outputs.id
    requestMessage: upstreamLinkRequest
  }
}

module webPubSubUpstreamLink './modules/webpubsub-upstream-link.bicep' = if (networkIsolation && useWebPubSub) {
  name: 'webpubsub-upstream-link'
  scope: rg
  params: {
    webPubSubName: realtimeName
    functionAppId: app.outputs.id
    requestMessage: upstreamLinkRequest
  }
}

// Read by azd and printed for the user. No secret is output: in key mode the service's keys live only in app
// settings; in identity mode there are none.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.name
output SERVICE_API_NAME string = app.outputs.name
output REALTIME_SERVICE string = realtimeService
output SIGNALR_NAME string = signalR.?outputs.name ?? ''
output WEBPUBSUB_NAME string = webPubSub.?outputs.name ?? ''
output REALTIME_UPSTREAM_URL_TEMPLATE string = realtimeUpstreamUrlTemplate
output SIGNALR_AUTH string = signalRAuth
output CHAT_AUTH string = chatAuth
// Saved by azd into the environment as ENTRA_CLIENT_ID, the parameter's own variable: every later provision, and the
// pipeline (`azd pipeline config` copies it), reuses the registration instead of writing it to Graph again.
output ENTRA_CLIENT_ID string = appClientId
output UPSTREAM_LINK_REQUEST string = networkIsolation ? upstreamLinkRequest : ''
output AZURE_FUNCTION_APP_ID string = app.outputs.id
output WORKBOOK_ID string = monitoring.outputs.workbookId
// Web PubSub carries the raw-WebSocket chat: the page's ?service=webpubsub.
var chatPageQuery = useWebPubSub ? '?service=webpubsub' : ''
// Easy Auth's callback on the site's real host: the redirect URI of the registration (set by entra-app.bicep when the
// template creates it; added by the postprovision hook to an admin-made one the deployer owns, docs/deploy.md "The
// one-pass admin path").
output ENTRA_REDIRECT_URI string = chatAuth == 'entra' ? 'https://${app.outputs.defaultHostName}/.auth/login/aad/callback' : ''
output CHAT_URL string = 'https://${app.outputs.defaultHostName}/api/home${chatPageQuery}'
