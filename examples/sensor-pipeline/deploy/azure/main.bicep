// The Sluice sensor pipeline on Azure Functions: a storage account with the three containers, a Linux
// function app on the consumption plan with a system-assigned identity, Blob roles scoped to the
// containers, and an Event Grid subscription per function filtered by subject prefix.
// The subscriptions point at functions that exist only after the code is deployed: deploy.sh runs this
// file twice, with deploySubscriptions=false and then true.

@description('Prefix for resource names (lower case letters and digits, 3 to 11 characters).')
@minLength(3)
@maxLength(11)
param prefix string

param location string = resourceGroup().location

@description('Create the Event Grid subscriptions (after the function code is deployed).')
param deploySubscriptions bool = false

var rawContainer = 'sensor-raw'
var reportContainer = 'sensor-reports'
var quarantineContainer = 'sensor-quarantine'

// Built-in role definition ids.
var blobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: '${prefix}sensors'
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource raw 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: rawContainer
}

resource reports 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: reportContainer
}

resource quarantine 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: quarantineContainer
}

// The functions runtime keeps its own state (leases, keys) in a separate account, so the pipeline's
// identity needs no rights beyond its three containers.
resource runtimeStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: '${prefix}funcrt'
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${prefix}-sensors-plan'
  location: location
  sku: { name: 'Y1', tier: 'Dynamic' }
  kind: 'functionapp'
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2023-12-01' = {
  name: '${prefix}-sensors'
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      linuxFxVersion: 'Node|22'
      appSettings: [
        { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
        { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'node' }
        { name: 'AzureWebJobsStorage', value: 'DefaultEndpointsProtocol=https;AccountName=${runtimeStorage.name};AccountKey=${runtimeStorage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}' }
        // The pipeline's store reaches its account through the app's identity, not a key:
        // SLUICE_STORAGE_CONNECTION names the identity-based connection @sluice/azure's store uses.
        { name: 'SensorStorage__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
        { name: 'SLUICE_STORAGE_CONNECTION', value: 'SensorStorage' }
        { name: 'SENSOR_RAW_BUCKET', value: rawContainer }
        { name: 'SENSOR_REPORT_BUCKET', value: reportContainer }
        { name: 'SENSOR_QUARANTINE_BUCKET', value: quarantineContainer }
      ]
    }
  }
}

resource readRaw 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(raw.id, app.id, blobDataReader)
  scope: raw
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataReader)
  }
}

resource writeReports 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(reports.id, app.id, blobDataContributor)
  scope: reports
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor)
  }
}

resource writeQuarantine 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(quarantine.id, app.id, blobDataContributor)
  scope: quarantine
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor)
  }
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: '${prefix}-sensors-blob-events'
  location: location
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource analyzeSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (deploySubscriptions) {
  parent: topic
  name: 'analyze-sensors'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: { resourceId: '${app.id}/functions/analyze-sensors' }
    }
    filter: {
      includedEventTypes: [ 'Microsoft.Storage.BlobCreated' ]
      subjectBeginsWith: '/blobServices/default/containers/${rawContainer}/blobs/readings/'
    }
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
  }
}

resource rollUpSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (deploySubscriptions) {
  parent: topic
  name: 'roll-up-hourly'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: { resourceId: '${app.id}/functions/roll-up-hourly', maxEventsPerBatch: 1 }
    }
    filter: {
      includedEventTypes: [ 'Microsoft.Storage.BlobCreated' ]
      subjectBeginsWith: '/blobServices/default/containers/${reportContainer}/blobs/reports/readings/'
      subjectEndsWith: '.json'
    }
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
  }
}

output functionApp string = app.name
output storageAccount string = storage.name
