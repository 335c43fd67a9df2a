// NETWORK_ISOLATION=true with REALTIME_SERVICE=webpubsub: a shared private endpoint from Web PubSub to the Function App
// (private link group `sites`), so event handler calls reach the app over Microsoft's backbone. App Service leaves the
// connection Pending until the app's owner approves it: the postprovision hook (infra/hooks/postprovision.mjs) approves
// the connection whose request message is `requestMessage`, as for SignalR (signalr-upstream-link.bicep).

@description('The Web PubSub service that calls the app.')
param webPubSubName string

@description('Resource id of the Function App.')
param functionAppId string

@description('The text the approval hook recognises the request by.')
param requestMessage string

resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' existing = {
  name: webPubSubName
}

resource link 'Microsoft.SignalRService/webPubSub/sharedPrivateLinkResources@2024-03-01' = {
  parent: webPubSub
  name: 'function-app'
  properties: {
    groupId: 'sites'
    privateLinkResourceId: functionAppId
    requestMessage: requestMessage
  }
}

output name string = link.name
