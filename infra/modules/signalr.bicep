// Azure SignalR Service in Serverless mode. Every client event is forwarded as an upstream HTTP POST to
// the Function App's messages function, which authorises it and acts through the REST API.
// Two authentication modes (param auth):
// - identity (default): local auth off (no access keys exist to leak or to be refused by policy); the app
//   calls the REST API with its managed identity (role SignalR App Server, roles.bicep), and SignalR signs
//   each upstream call with an Entra token it gets for its own user-assigned identity, audience
//   upstreamAudience, which the app validates.
// - key: access keys on; the app signs with the key and checks X-ASRS-Signature on every upstream call.

// Network isolation (networkIsolation): REST API and server connections reach the service only through its private
// endpoint (main.bicep creates it, group id `signalr`); browsers keep connecting over the internet, which is what a
// chat page is for. A Web PubSub module placed beside this one takes the same parameters and gives the same outputs.

param name string
param location string
param tags object = {}

@description('Pricing tier: Standard_S1 (the SLA tier: 1 000 connections and 1 000 000 messages a day per unit, private endpoints) or Premium_P1 (adds zone redundancy and autoscale); Free_F1 (20 connections, 20 000 messages a day, no SLA, no private endpoints) for a try-out.')
@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
param sku string = 'Standard_S1'

@description('Units (Free_F1 allows only 1).')
@minValue(1)
param capacity int = 1

@description('identity: Microsoft Entra ID only (disableLocalAuth), managed-identity upstream auth. key: access keys and X-ASRS-Signature.')
@allowed([
  'identity'
  'key'
])
param auth string = 'identity'

@description('Resource id of the user-assigned identity SignalR gets upstream tokens with (SignalR takes one identity).')
param identityId string

@description('Identity mode: the resource SignalR requests upstream tokens for; it becomes their `aud` claim (the app registration\'s client id). Ignored in key mode.')
param upstreamAudience string = ''

@description('true: clients stay public, REST API, server connections and traces only through a private endpoint (Standard or Premium tier).')
param networkIsolation bool = false

@description('Log Analytics workspace the connectivity, messaging and HTTP request logs go to.')
param logAnalyticsWorkspaceId string

@description('The Function App\'s real host (its defaultHostName output), which receives the upstream calls: secure unique default hostnames add a hash and the region to the app\'s name, so the host is never derived from the name.')
param functionAppHostName string

// The app's origin, from the site's defaultHostName: main.bicep deploys the site first and this service after it;
// the app's settings, which need this service, come last (function-app-settings.bicep), so there is no cycle.
var functionAppOrigin = 'https://${functionAppHostName}'

// `/api/messages` is the messages function's route (the contract test in test/infra checks it against
// src/lib/routes.ts). `{event}` is the service's URL template parameter, not Bicep interpolation (`${...}`).
var upstreamUrlTemplate = '${functionAppOrigin}/api/messages?event={event}'

var identityAuth = auth == 'identity'

// Managed-identity upstream auth: SignalR puts `Authorization: Bearer <token for upstreamAudience>` on
// every upstream request. The messages route is excluded from App Service Authentication, so this token is
// what the app checks (issuer, audience, caller = this identity, signature).
var upstreamAuth = {
  type: 'ManagedIdentity'
  managedIdentity: {
    resource: upstreamAudience
  }
}

// `defaultAction: 'Allow'` with the public network denied everything but client connections: private endpoint
// connections are then allowed without naming them (their names are generated when they are approved). Request
// types and shapes: SignalRNetworkACLs / NetworkACL in Azure/bicep-types-az, microsoft.signalrservice 2024-03-01.
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

resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'SignalR'
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
    features: [
      {
        flag: 'ServiceMode'
        value: 'Serverless'
      }
      {
        flag: 'EnableConnectivityLogs'
        value: 'True'
      }
      {
        flag: 'EnableMessagingLogs'
        value: 'True'
      }
    ]
    upstream: {
      templates: [
        {
          hubPattern: '*'
          categoryPattern: '*'
          eventPattern: '*'
          urlTemplate: upstreamUrlTemplate
          auth: identityAuth ? upstreamAuth : { type: 'None' }
        }
      ]
    }
    cors: {
      allowedOrigins: [
        functionAppOrigin
      ]
    }
    // Identity mode satisfies the built-in policy "Azure SignalR Service should have local authentication
    // methods disabled"; key mode keeps the access keys the app signs and verifies with.
    disableLocalAuth: identityAuth
    disableAadAuth: false
    // Public access stays on: the chat page's browsers connect from the internet. In isolation mode the network ACL
    // leaves them only ClientConnection; the app's REST calls come through the private endpoint.
    publicNetworkAccess: 'Enabled'
    networkACLs: networkIsolation ? isolatedNetworkAcls : openNetworkAcls
    tls: {
      clientCertEnabled: false
    }
  }
}

// Connectivity, messaging and HTTP request logs (what shows a refused upstream call or a dropped client) and the
// service's metrics, into the workspace the Workbook reads.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: signalR
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

output id string = signalR.id
output name string = signalR.name

output hostName string = signalR.properties.hostName
output upstreamUrlTemplate string = upstreamUrlTemplate
output upstreamAudience string = identityAuth ? upstreamAudience : ''
