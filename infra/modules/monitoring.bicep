// Log Analytics + workspace-based Application Insights. Local (key) ingestion is off: the Functions host
// sends telemetry with the app's managed identity (role Monitoring Metrics Publisher, see roles.bicep).

@description('Log Analytics workspace name.')
param logAnalyticsName string

@description('Application Insights component name.')
param applicationInsightsName string

param location string
param tags object = {}

@description('Days Log Analytics keeps data (30 is the minimum for the PerGB2018 tier).')
param retentionInDays int = 30

@description('Name the Workbook is listed under in the portal.')
param workbookDisplayName string = 'Serverless chat'

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    // Ingestion only with Microsoft Entra ID (policy "Log Analytics workspaces should block non-Azure Active
    // Directory based ingestion"): the diagnostic settings and workspace-based Application Insights need no key.
    features: {
      disableLocalAuth: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Entra-only ingestion: the host and the app's exporter send with the managed identity
    // (APPLICATIONINSIGHTS_AUTHENTICATION_STRING). Ingestion stays on the public endpoint: making it private needs
    // an Azure Monitor Private Link Scope, which changes DNS for every Azure Monitor resource in the network
    // (docs/deploy.md, "Locked-down tenant").
    DisableLocalAuth: true
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

// The chat's dashboard (messages per minute, connections, upstream failures, p95 latency), built from the
// committed JSON in infra/workbook/. Its name must be a GUID; this one is stable per workspace.
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(logAnalytics.id, 'chat-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: workbookDisplayName
    category: 'workbook'
    sourceId: logAnalytics.id
    serializedData: loadTextContent('../workbook/chat.workbook.json')
    version: 'Notebook/1.0'
  }
}

output applicationInsightsName string = applicationInsights.name
output logAnalyticsId string = logAnalytics.id
output workbookId string = workbook.id
output logAnalyticsName string = logAnalytics.name
