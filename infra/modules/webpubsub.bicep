// Azure Web PubSub with one hub whose event handler is the Function App's messages function: the blocking `connect`,
// the `connected` and `disconnected` notifications and every user event arrive there as CloudEvents calls, which the
// app verifies and answers (docs/webpubsub.md). Chosen by REALTIME_SERVICE=webpubsub, and when to choose it:
// docs/deploy.md, "SignalR or Web PubSub". Same parameters, auth modes, network isolation and outputs as signalr.bicep:
// - identity (default): local auth off (no access keys); the app calls the REST API with its managed identity (role
//   Web PubSub Service Owner, roles.bicep), and the service puts an Entra token it gets for its user-assigned identity,
//   audience upstreamAudience, on every event handler call, which the app validates.
// - key: access keys on; the app signs with the key and checks ce-signature on every call.

param name string
param location string
param tags object = {}

@description('Pricing tier: Standard_S1 (the SLA tier: 1 000 connections a unit, private endpoints) or Premium_P1 (adds zone redundancy and autoscale); Free_F1 (20 connections, 20 000 messages a day, no SLA, no private endpoints) for a try-out.')
@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
param sku string = 'Standard_S1'

@description('Units (Free_F1 allows only 1).')
@minValue(1)
param capacity int = 1

@description('identity: Microsoft Entra ID only (disableLocalAuth), managed-identity event handler auth. key: access keys and ce-signature.')
@allowed([
  'identity'
  'key'
])
param auth string = 'identity'

@description('Resource id of the user-assigned identity the service gets event handler tokens with.')
param identityId string

@description('Identity mode: the resource the service requests event handler tokens for; it becomes their `aud` claim (the app registration\'s client id). Ignored in key mode.')
param upstreamAudience string = ''

@description('The hub the chat uses (CHAT_HUB_NAME): the event handler is set on it.')
param hubName string = 'chat'

@description('true: clients stay public, REST API, server connections and traces only through a private endpoint (Standard or Premium tier).')
param networkIsolation bool = false

@description('Log Analytics workspace the connectivity, messaging and HTTP request logs go to.')
param logAnalyticsWorkspaceId string

@description('The Function App\'s real host (its defaultHostName output), which receives the event handler calls: secure unique default hostnames add a hash and the region to the app\'s name, so the host is never derived from the name.')
param functionAppHostName string

// The app's origin, from the site's defaultHostName: main.bicep deploys the site first and this service after it;
// the app's settings, which need this service, come last (function-app-settings.bicep), so there is no cycle.
var functionAppOrigin = 'https://${functionAppHostName}'

// `/api/messages` is the messages function's route (the contract test in test/infra checks it against
// src/app/routes.ts), the same endpoint SignalR's upstream calls: the app tells the two apart by the CloudEvents
// `ce-type` header. `{event}` is the service's URL template parameter, not Bicep interpolation (`${...}`): it puts the
// event name in the request log, where the Workbook and a reader of AppRequests see it.
var eventHandlerUrlTemplate = '${functionAppOrigin}/api/messages?event={event}'

var identityAuth = auth == 'identity'

// Managed-identity event handler auth: the service puts `Authorization: Bearer <token for upstreamAudience>` on
// every call. The messages route is excluded from App Service Authentication, so this token is what the app checks
// (issuer, audience, caller = this identity, signature), exactly as for SignalR's upstream.
var upstreamAuth = {
  type: 'ManagedIdentity'
  managedIdentity: {
    resource: upstreamAudience
  }
}

// The system events the chat handles: the blocking connect (the app can refuse a client there), connected (the
// welcome) and disconnected (presence). User events: every name (`*`); the page sends `message`.
var systemEvents = [
  'connect'
  'connected'
  'disconnected'
]

// As in signalr.bicep: in isolation mode the public network keeps only client connections; the app's REST calls come
// through the private endpoint. Request types: WebPubSubNetworkACLs / NetworkACL in Azure/bicep-types-az,
// microsoft.signalrservice 2024-03-01 (webpubsub).
var isolatedNetworkAcls = {
  defaultAction: 'Allow'
  publicNetwork: {
    allow: [
      'ClientConnection'
    ]
    deny: [
      'ServerConnection'
      'RESTAPI'
      'Trace'
    ]
  }
}

var openNetworkAcls = {
  defaultAction: 'Allow'
}

resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'WebPubSub'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  sku: {
    name: sku
    tier: split(sku, '_')[0]
    capacity: capacity
  }
  properties: {
    // Identity mode satisfies the built-in policy "Azure Web PubSub Service should have local authentication methods
    // disabled"; key mode keeps the access keys the app signs and verifies with.
    disableLocalAuth: identityAuth
    disableAadAuth: false
    // Public access stays on: the chat page's browsers connect from the internet. In isolation mode the network ACL
    // leaves them only ClientConnection.
    publicNetworkAccess: 'Enabled'
    networkACLs: networkIsolation ? isolatedNetworkAcls : openNetworkAcls
    // The logs the diagnostic setting below sends (what shows a refused event handler call or a dropped client).
    resourceLogConfiguration: {
      categories: [
        {
          name: 'ConnectivityLogs'
          enabled: 'true'
        }
        {
          name: 'MessagingLogs'
          enabled: 'true'
        }
      ]
    }
    tls: {
      clientCertEnabled: false
    }
  }
}

resource hub 'Microsoft.SignalRService/webPubSub/hubs@2024-03-01' = {
  parent: webPubSub
  name: hubName
  properties: {
    eventHandlers: [
      {
        urlTemplate: eventHandlerUrlTemplate
        userEventPattern: '*'
        systemEvents: systemEvents
        auth: identityAuth ? upstreamAuth : { type: 'None' }
      }
    ]
    // Only clients with a token from the app's negotiate connect.
    anonymousConnectPolicy: 'deny'
  }
}

// Connectivity, messaging and HTTP request logs and the service's metrics, into the workspace the Workbook reads.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: webPubSub
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output id string = webPubSub.id
output name string = webPubSub.name

output hostName string = webPubSub.properties.hostName
output upstreamUrlTemplate string = eventHandlerUrlTemplate
output upstreamAudience string = identityAuth ? upstreamAudience : ''
