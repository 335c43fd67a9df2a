// CORS on the Blob service for the chat page's origin: the browser uploads attachments with PUT and reads them with
// GET straight from Blob Storage, with SAS URLs the app issues (docs/architecture.md, "Attachments"). Applied once
// the Function App exists, since its host (secure unique default hostnames) is known only then. Not deployed with
// network isolation: browsers cannot reach the account then, and attachments are off (docs/deploy.md, "Attachments").

param storageAccountName string

@description('Origins of the chat page, e.g. https://<app host>.')
param allowedOrigins array

@description('Seconds a browser may keep a preflight answer.')
param maxAgeInSeconds int = 3600

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobServices 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    cors: {
      corsRules: [
        {
          allowedOrigins: allowedOrigins
          allowedMethods: [
            'GET'
            'HEAD'
            'PUT'
            'OPTIONS'
          ]
          allowedHeaders: [
            'content-type'
            'x-ms-blob-type'
            'x-ms-blob-content-type'
            'x-ms-blob-content-disposition'
            'x-ms-version'
            'x-ms-date'
          ]
          exposedHeaders: [
            'etag'
            'x-ms-request-id'
          ]
          maxAgeInSeconds: maxAgeInSeconds
        }
      ]
    }
  }
}
