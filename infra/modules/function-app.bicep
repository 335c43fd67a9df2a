// The chat's Function App on the Flex Consumption plan (FC1), running as a user-assigned managed identity: the plan,
// the site and its diagnostics. Its app settings and App Service Authentication are applied by
// function-app-settings.bicep once the realtime service exists, because that service's upstream URL is this site's
// real host (defaultHostName, which secure unique default hostnames make `<name>-<hash>.<region>.azurewebsites.net`):
// site -> realtime service -> settings, no dependency cycle (docs/deploy.md, "Secure unique default hostnames").

param name string
param location string
param tags object = {}

@description('Flex Consumption plan name.')
param planName string

@description('Resource id of the user-assigned managed identity the app runs as.')
param identityId string

param storageAccountName string
param deploymentContainerName string

@description('Resource id of the subnet (delegated to Microsoft.App/environments) the app joins. Empty: no VNet integration.')
param virtualNetworkSubnetId string = ''

@description('Log Analytics workspace the FunctionAppLogs go to.')
param logAnalyticsWorkspaceId string

@description('Node.js version of the Functions worker: a version the Flex Consumption runtime catalogue supports (Node 20 reached end of life on 2026-04-30).')
@allowed([
  '22'
])
param nodeVersion string = '22'

@description('Upper bound of instances the plan scales out to (Flex Consumption accepts 40 to 1000).')
@minValue(40)
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
    // Isolation mode: outbound calls (Blob through its private endpoint, the realtime service's REST API through its
    // own) go through the VNet. Inbound stays public: browsers load the page and negotiate here, and `azd deploy`
    // publishes through the app's endpoint. The realtime service's calls arrive over its shared private endpoint.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    // Flex Consumption has no FTP: ftpsState is rejected there, as are the other properties in
    // test/infra/contract.ts FLEX_CONSUMPTION_FORBIDDEN_SITE_CONFIG.
    // No appSettings here: function-app-settings.bicep owns them, and its `config/appsettings` resource replaces the
    // whole set on every provision.
    siteConfig: {
      minTlsVersion: '1.2'
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
}

// The host's and the functions' logs (FunctionAppLogs: every invocation's errors and warnings) into the workspace.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
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

output id string = functionApp.id
output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
