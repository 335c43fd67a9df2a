// One private endpoint for one sub-resource (`groupId`) of a service, registered in its private DNS zone. Used for
// Storage (blob) and for the realtime service (SignalR's group id is `signalr`; Web PubSub's is `webpubsub`).

param name string
param location string
param tags object = {}

@description('Subnet the endpoint gets its private address in.')
param subnetId string

@description('Resource id of the service the endpoint reaches.')
param serviceId string

@description('The service\'s private link sub-resource: blob, signalr, webpubsub, ...')
param groupId string

@description('Resource id of the private DNS zone the endpoint\'s A record goes into.')
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: serviceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }

  resource dnsZoneGroup 'privateDnsZoneGroups' = {
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: groupId
          properties: {
            privateDnsZoneId: privateDnsZoneId
          }
        }
      ]
    }
  }
}

output id string = endpoint.id
