// Role assignments: what the app's managed identity may do, and what the deploying user may do to
// inspect the deployment. Names are deterministic GUIDs, so re-provisioning is idempotent.

param storageAccountName string
param historyContainerName string
param applicationInsightsName string

@description('The realtime service the app calls (REALTIME_SERVICE): signalr or webpubsub.')
@allowed([
  'signalr'
  'webpubsub'
])
param realtimeService string = 'signalr'

@description('Name of the realtime service (a SignalR Service or a Web PubSub service); in identity mode the app identity gets its Service Owner role on it.')
param realtimeName string

@description('identity: the app reaches the realtime service with its managed identity (role below); key: with the access key (no role).')
@allowed([
  'identity'
  'key'
])
param signalRAuth string = 'identity'

@description('Principal id of the Function App\'s user-assigned managed identity.')
param appPrincipalId string

@description('Object id of the deploying user or pipeline principal (azd sets AZURE_PRINCIPAL_ID). Empty: no user roles.')
param userPrincipalId string = ''

@description('User or ServicePrincipal (the pipeline).')
@allowed([
  'User'
  'ServicePrincipal'
])
param userPrincipalType string = 'User'

// Built-in role definition ids (the same in every tenant).
var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  signalRServiceOwner: '7e4f1700-ea5a-4f59-8f37-079cfe29dce3'
  webPubSubServiceOwner: '12cf5a90-567b-43ae-8102-96cf46c7d9b4'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource blobServices 'blobServices' existing = {
    name: 'default'

    resource historyContainer 'containers' existing = {
      name: historyContainerName
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// One of the two exists (realtimeService); each is read only by the assignment of its own mode.
resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' existing = {
  name: realtimeName
}

resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' existing = {
  name: realtimeName
}

// Identity mode: REST calls and `:generateToken` (client tokens) with the app's managed identity. Microsoft's
// role table gives SignalR Service Owner for a Serverless-mode negotiation server ("requires both REST API
// permissions and authentication API permissions"); SignalR App Server covers only server connections and
// token generation (Default mode).
resource appSignalRServiceOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (signalRAuth == 'identity' && realtimeService == 'signalr') {
  name: guid(signalR.id, appPrincipalId, roleIds.signalRServiceOwner)
  scope: signalR
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.signalRServiceOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Identity mode with Web PubSub: REST calls (fan-out, groups) and `:generateToken` (client tokens for negotiate) with
// the app's managed identity. Web PubSub Service Owner is the built-in role with both ("Full access to Azure Web PubSub
// Service REST APIs"); Web PubSub Service Reader cannot send.
resource appWebPubSubServiceOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (signalRAuth == 'identity' && realtimeService == 'webpubsub') {
  name: guid(webPubSub.id, appPrincipalId, roleIds.webPubSubServiceOwner)
  scope: webPubSub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.webPubSubServiceOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The Functions host keeps its locks, keys and the deployment package in blobs (AzureWebJobsStorage).
resource appBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roleIds.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The chat history store, scoped to its container: what the app code needs even if the host moves elsewhere.
resource appHistoryContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobServices::historyContainer.id, appPrincipalId, roleIds.storageBlobDataContributor)
  scope: storage::blobServices::historyContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Attachments (docs/architecture.md, "Attachments"): the app signs the browser's upload and read URLs as
// user-delegation SAS, whose key only the account hands out (Storage Blob Delegator: `generateUserDelegationKey`;
// the account has no shared keys to sign with). Reading and checking the blobs needs no more than the Blob Data
// Owner above. A SAS grants at most what its signer may do, so the signer needs its data role as well.
resource appBlobDelegator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roleIds.storageBlobDelegator)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDelegator)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Application Insights has local auth off: telemetry is sent with the identity.
resource appMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The deploying user (or the pipeline's principal) can read and write the history and publish telemetry
// while debugging.
resource userBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(storage.id, userPrincipalId, roleIds.storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

resource userMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(applicationInsights.id, userPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}
