/// Why API keys, usage plans or throttles could not be built from their specs; the gateway adds the config path.
public enum TrafficConfigError: Error, Equatable, Sendable {
    case invalidThrottle(burstLimit: Int, rateLimit: Double)
    case invalidQuotaLimit(Int)
    case invalidQuotaOffset(period: QuotaPeriodType, offset: Int)
    case invalidCapacity(Int)
    case emptyApiKeyValue(keyId: String)
    case duplicateApiKeyId(String)
    case duplicateApiKeyValue(keyId: String, otherKeyId: String)
    case duplicateUsagePlanId(String)
    case unknownApiKeyId(planId: String, keyId: String)
    case duplicateApiStage(planId: String, apiIndex: Int, stageIndex: Int)
    case unknownRouteKey(planId: String, routeKey: String)
    /// API Gateway: "a given API key can only be associated with one usage plan for each stage of your API".
    case apiKeyInTwoPlansForStage(keyId: String, planId: String, otherPlanId: String)

    /// What is wrong, for the message the configuration loader shows next to the path.
    public var message: String {
        switch self {
        case let .invalidThrottle(burst, rate):
            return "throttle needs burstLimit >= 0 and a finite rateLimit >= 0 (got burstLimit \(burst), rateLimit \(rate))"
        case let .invalidQuotaLimit(limit):
            return "quota limit must be >= 0 (got \(limit))"
        case let .invalidQuotaOffset(period, offset):
            let range = switch period {
            case .day: "0"
            case .week: "0 (Sunday) to 6 (Saturday)"
            case .month: "0 (the 1st) to 30 (the 31st, or the month's last day)"
            }
            return "quota offset for \(period.rawValue) must be \(range) (got \(offset))"
        case let .invalidCapacity(capacity):
            return "capacity must be a power of two >= 2 (got \(capacity))"
        case let .emptyApiKeyValue(keyId):
            return "API key \(keyId) has an empty value"
        case let .duplicateApiKeyId(id):
            return "API key id \(id) is used twice"
        case let .duplicateApiKeyValue(keyId, otherKeyId):
            return "API keys \(otherKeyId) and \(keyId) have the same value; API key values must be unique"
        case let .duplicateUsagePlanId(id):
            return "usage plan id \(id) is used twice"
        case let .unknownApiKeyId(planId, keyId):
            return "usage plan \(planId) lists API key \(keyId), which is not defined"
        case let .duplicateApiStage(planId, api, stage):
            return "usage plan \(planId) lists API \(api) stage \(stage) twice"
        case let .unknownRouteKey(planId, routeKey):
            return "usage plan \(planId) throttles route \(routeKey), which the API does not have"
        case let .apiKeyInTwoPlansForStage(keyId, planId, otherPlanId):
            return "API key \(keyId) is in usage plans \(otherPlanId) and \(planId) for the same API stage; a key may be in one plan per stage"
        }
    }
}
