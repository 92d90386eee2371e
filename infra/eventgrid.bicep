// Event Grid subscriptions that deliver blob events to the blob-triggered functions. Deployed after
// the code (azd's postdeploy hook, infra/hooks/postdeploy.sh): the endpoint needs the host's
// `blobs_extension` system key, which exists only once the Functions host has started with a blob
// trigger. The key goes from the host straight into the subscription; it is never an output.
param functionAppName string
param systemTopicName string

// The blob-triggered functions (functions/onboarding.py) and what they watch.
var blobTriggers = [
  {
    function: 'import_upload'
    container: 'imports'
    prefix: ''
  }
  {
    function: 'export_request'
    container: 'exports'
    prefix: 'requests/'
  }
]

resource app 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

resource subscriptions 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = [
  for trigger in blobTriggers: {
    parent: topic
    name: replace(trigger.function, '_', '-')
    properties: {
      destination: {
        endpointType: 'WebHook'
        properties: {
          endpointUrl: 'https://${app.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${trigger.function}&code=${listKeys('${app.id}/host/default', '2024-04-01').systemKeys.blobs_extension}'
          maxEventsPerBatch: 1
        }
      }
      filter: {
        includedEventTypes: ['Microsoft.Storage.BlobCreated']
        subjectBeginsWith: '/blobServices/default/containers/${trigger.container}/blobs/${trigger.prefix}'
      }
      eventDeliverySchema: 'EventGridSchema'
      retryPolicy: {
        maxDeliveryAttempts: 30
        eventTimeToLiveInMinutes: 1440
      }
    }
  }
]
