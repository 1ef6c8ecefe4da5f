enum SharedExample {
    /// A copy of the project's target config shape (../shared/turnpike.example.yaml).
    static let text = #"""
# The shape of Turnpike's configuration. Field names are API Gateway's own (the
# camelCase names of its apigatewayv2 / apigateway APIs and CloudFormation), so a user
# who knows API Gateway can read it, and the management API can map onto it 1:1.
# Turnpike extensions are marked "extension". This is the target shape: implement it,
# and when you must differ, say why in your issue note and update the example in
# examples/ in the project.

listeners:                      # extension: where Turnpike listens
  - name: public-http
    port: 8080                  # host defaults to 127.0.0.1; "0.0.0.0" to expose
  - name: public-https
    port: 8443
    protocol: HTTPS             # TLS; ALPN h2 + http/1.1
  - name: admin
    port: 9901
    admin: true                 # /admin/health, /admin/reload, /metrics

targetGroups:                   # "VPC links": named upstream groups (extension in detail)
  - name: users-service
    endpoints: ["127.0.0.1:9001", "127.0.0.1:9002"]
    loadBalancing: LEAST_OUTSTANDING      # or ROUND_ROBIN
    healthCheck: { path: /healthz, intervalSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 }
    maxConnectionsPerEndpoint: 256

authorizers:
  - name: CognitoAuth
    authorizerType: JWT
    identitySource: ["$request.header.Authorization"]
    jwtConfiguration:
      issuer: https://idp.example.com/pool
      audience: ["your-app-client-id"]
      jwksUri: file://./jwks.json          # extension: otherwise discovered from issuer
  - name: TokenAuth
    authorizerType: REQUEST                # Lambda authorizer; TOKEN for REST's token type
    authorizerUri: function:token-authorizer
    authorizerPayloadFormatVersion: "1.0"
    identitySource: ["$request.header.Authorization"]
    authorizerResultTtlInSeconds: 300

functions:                      # extension: local Lambda functions (Runtime API)
  - name: users
    command: ["python3", "-m", "awslambdaric", "app.handler"]
    workingDirectory: ./functions/users
    timeoutSeconds: 29
    reservedConcurrency: 8

apis:
  - name: users-api
    apiId: abc123                          # optional; generated if absent
    protocolType: HTTP                     # HTTP | REST | WEBSOCKET
    corsConfiguration:
      allowOrigins: ["https://app.example.com"]
      allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"]
      allowHeaders: ["Content-Type", "Authorization", "X-Api-Key"]
      exposeHeaders: ["X-Request-Id"]
      maxAge: 3600
      allowCredentials: true
    integrations:
      - name: users-lambda
        integrationType: AWS_PROXY
        integrationUri: arn:aws:lambda:us-east-1:000000000000:function:users   # or function:users
        payloadFormatVersion: "2.0"
      - name: users-http
        integrationType: HTTP_PROXY
        integrationUri: http://users-service/{proxy}   # a target group by name, or a URL
        timeoutInMillis: 29000
        requestParameters:
          "overwrite:header.x-user-sub": "$context.authorizer.claims.sub"
    routes:
      - routeKey: GET /users/{userId}
        target: users-lambda
        authorizationType: JWT
        authorizer: CognitoAuth
        authorizationScopes: ["users/read"]
      - routeKey: ANY /{proxy+}
        target: users-http
    stages:
      - stageName: prod
        stageVariables: { backendHost: "127.0.0.1:9001" }
        defaultRouteSettings: { throttlingBurstLimit: 100, throttlingRateLimit: 50 }
        cacheClusterEnabled: true          # extension on HTTP APIs (REST has it)
        cacheClusterSize: "0.5"            # GB
        routeSettings:
          "GET /users/{userId}": { cachingEnabled: true, cacheTtlInSeconds: 60 }
        canarySettings: { percentTraffic: 10, stageVariableOverrides: { backendHost: "127.0.0.1:9002" } }
        accessLogSettings: { destination: "file://./access.log" }
      - stageName: $default
        autoDeploy: true

  - name: legacy-rest
    apiId: rest01
    protocolType: REST                     # REST semantics: 403 Missing Authentication Token,
    integrations:                          # x-amzn-RequestId, API keys, cache, mapping templates
      - name: users-lambda
        integrationType: AWS_PROXY
        integrationUri: arn:aws:lambda:us-east-1:000000000000:function:users
    routes:                                # REST resources + methods written as route keys
      - routeKey: GET /users/{userId}
        target: users-lambda
        authorizationType: CUSTOM
        authorizer: TokenAuth
        apiKeyRequired: true
    stages:
      - stageName: prod

usagePlans:
  - name: Standard
    apiStages: [{ api: users-api, stage: prod }]
    throttle: { burstLimit: 100, rateLimit: 50 }
    quota: { limit: 10000, period: MONTH }
    apiKeys: [partner-acme]

apiKeys:
  - name: partner-acme
    value: "acme-0123456789abcdef0123"     # or valueFrom: env:ACME_KEY (extension)
    enabled: true

domainNames:
  - domainName: api.example.com
    certificate: { chain: ./certs/api.example.com.pem, key: ./certs/api.example.com.key }
    mutualTlsAuthentication: { truststore: ./certs/clients-ca.pem }   # optional
    apiMappings:
      - { apiMappingKey: "", api: users-api, stage: prod }
      - { apiMappingKey: "v2", api: users-api, stage: $default }
"""#
}

extension SharedExample {
    /// The parts of `text` that Turnpike implements today: the unsupported sections removed,
    /// the route that targeted the Lambda integration pointed at the HTTP one, and a deployment
    /// added for the canary to serve.
    static let implementedSubset = #"""
    authorizers:
      - name: CognitoAuth
        authorizerType: JWT
        identitySource: ["$request.header.Authorization"]
        jwtConfiguration:
          issuer: https://idp.example.com/pool
          audience: ["your-app-client-id"]
          jwksUri: file://./jwks.json

    listeners:
      - name: public-http
        port: 8080
      - name: admin
        port: 9901
        admin: true

    targetGroups:
      - name: users-service
        endpoints: ["127.0.0.1:9001", "127.0.0.1:9002"]
        loadBalancing: LEAST_OUTSTANDING
        healthCheck: { path: /healthz, intervalSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 }
        maxConnectionsPerEndpoint: 256

    apis:
      - name: users-api
        apiId: abc123
        protocolType: HTTP
        corsConfiguration:
          allowOrigins: ["https://app.example.com"]
          allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"]
          allowHeaders: ["Content-Type", "Authorization", "X-Api-Key"]
          exposeHeaders: ["X-Request-Id"]
          maxAge: 3600
          allowCredentials: true
        deployments:
          - deploymentId: canary1
            integrations:
              - name: users-http
                integrationType: HTTP_PROXY
                integrationUri: http://${stageVariables.backendHost}/{proxy}
            routes:
              - routeKey: ANY /{proxy+}
                target: users-http
        integrations:
          - name: users-http
            integrationType: HTTP_PROXY
            integrationUri: http://users-service/{proxy}
            timeoutInMillis: 29000
            requestParameters:
              "overwrite:header.x-user-sub": "$context.authorizer.claims.sub"
        routes:
          - routeKey: GET /users/{userId}
            target: users-http
            authorizationType: JWT
            authorizer: CognitoAuth
            authorizationScopes: ["users/read"]
          - routeKey: ANY /{proxy+}
            target: users-http
        stages:
          - stageName: prod
            stageVariables: { backendHost: "127.0.0.1:9001" }
            defaultRouteSettings: { throttlingBurstLimit: 100, throttlingRateLimit: 50 }
            cacheClusterEnabled: true
            cacheClusterSize: "0.5"
            routeSettings:
              "GET /users/{userId}": { cachingEnabled: true, cacheTtlInSeconds: 60 }
            canarySettings:
              deploymentId: canary1
              percentTraffic: 10
              stageVariableOverrides: { backendHost: "127.0.0.1:9002" }
            accessLogSettings: { destination: "file://./access.log" }
          - stageName: $default
            autoDeploy: true

    usagePlans:
      - name: Standard
        apiStages: [{ api: users-api, stage: prod }]
        throttle: { burstLimit: 100, rateLimit: 50 }
        quota: { limit: 10000, period: MONTH }
        apiKeys: [partner-acme]

    apiKeys:
      - name: partner-acme
        value: "acme-0123456789abcdef0123"
        enabled: true

    domainNames:
      - domainName: api.example.com
        apiMappings:
          - { apiMappingKey: "", api: users-api, stage: prod }
          - { apiMappingKey: "v2", api: users-api, stage: $default }
    """#
}
