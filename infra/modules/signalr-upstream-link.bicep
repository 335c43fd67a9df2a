// NETWORK_ISOLATION=true: a shared private endpoint from SignalR to the Function App (private link group `sites`),
// so upstream calls reach the app over Microsoft's backbone instead of the internet. App Service leaves the
// connection Pending until the app's owner approves it: the postprovision hook (infra/hooks/postprovision.mjs)
// approves the connection whose request message is `requestMessage` below. Declared after the app (the link
// needs its resource id), which keeps SignalR free of a dependency on the app.

@description('The SignalR Service that calls the app.')
param signalRName string

@description('Resource id of the Function App.')
param functionAppId string

@description('The text the approval hook recognises the request by.')
param requestMessage string

resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' existing = {
  name: signalRName
}

resource link 'Microsoft.SignalRService/signalR/sharedPrivateLinkResources@2024-03-01' = {
  parent: signalR
  name: 'function-app'
  properties: {
    groupId: 'sites'
    privateLinkResourceId: functionAppId
    requestMessage: requestMessage
  }
}

output name string = link.name
