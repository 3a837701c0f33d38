// One private endpoint for one storage service (blob, queue or table) of an account, registered in the
// matching private DNS zone so the account's usual host name resolves to the private address in the VNet.

param name string
param location string
param tags object
param resourceId string
@allowed(['blob', 'queue', 'table'])
param groupId string
param subnetId string
param dnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: { id: subnetId }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: resourceId
          groupIds: [groupId]
        }
      }
    ]
  }
}

resource dns 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      { name: groupId, properties: { privateDnsZoneId: dnsZoneId } }
    ]
  }
}
