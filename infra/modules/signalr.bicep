// Azure SignalR Service in Serverless mode. Every client event is forwarded as an upstream HTTP POST to
// the Function App's messages function, which authorises it and acts through the REST API.

param name string
param location string
param tags object = {}

@description('Pricing tier: Free_F1 (one free unit per subscription, 20 connections, 20 000 messages a day) or Standard_S1 / Premium_P1 for real use.')
@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
param sku string = 'Free_F1'

@description('Units (Free_F1 allows only 1).')
@minValue(1)
param capacity int = 1

@description('Name of the Function App that receives the upstream calls. Only the name is needed, so the two resources do not depend on each other.')
param functionAppName string

// The app's host is derived from its name (not from the site resource), which keeps SignalR and the
// Function App free of a dependency cycle: the app needs SignalR's keys, SignalR needs only this string.
var functionAppOrigin = 'https://${functionAppName}.azurewebsites.net'

// `/api/messages` is the messages function's route (the contract test in test/infra checks it against
// src/lib/routes.ts). `{event}` is the service's URL template parameter, not Bicep interpolation (`${...}`).
var upstreamUrlTemplate = '${functionAppOrigin}/api/messages?event={event}'

resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'SignalR'
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
    ]
    upstream: {
      templates: [
        {
          hubPattern: '*'
          categoryPattern: '*'
          eventPattern: '*'
          urlTemplate: upstreamUrlTemplate
        }
      ]
    }
    cors: {
      allowedOrigins: [
        functionAppOrigin
      ]
    }
    // Local auth stays on: the app signs REST calls and client tokens with the access key and verifies
    // X-ASRS-Signature on every upstream call with it.
    disableLocalAuth: false
    disableAadAuth: false
    publicNetworkAccess: 'Enabled'
    tls: {
      clientCertEnabled: false
    }
  }
}

output name string = signalR.name
output hostName string = signalR.properties.hostName
output upstreamUrlTemplate string = upstreamUrlTemplate
