// The chat Function App's app settings and App Service Authentication (the site itself: function-app.bicep). Applied
// once the realtime service exists: its host name (identity mode) or keys (key mode) are settings here, and it needs
// the site's real host for its upstream URL first (docs/deploy.md, "Secure unique default hostnames").
// The settings are exactly the names the code reads (src/lib/settings.ts) plus the host's own settings;
// test/infra/contract.test.ts keeps the two lists in step.

@description('Name of the Function App (function-app.bicep) the settings are applied to.')
param name string

@description('Client id of the user-assigned identity the app runs as (DefaultAzureCredential and the host pick the identity by it).')
param identityClientId string

param storageAccountName string
param historyContainerName string
param attachmentsContainerName string
param applicationInsightsName string

@description('false: attachments are off (CHAT_ATTACHMENTS_STORAGE=off), as with network isolation, where browsers cannot reach the storage account (docs/deploy.md, "Attachments").')
param attachmentsEnabled bool = true

@description('The realtime service (REALTIME_SERVICE): signalr (Azure SignalR Service) or webpubsub (Azure Web PubSub).')
@allowed([
  'signalr'
  'webpubsub'
])
param realtimeService string = 'signalr'

@description('Name of the SignalR Service (read only when realtimeService is signalr).')
param signalRName string

@description('Name of the Web PubSub service (read only when realtimeService is webpubsub).')
param webPubSubName string

@description('The hub the chat uses.')
param hubName string = 'chat'

@description('identity: the app reaches the realtime service with its managed identity and validates Entra-signed upstream calls; key: access key and X-ASRS-Signature / ce-signature.')
@allowed([
  'identity'
  'key'
])
param signalRAuth string = 'identity'

@description('Identity mode: principal (object) id of the realtime service\'s own managed identity, the only caller the upstream accepts.')
param signalRIdentityPrincipalId string = ''

@description('Identity mode: the audience the realtime service requests upstream tokens for (signalr.bicep or webpubsub.bicep upstreamAudience).')
param upstreamAudience string = ''

@description('entra: App Service Authentication with Microsoft Entra ID in front of the app; none: no sign-in, names are claims.')
@allowed([
  'entra'
  'none'
])
param chatAuth string = 'entra'

@description('entra mode: application (client) id of the app registration Easy Auth signs users in with.')
param entraClientId string = ''

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// One of the two exists (realtimeService). Their properties and keys are read only inside the settings of their own
// mode: Bicep's `?:` becomes ARM's if(), which evaluates only the branch taken.
resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' existing = {
  name: signalRName
}

resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' existing = {
  name: webPubSubName
}

// Settings the Functions host reads (not the app code): identity-based AzureWebJobsStorage and
// Entra-authenticated Application Insights. Flex Consumption takes the runtime from functionAppConfig,
// so FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION must not be set here.
var hostSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // Blob only: the app has HTTP triggers alone, which need neither queues nor tables (the Flex Consumption
  // quickstart enables queue and table only for Durable Functions and the queue-based triggers).
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// Settings the app code reads, by the names in src/lib/settings.ts, in every mode.
var appSettings = {
  CHAT_HUB_NAME: hubName
  REALTIME_SERVICE: realtimeService
  // One service per deployment: Azure SignalR speaks only the SignalR protocol, and Azure Web PubSub carries the
  // raw-WebSocket chat (the websocket dialect) and nothing else.
  CHAT_DIALECTS: realtimeService == 'webpubsub' ? 'websocket' : 'signalr'
  CHAT_HISTORY_STORAGE: storage.properties.primaryEndpoints.blob
  CHAT_HISTORY_CONTAINER: historyContainerName
  // Browsers upload and read attachments straight from Blob Storage with user-delegation SAS URLs.
  CHAT_ATTACHMENTS_STORAGE: attachmentsEnabled ? storage.properties.primaryEndpoints.blob : 'off'
  CHAT_ATTACHMENTS_CONTAINER: attachmentsContainerName
  AZURE_CLIENT_ID: identityClientId
  // Whether App Service Authentication is in front of the app: only then are x-ms-client-principal* headers
  // an identity (the platform strips client-sent copies).
  CHAT_AUTH: chatAuth
  SIGNALR_AUTH: signalRAuth
}

// Identity mode: no key anywhere. The connection string names the user-assigned identity (AuthType=azure.msi;
// ClientId=...), and the upstream check gets what it validates each bearer token against.
var tokenIssuer = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'

var signalRIdentitySettings = {
  AzureSignalRConnectionString: 'Endpoint=https://${signalR.properties.hostName};AuthType=azure.msi;ClientId=${identityClientId};Version=1.0;'
  SIGNALR_UPSTREAM_AUDIENCE: upstreamAudience
  // v2 tokens (entra-app.bicep requestedAccessTokenVersion: 2): the issuer Easy Auth validates too.
  SIGNALR_UPSTREAM_ISSUER: tokenIssuer
  SIGNALR_UPSTREAM_OPENID_CONFIGURATION: '${environment().authentication.loginEndpoint}${tenant().tenantId}/.well-known/openid-configuration'
  SIGNALR_UPSTREAM_CALLER_ID: signalRIdentityPrincipalId
}

// Identity mode with Web PubSub: the endpoint (the REST client takes the managed identity, AZURE_CLIENT_ID), and the
// same upstream token check as SignalR's, since the event handler's ManagedIdentity auth asks for the same audience
// with the same identity (the SIGNALR_UPSTREAM_* names are the app's, for either service).
var webPubSubIdentitySettings = {
  WEBPUBSUB_ENDPOINT: 'https://${webPubSub.properties.hostName}'
  SIGNALR_UPSTREAM_AUDIENCE: upstreamAudience
  SIGNALR_UPSTREAM_ISSUER: tokenIssuer
  SIGNALR_UPSTREAM_OPENID_CONFIGURATION: '${environment().authentication.loginEndpoint}${tenant().tenantId}/.well-known/openid-configuration'
  SIGNALR_UPSTREAM_CALLER_ID: signalRIdentityPrincipalId
}

// Key mode: the keys go straight from listKeys() into the app settings, never through an output. Bicep's
// `?:` becomes ARM's if(), which evaluates only the branch taken, so identity mode never calls listKeys().
var signalRKeySettings = {
  AzureSignalRConnectionString: signalR.listKeys().primaryConnectionString
  AzureSignalRSecondaryAccessKey: signalR.listKeys().secondaryKey
}

// Key mode with Web PubSub: the key signs REST calls and client tokens and verifies ce-signature.
var webPubSubKeySettings = {
  WebPubSubConnectionString: webPubSub.listKeys().primaryConnectionString
}

// entra mode, read by App Service Authentication (not the code): the client id of the managed identity whose
// token is the client assertion for the app registration (its federated credential trusts this identity).
var easyAuthSettings = {
  OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identityClientId
}

var signalRSettings = signalRAuth == 'identity' ? signalRIdentitySettings : signalRKeySettings
var webPubSubSettings = signalRAuth == 'identity' ? webPubSubIdentitySettings : webPubSubKeySettings
var realtimeSettings = realtimeService == 'webpubsub' ? webPubSubSettings : signalRSettings
var authSettingsForMode = chatAuth == 'entra' ? easyAuthSettings : {}

// The messages function's path (src/app/routes.ts + host.json routePrefix): reachable without sign-in, for the
// realtime service only (SignalR's upstream or Web PubSub's event handler, including its OPTIONS handshake); the app
// authenticates every call itself (Entra token, X-ASRS-Signature or ce-signature).
var easyAuthExcludedPaths = [
  '/api/messages'
]

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: name

  resource settings 'config' = {
    name: 'appsettings'
    properties: union(hostSettings, appSettings, realtimeSettings, authSettingsForMode)
  }

  // App Service Authentication (Easy Auth v2) with Microsoft Entra ID, no client secret: the client
  // credential is the managed identity's token (clientSecretSettingName OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID).
  resource authSettings 'config' = if (chatAuth == 'entra') {
    name: 'authsettingsV2'
    properties: {
      platform: {
        enabled: true
      }
      globalValidation: {
        requireAuthentication: true
        unauthenticatedClientAction: 'RedirectToLoginPage'
        redirectToProvider: 'azureactivedirectory'
        excludedPaths: easyAuthExcludedPaths
      }
      httpSettings: {
        requireHttps: true
      }
      identityProviders: {
        azureActiveDirectory: {
          enabled: true
          registration: {
            clientId: entraClientId
            clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
            openIdIssuer: tokenIssuer
          }
        }
      }
      login: {
        // A link to a conversation (`/#group:team`) opens it once signed in: the fragment never reaches the server.
        preserveUrlFragmentsForLogins: true
        tokenStore: {
          enabled: false
        }
      }
    }
    dependsOn: [
      settings
    ]
  }
}
