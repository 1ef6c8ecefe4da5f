/// One configured Lambda authorizer, validated once, and the two steps of using it for a
/// request: `begin` (identity sources, then the shared cache; either a decision or the
/// event to invoke the function with) and `finish` (the function's answer → a decision,
/// cached). The invocation itself is the caller's, so this module stays free of I/O.
public struct LambdaAuthorizer: Sendable {
    /// Which event the function receives.
    public enum EventFormat: Sendable, Hashable {
        case restToken
        case restRequest
        case httpPayloadV1
        case httpPayloadV2
    }

    public enum ConfigError: Error, Sendable, Equatable {
        case identitySource(AuthorizerIdentitySource.ConfigError)
        /// A TOKEN authorizer names exactly one header as its token source.
        case tokenSourceNotOneHeader
        /// `identityValidationExpression` is for TOKEN authorizers only.
        case validationExpressionWithoutToken
        /// `enableSimpleResponses` needs HTTP API payload format 2.0.
        case simpleResponsesNeedPayloadV2
        /// Caching keys on identity sources, so it needs at least one (HTTP API Lambda
        /// authorizer page, "Caching authorizer responses").
        case cachingWithoutIdentitySource
        /// `authorizerResultTtlInSeconds` is 0 to 3600.
        case ttlOutOfRange(Int)
    }

    /// The function's side of one invocation, as the caller observed it.
    public enum InvocationResult: Sendable {
        /// The function returned this payload.
        case payload([UInt8])
        /// The function failed with this error message (`errorMessage`).
        case functionError(message: String)
        /// The function could not be invoked or did not answer in time.
        case invocationFailed
    }

    /// What the caller must invoke the function with, and what `finish` needs back.
    public struct Invocation: Sendable {
        public let event: [UInt8]
        /// The method ARN (REST) or route ARN (HTTP) the answer is evaluated for.
        public let methodArn: String
        /// nil when caching is off.
        public let cacheKey: AuthorizerCacheKey?
    }

    public enum Step: Sendable {
        /// No invocation needed: refused before invoking (`failure` says why), or answered
        /// from the cache.
        case decided(AuthorizerDecision, failure: LambdaAuthorizerFailure?)
        case invoke(Invocation)
    }

    public let id: Int
    public let eventFormat: EventFormat
    public let responseFormat: LambdaAuthorizerResponse.Format
    public let identitySource: AuthorizerIdentitySource
    /// 0 = caching off.
    public let ttlSeconds: Int

    public var apiKind: AuthorizerAPIKind { responseFormat.apiKind }

    /// - Parameters:
    ///   - id: distinguishes authorizers in the shared cache.
    ///   - identitySource: expressions as configured (REST: the comma-separated
    ///     `identitySource` split; TOKEN: the one `method.request.header.NAME`).
    public init(id: Int, eventFormat: EventFormat, identitySource: [String], validationExpression: String? = nil,
                enableSimpleResponses: Bool = false,
                ttlSeconds: Int = AuthorizerResultCache.defaultTTLSeconds) throws(ConfigError) {
        let source: AuthorizerIdentitySource
        do {
            source = try AuthorizerIdentitySource(expressions: identitySource, validationExpression: validationExpression)
        } catch {
            throw .identitySource(error)
        }
        if eventFormat == .restToken {
            guard source.expressions.count == 1, case .header = source.expressions[0] else {
                throw .tokenSourceNotOneHeader
            }
        } else if validationExpression.map({ !$0.isEmpty }) ?? false {
            throw .validationExpressionWithoutToken
        }
        if enableSimpleResponses, eventFormat != .httpPayloadV2 { throw .simpleResponsesNeedPayloadV2 }
        guard (0...AuthorizerResultCache.maxTTLSeconds).contains(ttlSeconds) else { throw .ttlOutOfRange(ttlSeconds) }
        if ttlSeconds > 0, source.expressions.isEmpty { throw .cachingWithoutIdentitySource }
        self.id = id
        self.eventFormat = eventFormat
        switch eventFormat {
        case .restToken, .restRequest: responseFormat = .restPolicy
        case .httpPayloadV1: responseFormat = .httpPolicy
        case .httpPayloadV2: responseFormat = enableSimpleResponses ? .httpSimple : .httpPolicy
        }
        self.identitySource = source
        self.ttlSeconds = ttlSeconds
    }

    /// Identity sources (401 without invoking when one is missing), then the cache, then
    /// the event to invoke the function with.
    public func begin(_ request: AuthorizerRequestValues, cache: AuthorizerResultCache, nowSeconds: Int64) -> Step {
        let values: [String]
        do {
            values = try identitySource.values(in: request, kind: apiKind)
        } catch {
            return .decided(error.decision(for: apiKind), failure: error)
        }
        let methodArn = request.methodArn
        let key = ttlSeconds > 0 ? AuthorizerCacheKey(authorizerId: id, identityValues: values) : nil
        if let key, let cached = cache.lookup(key, nowSeconds: nowSeconds) {
            return .decided(cached.decision(methodArn: methodArn, kind: apiKind), failure: nil)
        }
        let event = switch eventFormat {
        case .restToken: LambdaAuthorizerEvent.restToken(token: values[0], methodArn: methodArn)
        case .restRequest: LambdaAuthorizerEvent.restRequest(request)
        case .httpPayloadV1: LambdaAuthorizerEvent.httpV1(request, identityValues: values)
        case .httpPayloadV2: LambdaAuthorizerEvent.httpV2(request, identityValues: values)
        }
        return .invoke(Invocation(event: event, methodArn: methodArn.text, cacheKey: key))
    }

    /// The function's answer → the decision; a well-formed answer is cached (allow and deny
    /// alike), a failure is not.
    public func finish(_ invocation: Invocation, result: InvocationResult, cache: AuthorizerResultCache,
                       nowSeconds: Int64) -> (decision: AuthorizerDecision, failure: LambdaAuthorizerFailure?) {
        let response: LambdaAuthorizerResponse
        do throws(LambdaAuthorizerFailure) {
            switch result {
            case .payload(let bytes): response = try LambdaAuthorizerResponse(parsing: bytes, format: responseFormat)
            case .functionError(let message): throw .functionError(message: message)
            case .invocationFailed: throw .functionFailed
            }
        } catch {
            return (error.decision(for: apiKind), error)
        }
        if let key = invocation.cacheKey {
            cache.insert(key, response: response, ttlSeconds: ttlSeconds, nowSeconds: nowSeconds)
        }
        return (response.decision(methodArn: invocation.methodArn, kind: apiKind), nil)
    }
}
