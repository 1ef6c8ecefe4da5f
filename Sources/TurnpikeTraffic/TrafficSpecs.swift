/// A throttle as API Gateway states one: `burstLimit` is the bucket size, `rateLimit` the steady refill in requests per second.
public struct ThrottleSpec: Sendable, Equatable {
    public var burstLimit: Int
    public var rateLimit: Double

    public init(burstLimit: Int, rateLimit: Double) {
        self.burstLimit = burstLimit
        self.rateLimit = rateLimit
    }
}

/// The length of a quota period, with API Gateway's names (`QuotaPeriodType`).
public enum QuotaPeriodType: String, Sendable, Equatable, CaseIterable {
    case day = "DAY"
    case week = "WEEK"
    case month = "MONTH"
}

/// A usage plan's quota as configured: at most `limit` requests per period, periods starting on the day `offset` names.
public struct QuotaSpec: Sendable, Equatable {
    public var limit: Int
    public var period: QuotaPeriodType
    public var offset: Int

    public init(limit: Int, period: QuotaPeriodType, offset: Int = 0) {
        self.limit = limit
        self.period = period
        self.offset = offset
    }
}

/// One API key as configured: `value` is what clients send (`x-api-key`), `id` what usage plans and reports name.
public struct ApiKeySpec: Sendable, Equatable {
    public var id: String
    public var name: String
    public var value: String
    public var enabled: Bool

    public init(id: String, name: String, value: String, enabled: Bool = true) {
        self.id = id
        self.name = name
        self.value = value
        self.enabled = enabled
    }
}

/// A per-route throttle inside a usage plan's API stage (API Gateway's per-method `throttle` map entry).
public struct RouteThrottleSpec: Sendable, Equatable {
    public var routeKey: String
    public var throttle: ThrottleSpec

    public init(routeKey: String, throttle: ThrottleSpec) {
        self.routeKey = routeKey
        self.throttle = throttle
    }
}

/// An API stage a usage plan covers, by the gateway's API and stage indices, with its per-route throttles.
public struct ApiStageSpec: Sendable, Equatable {
    public var apiIndex: Int
    public var stageIndex: Int
    public var routeThrottles: [RouteThrottleSpec]

    public init(apiIndex: Int, stageIndex: Int, routeThrottles: [RouteThrottleSpec] = []) {
        self.apiIndex = apiIndex
        self.stageIndex = stageIndex
        self.routeThrottles = routeThrottles
    }
}

/// A usage plan as configured: the API stages it opens to its keys, and the throttle and quota each key gets.
public struct UsagePlanSpec: Sendable, Equatable {
    public var id: String
    public var name: String
    public var apiStages: [ApiStageSpec]
    public var throttle: ThrottleSpec?
    public var quota: QuotaSpec?
    public var keyIds: [String]

    public init(id: String, name: String, apiStages: [ApiStageSpec], throttle: ThrottleSpec? = nil,
                quota: QuotaSpec? = nil, keyIds: [String]) {
        self.id = id
        self.name = name
        self.apiStages = apiStages
        self.throttle = throttle
        self.quota = quota
        self.keyIds = keyIds
    }
}
