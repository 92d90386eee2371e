// What Front Door does with requests: one endpoint, the Function App as its only origin (over
// Private Link on Premium), the public reads cached by their Cache-Control, everything else passed
// through uncached, and the WAF policy on every host. The profile and policy: frontdoor.bicep.
param profileName string
param endpointName string
param wafPolicyId string
param premium bool
@description('Default host name of the Function App (the origin).')
param appHostName string
@description('Resource id of the Function App: the Private Link target on Premium.')
param appId string
param location string
@description('Custom host name for the resolver and the API (e.g. id.example.com); empty = none.')
param customDomainName string = ''

// The public reads of functions/routes.py (PUBLIC_READS, as edge_pattern writes them): only these
// paths are cached, and only as their answers' Cache-Control allows (anonymous answers are
// `public, max-age=...`; answers to a token are `private, no-store` and never stored).
// tests/infra/test_bicep.py checks this list against the code.
var cachedPaths = [
  '/01/*'
  '/.well-known/gs1resolver'
  '/p/*'
  '/api/v1/dpps/*'
  '/api/v1/dppsByProductId/*'
  '/api/v1/dppsByIdAndDate/*'
  '/api/v1/dppsByProductIdAndDate/*'
  '/api/v1/dpp/*'
  '/api/v1/status-lists/*'
  '/api/v1/keys'
  '/api/did.json'
  '/api/v1/operators/*'
  '/api/v1/contexts/dpp.jsonld'
  '/api/v1/contexts/linkset.jsonld'
  '/api/v1/schemas/relations.json'
  '/api/openapi.json'
]

var compressedTypes = [
  'application/json'
  'application/ld+json'
  'application/linkset+json'
  'application/did+json'
  'application/jwk-set+json'
  'text/html'
  'text/plain'
  'image/svg+xml'
]

// Front Door's cache key is the URL with its query string; it ignores Vary. So a request that
// would get another representation than the plain one (Accept) or another language than the
// query names (Accept-Language on the page), or any request with a token, bypasses the cache:
// a route configuration override without a cache configuration turns caching off for it.
var uncached = {
  typeName: 'DeliveryRuleRouteConfigurationOverrideActionParameters'
  originGroupOverride: {
    originGroup: {
      id: originGroup.id
    }
    forwardingProtocol: 'HttpsOnly'
  }
}
var cacheRules = [
  {
    name: 'TokenNeverCached'
    conditions: [
      {
        name: 'RequestHeader'
        parameters: {
          typeName: 'DeliveryRuleRequestHeaderConditionParameters'
          selector: 'Authorization'
          operator: 'Any'
          negateCondition: false
          matchValues: []
          transforms: []
        }
      }
    ]
  }
  {
    name: 'NegotiatedByAccept'
    conditions: [
      {
        name: 'RequestHeader'
        parameters: {
          typeName: 'DeliveryRuleRequestHeaderConditionParameters'
          selector: 'Accept'
          operator: 'Equal'
          negateCondition: true
          matchValues: ['*/*', 'application/json']
          transforms: ['Lowercase', 'Trim']
        }
      }
      {
        name: 'UrlPath'
        parameters: {
          typeName: 'DeliveryRuleUrlPathMatchConditionParameters'
          operator: 'EndsWith'
          negateCondition: true
          matchValues: ['/page']
          transforms: ['Lowercase']
        }
      }
    ]
  }
  {
    name: 'PageLanguageByHeader'
    conditions: [
      {
        name: 'UrlPath'
        parameters: {
          typeName: 'DeliveryRuleUrlPathMatchConditionParameters'
          operator: 'EndsWith'
          negateCondition: false
          matchValues: ['/page']
          transforms: ['Lowercase']
        }
      }
      {
        name: 'RequestHeader'
        parameters: {
          typeName: 'DeliveryRuleRequestHeaderConditionParameters'
          selector: 'Accept-Language'
          operator: 'Any'
          negateCondition: false
          matchValues: []
          transforms: []
        }
      }
      {
        name: 'QueryString'
        parameters: {
          typeName: 'DeliveryRuleQueryStringConditionParameters'
          operator: 'Contains'
          negateCondition: true
          matchValues: ['lang=']
          transforms: ['Lowercase']
        }
      }
    ]
  }
]

// On Premium the origin is reached over Private Link (approve the connection on the Function
// App once: docs/deploy.md); on Standard over the internet, admitted by the app's access rules.
var privateLink = {
  privateLink: {
    id: appId
  }
  groupId: 'sites'
  privateLinkLocation: location
  requestMessage: 'Front Door origin for the DPP service'
}

resource profile 'Microsoft.Cdn/profiles@2024-09-01' existing = {
  name: profileName
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2024-09-01' existing = {
  parent: profile
  name: endpointName
}

// One origin, so no health probes (Front Door would have nothing to fail over to, and probes from
// every edge site would each run the readiness check); the platform's own health check on
// /api/health replaces unhealthy instances.
resource originGroup 'Microsoft.Cdn/profiles/originGroups@2024-09-01' = {
  parent: profile
  name: 'function-app'
  properties: {
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 3
      additionalLatencyInMilliseconds: 50
    }
    sessionAffinityState: 'Disabled'
  }
}

resource origin 'Microsoft.Cdn/profiles/originGroups/origins@2024-09-01' = {
  parent: originGroup
  name: 'function-app'
  properties: {
    hostName: appHostName
    originHostHeader: appHostName
    httpPort: 80
    httpsPort: 443
    priority: 1
    weight: 1000
    enabledState: 'Enabled'
    enforceCertificateNameCheck: true
    sharedPrivateLinkResource: premium ? privateLink : null
  }
}

resource ruleSet 'Microsoft.Cdn/profiles/ruleSets@2024-09-01' = {
  parent: profile
  name: 'edgecache'
}

resource rules 'Microsoft.Cdn/profiles/ruleSets/rules@2024-09-01' = [
  for (rule, i) in cacheRules: {
    parent: ruleSet
    name: rule.name
    properties: {
      order: i + 1
      conditions: rule.conditions
      actions: [
        {
          name: 'RouteConfigurationOverride'
          parameters: uncached
        }
      ]
      matchProcessingBehavior: 'Stop'
    }
  }
]

resource customDomain 'Microsoft.Cdn/profiles/customDomains@2024-09-01' = if (!empty(customDomainName)) {
  parent: profile
  name: replace(empty(customDomainName) ? 'none' : customDomainName, '.', '-')
  properties: {
    hostName: customDomainName
    tlsSettings: {
      certificateType: 'ManagedCertificate'
      minimumTlsVersion: 'TLS12'
    }
  }
}

var domains = empty(customDomainName) ? [] : [{ id: customDomain.id }]

// The public reads: cached by their Cache-Control, query string in the key, compressed.
resource publicReads 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-09-01' = {
  parent: endpoint
  name: 'public-reads'
  dependsOn: [origin, rules]
  properties: {
    originGroup: {
      id: originGroup.id
    }
    customDomains: domains
    ruleSets: [
      {
        id: ruleSet.id
      }
    ]
    patternsToMatch: cachedPaths
    supportedProtocols: ['Http', 'Https']
    httpsRedirect: 'Enabled'
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
    cacheConfiguration: {
      queryStringCachingBehavior: 'UseQueryString'
      compressionSettings: {
        isCompressionEnabled: true
        contentTypesToCompress: compressedTypes
      }
    }
  }
}

// Everything else (writes, the operator API, imports and exports): passed through, never cached.
resource api 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-09-01' = {
  parent: endpoint
  name: 'api'
  dependsOn: [origin, publicReads]
  properties: {
    originGroup: {
      id: originGroup.id
    }
    customDomains: domains
    ruleSets: []
    patternsToMatch: ['/*']
    supportedProtocols: ['Http', 'Https']
    httpsRedirect: 'Enabled'
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
  }
}

resource firewall 'Microsoft.Cdn/profiles/securityPolicies@2024-09-01' = {
  parent: profile
  name: 'waf'
  properties: {
    parameters: {
      type: 'WebApplicationFirewall'
      wafPolicy: {
        id: wafPolicyId
      }
      associations: [
        {
          domains: concat([{ id: endpoint.id }], domains)
          patternsToMatch: ['/*']
        }
      ]
    }
  }
}

output customDomainValidation string = empty(customDomainName) ? '' : customDomain.properties.validationProperties.validationToken
