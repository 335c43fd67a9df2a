// The chat's Function App on the Flex Consumption plan (FC1), running as a user-assigned managed identity.
// Its app settings are exactly the names the code reads (src/lib/settings.ts) plus the host's own settings;
// test/infra/contract.test.ts keeps the two lists in step.

param name string
param location string
param tags object = {}

@description('Flex Consumption plan name.')
param planName string

@description('Resource id of the user-assigned managed identity the app runs as.')
param identityId string

@description('Client id of that identity (DefaultAzureCredential and the host pick the identity by it).')
param identityClientId string

param storageAccountName string
param deploymentContainerName string
param historyContainerName string
param applicationInsightsName string
param signalRName string

@description('SignalR hub the chat uses.')
param hubName string = 'chat'

@description('Node.js version of the Functions worker.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '20'

@description('Upper bound of instances the plan scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource signalR 'Microsoft.SignalRService/signalR@2024-03-01' existing = {
  name: signalRName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// Settings the Functions host reads (not the app code): identity-based AzureWebJobsStorage and
// Entra-authenticated Application Insights. Flex Consumption takes the runtime from functionAppConfig,
// so FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION must not be set here.
var hostSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// Settings the app code reads, by the names in src/lib/settings.ts. The SignalR keys go straight from
// listKeys() into the app settings: they never pass through a module output or a deployment output.
var appSettings = {
  AzureSignalRConnectionString: signalR.listKeys().primaryConnectionString
  AzureSignalRSecondaryAccessKey: signalR.listKeys().secondaryKey
  CHAT_HUB_NAME: hubName
  // Azure SignalR speaks only the SignalR protocol: it has no raw-WebSocket REST API (/ws/api/v1).
  CHAT_DIALECTS: 'signalr'
  CHAT_HISTORY_STORAGE: storage.properties.primaryEndpoints.blob
  CHAT_HISTORY_CONTAINER: historyContainerName
  AZURE_CLIENT_ID: identityClientId
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: union(hostSettings, appSettings)
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
