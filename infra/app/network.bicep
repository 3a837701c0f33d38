// Optional private networking (main.bicep's vnetEnabled, off by default). Each app's outbound traffic goes
// through its own subnet delegated to Flex Consumption, and the storage accounts are reached through private
// endpoints with private DNS; their public endpoints are closed. The app's own inbound endpoint stays public,
// because the Speech service has to reach the web hook receiver (authenticated by its HMAC signature).

param name string
param location string
param tags object
var services = ['blob', 'queue', 'table']

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

resource dnsZones 'Microsoft.Network/privateDnsZones@2020-06-01' = [for service in services: {
  name: 'privatelink.${service}.${environment().suffixes.storage}'
  location: 'global'
  tags: tags
}]

resource dnsLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [for i in range(0, length(services)): {
  parent: dnsZones[i]
  name: '${name}-link'
  location: 'global'
  properties: {
    virtualNetwork: { id: vnet.id }
    registrationEnabled: false
  }
}]

output appSubnetId string = '${vnet.id}/subnets/app'
output consumerSubnetId string = '${vnet.id}/subnets/consumer'
output privateEndpointSubnetId string = '${vnet.id}/subnets/private-endpoints'
@description('The private DNS zone of each storage service, by service name (blob, queue, table).')
output dnsZoneIds object = {
  blob: dnsZones[0].id
  queue: dnsZones[1].id
  table: dnsZones[2].id
}
