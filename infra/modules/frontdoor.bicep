// The edge: a Front Door profile (Standard, or Premium for the managed WAF rule sets and the Private
// Link origin), its endpoint, its WAF policy, and its logs. The origin, caching rules and routes are
// in frontdoor-routes.bicep, deployed after the Function App, which admits this profile's id only and
// names the endpoint's host (or the custom domain) in its URLs (DPP_PUBLIC_URL).
param name string
param endpointName string
param tags object
@allowed([
  'Standard_AzureFrontDoor'
  'Premium_AzureFrontDoor'
])
param sku string = 'Standard_AzureFrontDoor'
@description('Anonymous GET/HEAD requests one client (IP address) may make per minute.')
param anonymousReadsPerMinute int = 600
@description('Requests of any kind one client may make per minute.')
param requestsPerMinute int = 1200
@description('Largest request body let through, in bytes: artifact uploads (10 MiB) and a margin.')
param maxRequestBytes int = 11534336
@description('Largest import upload let through to the app\'s import upload routes: DPP_IMPORT_MAX_BYTES (50 MiB) and a margin, within the Functions host\'s 100 MiB.')
param maxImportBytes int = 53477376
param logAnalyticsId string

var premium = sku == 'Premium_AzureFrontDoor'

// The app's import upload routes (functions/routes.py IMPORT_FILE, IMPORT_MAPPING), which take the
// larger import limit; tests/infra checks the pattern against the routes.
var importUploadPattern = '/api/v1/imports/[^/?]+/(file|mapping)([?].*)?$'

// What a blocked request sees: an EN 18222 Result object, as every other refusal.
var blockedBody = '{"messages":[{"messageType":"Error","text":"The request was refused at the edge (request size or rate limit, or a WAF rule)","code":"Forbidden"}]}'

// Managed rules exist on Premium only (Standard has custom rules).
var premiumRuleSets = [
  {
    ruleSetType: 'Microsoft_DefaultRuleSet'
    ruleSetVersion: '2.1'
    ruleSetAction: 'Block'
  }
  {
    ruleSetType: 'Microsoft_BotManagerRuleSet'
    ruleSetVersion: '1.1'
  }
]
var managedRuleSets = premium ? premiumRuleSets : []

resource profile 'Microsoft.Cdn/profiles@2024-09-01' = {
  name: name
  location: 'global'
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    originResponseTimeoutSeconds: 60
  }
}

// Its host name (<name>-<hash>.z01.azurefd.net) is known only once it exists, and the app needs it.
resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2024-09-01' = {
  parent: profile
  name: endpointName
  location: 'global'
  tags: tags
  properties: {
    enabledState: 'Enabled'
  }
}

resource waf 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies@2024-02-01' = {
  name: replace('waf${name}', '-', '')
  location: 'Global'
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    policySettings: {
      enabledState: 'Enabled'
      mode: 'Prevention'
      requestBodyCheck: 'Enabled'
      customBlockResponseStatusCode: 403
      customBlockResponseBody: base64(blockedBody)
    }
    customRules: {
      rules: [
        {
          name: 'RequestTooLarge'
          priority: 10
          enabledState: 'Enabled'
          ruleType: 'MatchRule'
          action: 'Block'
          matchConditions: [
            {
              matchVariable: 'RequestHeader'
              selector: 'Content-Length'
              operator: 'GreaterThan'
              matchValue: [string(maxRequestBytes)]
            }
            {
              matchVariable: 'RequestUri'
              operator: 'RegEx'
              negateCondition: true
              matchValue: [importUploadPattern]
            }
          ]
        }
        {
          name: 'ImportTooLarge'
          priority: 11
          enabledState: 'Enabled'
          ruleType: 'MatchRule'
          action: 'Block'
          matchConditions: [
            {
              matchVariable: 'RequestHeader'
              selector: 'Content-Length'
              operator: 'GreaterThan'
              matchValue: [string(maxImportBytes)]
            }
          ]
        }
        {
          name: 'AnonymousReadRate'
          priority: 20
          enabledState: 'Enabled'
          ruleType: 'RateLimitRule'
          rateLimitDurationInMinutes: 1
          rateLimitThreshold: anonymousReadsPerMinute
          groupBy: [
            {
              variableName: 'SocketAddr'
            }
          ]
          action: 'Block'
          matchConditions: [
            {
              matchVariable: 'RequestMethod'
              operator: 'Equal'
              matchValue: ['GET', 'HEAD']
            }
            {
              matchVariable: 'RequestHeader'
              selector: 'Authorization'
              operator: 'Contains'
              negateCondition: true
              matchValue: ['bearer']
              transforms: ['Lowercase']
            }
          ]
        }
        {
          name: 'ClientRate'
          priority: 30
          enabledState: 'Enabled'
          ruleType: 'RateLimitRule'
          rateLimitDurationInMinutes: 1
          rateLimitThreshold: requestsPerMinute
          groupBy: [
            {
              variableName: 'SocketAddr'
            }
          ]
          action: 'Block'
          matchConditions: [
            {
              matchVariable: 'RequestUri'
              operator: 'Any'
              matchValue: []
            }
          ]
        }
      ]
    }
    managedRules: {
      managedRuleSets: managedRuleSets
    }
  }
}

// Access, health probe and WAF logs (what was blocked, by which rule).
resource edgeLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: profile
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        category: 'FrontDoorAccessLog'
        enabled: true
      }
      {
        category: 'FrontDoorHealthProbeLog'
        enabled: true
      }
      {
        category: 'FrontDoorWebApplicationFirewallLog'
        enabled: true
      }
    ]
  }
}

output name string = profile.name
output id string = profile.id
// What the Function App admits in X-Azure-FDID.
output frontDoorId string = profile.properties.frontDoorId
output wafPolicyId string = waf.id
output endpointName string = endpoint.name
output endpointHostName string = endpoint.properties.hostName
output premium bool = premium
