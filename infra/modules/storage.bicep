// The storage account for the Functions host (AzureWebJobsStorage), the Flex Consumption deployment
// package and the chat history. No account keys: every client authenticates with Microsoft Entra ID.

param name string
param location string
param tags object = {}

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Blob container that holds the chat history (append blobs, one series per conversation).')
param historyContainerName string

@description('Blob container that holds attachments: files and images the browser uploads with a user-delegation SAS (docs/architecture.md, "Attachments").')
param attachmentsContainerName string

@description('true: no public endpoint; the app reaches Blob through its VNet integration and the private endpoint.')
param networkIsolation bool = false

@description('Days after its last append that a history segment is deleted, and after its upload that an attachment is (0: keep both forever).')
@minValue(0)
param historyRetentionDays int = 365

@description('Days after it was written that a clientMessageId marker is deleted (a retry comes seconds or minutes after its send).')
@minValue(1)
param markerRetentionDays int = 2

@description('Days after its last write that a user\'s command-limit bucket (`_limits/<user>`) is deleted: it refills completely within seconds, and a missing bucket counts as full.')
@minValue(1)
param limitRetentionDays int = 1

@description('Days after its upload that a file no message claimed (`_pending/…` in the attachments container) is deleted: a send comes seconds after its upload (src/local/retention.ts, DEFAULT_PENDING_UPLOAD_RETENTION_DAYS).')
@minValue(1)
param pendingUploadRetentionDays int = 1

@description('Log Analytics workspace that Blob\'s read, write and delete logs go to.')
param logAnalyticsWorkspaceId string

var isolatedNetworkAcls = {
  defaultAction: 'Deny'
  bypass: 'None'
}

var openNetworkAcls = {
  defaultAction: 'Allow'
  bypass: 'AzureServices'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    // Isolation mode: Flex Consumption publishes the package through the app (whose VNet integration reaches the
    // private endpoint), so nobody needs the public endpoint, not even `azd deploy`.
    publicNetworkAccess: networkIsolation ? 'Disabled' : 'Enabled'
    networkAcls: networkIsolation ? isolatedNetworkAcls : openNetworkAcls
  }

  resource blobServices 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }

    resource historyContainer 'containers' = {
      name: historyContainerName
      properties: {
        publicAccess: 'None'
      }
    }

    // Private too: every read goes through the app's membership check, then a read SAS for one blob.
    resource attachmentsContainer 'containers' = {
      name: attachmentsContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }
}

// Conversation folders start with `room`, `group%3A` or `dm%3A` (src/lib/history/layout.ts); blobs starting with
// `_` are markers, presence and memberships, which the history rule must not touch. Lifecycle rules may delete
// append blobs (not tier them). The local stack applies the same rules itself (src/local/retention.ts): Azurite
// has no lifecycle management.
var historyRule = {
  name: 'chat-history-age'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: {
      blobTypes: [
        'appendBlob'
      ]
      prefixMatch: [
        '${historyContainerName}/room'
        '${historyContainerName}/group%3A'
        '${historyContainerName}/dm%3A'
      ]
    }
    actions: {
      baseBlob: {
        delete: {
          daysAfterModificationGreaterThan: historyRetentionDays
        }
      }
    }
  }
}

var markerRule = {
  name: 'client-id-markers'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: {
      blobTypes: [
        'blockBlob'
      ]
      prefixMatch: [
        '${historyContainerName}/_client-ids/'
      ]
    }
    actions: {
      baseBlob: {
        delete: {
          daysAfterModificationGreaterThan: markerRetentionDays
        }
      }
    }
  }
}

// Attachments (their own container) go as many days after they were sent (the send copies the upload to the file's
// name) as history segments after their last append: a file lives as long as the history around it.
var attachmentsRule = {
  name: 'attachments-age'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: {
      blobTypes: [
        'blockBlob'
      ]
      prefixMatch: [
        '${attachmentsContainerName}/'
      ]
    }
    actions: {
      baseBlob: {
        delete: {
          daysAfterModificationGreaterThan: historyRetentionDays
        }
      }
    }
  }
}

// The per-user command-limit buckets (src/lib/chat/command-quota.ts): one small blob per user who ever sent a command.
var limitRule = {
  name: 'command-limit-buckets'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: {
      blobTypes: [
        'blockBlob'
      ]
      prefixMatch: [
        '${historyContainerName}/_limits/'
      ]
    }
    actions: {
      baseBlob: {
        delete: {
          daysAfterModificationGreaterThan: limitRetentionDays
        }
      }
    }
  }
}

// Uploads no message claimed (docs/architecture.md, "Attachments"): the browser PUTs to `_pending/<name>`, a send
// copies that to `<name>` and deletes it, so what is still there after a day was never sent. Kept even when history
// is kept forever: nobody can read these, and no SAS caps their size.
var pendingUploadRule = {
  name: 'attachments-pending'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: {
      blobTypes: [
        'blockBlob'
      ]
      prefixMatch: [
        '${attachmentsContainerName}/_pending/'
      ]
    }
    actions: {
      baseBlob: {
        delete: {
          daysAfterModificationGreaterThan: pendingUploadRetentionDays
        }
      }
    }
  }
}

var historyRules = [
  historyRule
  attachmentsRule
]

var markerRules = [
  markerRule
]

var limitRules = [
  limitRule
]

var pendingUploadRules = [
  pendingUploadRule
]

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: concat(historyRetentionDays > 0 ? historyRules : [], markerRules, limitRules, pendingUploadRules)
    }
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storage::blobServices
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output deploymentContainerName string = storage::blobServices::deploymentContainer.name
output historyContainerName string = storage::blobServices::historyContainer.name
output attachmentsContainerName string = storage::blobServices::attachmentsContainer.name
