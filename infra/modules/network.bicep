// NETWORK_ISOLATION=true: the virtual network the Function App joins (Flex Consumption VNet integration) and the
// subnet that holds the private endpoints, with the private DNS zones those endpoints register in. Shaped after
// Azure-Samples/functions-quickstart-typescript-azd (`vnetEnabled`, infra/app/vnet.bicep): a /24 delegated to
// Microsoft.App/environments for the app (what Flex Consumption requires) and a /24 for endpoints.

param name string
param location string
param tags object = {}

@description('Private DNS zones to create and link to the network, e.g. privatelink.blob.core.windows.net and the realtime service\'s zone.')
param privateDnsZoneNames array

var appSubnetName = 'app'
var endpointSubnetName = 'private-endpoints'

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.0.0.0/16'
      ]
    }
    subnets: [
      {
        name: endpointSubnetName
        properties: {
          addressPrefix: '10.0.1.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
          privateLinkServiceNetworkPolicies: 'Enabled'
        }
      }
      {
        name: appSubnetName
        properties: {
          addressPrefix: '10.0.2.0/24'
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for zone in privateDnsZoneNames: {
    name: zone
    location: 'global'
    tags: tags
  }
]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (zone, i) in privateDnsZoneNames: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

output id string = vnet.id
output appSubnetId string = '${vnet.id}/subnets/${appSubnetName}'
output endpointSubnetId string = '${vnet.id}/subnets/${endpointSubnetName}'
output privateDnsZoneIds array = [for (zone, i) in privateDnsZoneNames: zones[i].id]
