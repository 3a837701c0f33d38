// Optional private networking (main.bicep's vnetEnabled, off by default). Each app's outbound traffic goes
// through its own subnet delegated to Flex Consumption, and the storage accounts are reached through private
// endpoints with private DNS; their public endpoints are closed. The app's own inbound endpoint stays public,
// because the Speech service has to reach the web hook receiver (authenticated by its HMAC signature).

param name string
param location string
param tags object
@description('Private endpoints to create: [{ name, resourceId, groupId }] with groupId blob, queue or table.')
param endpoints array

var zones = [for groupId in ['blob', 'queue', 'table']: 'privatelink.${groupId}.${environment().suffixes.storage}']

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: ['10.40.0.0/16'] }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: '10.40.1.0/24'
          delegations: [
            { name: 'flex', properties: { serviceName: 'Microsoft.App/environments' } }
          ]
        }
      }
      {
        name: 'consumer'
        properties: {
          addressPrefix: '10.40.3.0/24'
          delegations: [
            { name: 'flex', properties: { serviceName: 'Microsoft.App/environments' } }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: '10.40.2.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource dnsZones 'Microsoft.Network/privateDnsZones@2020-06-01' = [for zone in zones: {
  name: zone
  location: 'global'
  tags: tags
}]

resource dnsLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [for (zone, i) in zones: {
  parent: dnsZones[i]
  name: '${name}-link'
  location: 'global'
  properties: {
    virtualNetwork: { id: vnet.id }
    registrationEnabled: false
  }
}]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [for endpoint in endpoints: {
  name: endpoint.name
  location: location
  tags: tags
  properties: {
    subnet: { id: '${vnet.id}/subnets/private-endpoints' }
    privateLinkServiceConnections: [
      {
        name: endpoint.name
        properties: {
          privateLinkServiceId: endpoint.resourceId
          groupIds: [endpoint.groupId]
        }
      }
    ]
  }
}]

resource dnsGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [for (endpoint, i) in endpoints: {
  parent: privateEndpoints[i]
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: endpoint.groupId
        properties: {
          privateDnsZoneId: resourceId('Microsoft.Network/privateDnsZones', 'privatelink.${endpoint.groupId}.${environment().suffixes.storage}')
        }
      }
    ]
  }
  dependsOn: [dnsZones]
}]

output appSubnetId string = '${vnet.id}/subnets/app'
output consumerSubnetId string = '${vnet.id}/subnets/consumer'
