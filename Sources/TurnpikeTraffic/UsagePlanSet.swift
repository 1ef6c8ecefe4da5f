/// One usage plan as built: its identity and limits, shared by every `PlanBinding` made from it.
public final class UsagePlan: Sendable {
    public let id: String
    public let name: String
    public let throttle: ThrottleSpec?
    public let quota: QuotaPeriod?
    /// The ids of the plan's keys, in configuration order (GetUsage reports them).
    public let keyIds: [String]

    init(id: String, name: String, throttle: ThrottleSpec?, quota: QuotaPeriod?, keyIds: [String]) {
        self.id = id
        self.name = name
        self.throttle = throttle
        self.quota = quota
        self.keyIds = keyIds
    }
}

/// What one API key gets on one API stage through its usage plan: the buckets to pass and the quota to count.
///
/// Throttles and quotas are per key and "aggregated across all API stages within a usage plan"
/// (developer guide, "Usage plans and API keys for REST APIs in API Gateway"), so `keyBucket` and
/// `quota` are the same objects in every binding of one (plan, key). A per-route throttle applies in
/// addition to the plan's: "if you set method level throttling inside the plan, that doesn't change the
/// fact that the overall usage plan limit is still global to that key" (AWS support on re:Post,
/// repost.aws/questions/QUFD1EPj5dRYaYaqpNepE34A). Append both to the request's `ThrottleChain`.
public final class PlanBinding: Sendable {
    public let plan: UsagePlan
    public let key: ApiKeyRecord
    /// The plan's throttle for this key, nil when the plan sets none.
    public let keyBucket: GCRABucket?
    /// The plan's quota counter for this key; it also meters requests when the plan has no quota.
    public let quota: QuotaCounter
    /// Route indices with a per-route throttle, ascending, and their buckets.
    private let routeIndices: [Int]
    private let routeBuckets: [GCRABucket]

    init(plan: UsagePlan, key: ApiKeyRecord, keyBucket: GCRABucket?, quota: QuotaCounter, routes: [(Int, GCRABucket)]) {
        self.plan = plan
        self.key = key
        self.keyBucket = keyBucket
        self.quota = quota
        let sorted = routes.sorted { $0.0 < $1.0 }
        routeIndices = sorted.map(\.0)
        routeBuckets = sorted.map(\.1)
    }

    /// This key's bucket for the plan's per-route throttle on `routeIndex`, nil when the route has none.
    public func routeBucket(routeIndex: Int) -> GCRABucket? {
        var low = 0
        var high = routeIndices.count
        while low < high {
            let middle = (low + high) / 2
            let value = routeIndices[middle]
            if value == routeIndex { return routeBuckets[middle] }
            if value < routeIndex { low = middle + 1 } else { high = middle }
        }
        return nil
    }
}

/// All usage plans, compiled at config load into per-key tables so a request finds its plan, buckets and quota by small integers.
public final class UsagePlanSet: Sendable {
    private struct StageEntry: Sendable {
        let apiIndex: Int
        let stageIndex: Int
        let binding: PlanBinding
    }

    public let plans: [UsagePlan]
    public let keys: ApiKeyRegistry
    private let planIndex: [String: Int]
    /// By `ApiKeyRecord.index`: the API stages the key may call and the binding for each.
    private let stagesByKey: [[StageEntry]]
    let usageStore: QuotaStore?

    /// Builds every (plan, key) bucket and counter, and every (plan, key, API stage, route) bucket.
    ///
    /// `resolveRoute` maps an API index and a route key (`GET /pets`) to the gateway's route index,
    /// nil when the API has no such route. With a `store`, quota counters come from it (loaded from its
    /// file, and the same counters again on a reload); without one they start at zero in memory.
    public init(plans specs: [UsagePlanSpec], keys: ApiKeyRegistry,
                resolveRoute: (_ apiIndex: Int, _ routeKey: String) -> Int?,
                store: QuotaStore?, nowEpochSeconds: Int64) throws {
        var plans: [UsagePlan] = []
        var planIndex: [String: Int] = [:]
        var stagesByKey = [[StageEntry]](repeating: [], count: keys.records.count)
        for spec in specs {
            guard planIndex[spec.id] == nil else { throw TrafficConfigError.duplicateUsagePlanId(spec.id) }
            if let throttle = spec.throttle { _ = try GCRARule(throttle) }
            let quota = try spec.quota.map { (spec) throws(TrafficConfigError) in try QuotaPeriod(spec) }
            var seenStages = Set<[Int]>()
            var routeSpecs: [[(Int, ThrottleSpec)]] = []
            for stage in spec.apiStages {
                guard seenStages.insert([stage.apiIndex, stage.stageIndex]).inserted else {
                    throw TrafficConfigError.duplicateApiStage(planId: spec.id, apiIndex: stage.apiIndex, stageIndex: stage.stageIndex)
                }
                var routes: [(Int, ThrottleSpec)] = []
                for route in stage.routeThrottles {
                    guard let routeIndex = resolveRoute(stage.apiIndex, route.routeKey) else {
                        throw TrafficConfigError.unknownRouteKey(planId: spec.id, routeKey: route.routeKey)
                    }
                    _ = try GCRARule(route.throttle)
                    routes.append((routeIndex, route.throttle))
                }
                routeSpecs.append(routes)
            }
            let plan = UsagePlan(id: spec.id, name: spec.name, throttle: spec.throttle, quota: quota, keyIds: spec.keyIds)
            planIndex[spec.id] = plans.count
            plans.append(plan)
            for keyId in spec.keyIds {
                guard let key = keys.record(id: keyId) else {
                    throw TrafficConfigError.unknownApiKeyId(planId: spec.id, keyId: keyId)
                }
                if stagesByKey[key.index].contains(where: { $0.binding.plan === plan }) { continue }
                let keyBucket = try spec.throttle.map { (throttle) throws(TrafficConfigError) in try GCRABucket(throttle) }
                let counter = try store?.counter(planId: spec.id, keyId: keyId, quota: quota, nowEpochSeconds: nowEpochSeconds)
                    ?? QuotaCounter(planId: spec.id, keyId: keyId, quota: quota, nowEpochSeconds: nowEpochSeconds)
                for (stage, routes) in zip(spec.apiStages, routeSpecs) {
                    if let other = stagesByKey[key.index].first(where: {
                        $0.apiIndex == stage.apiIndex && $0.stageIndex == stage.stageIndex
                    }) {
                        throw TrafficConfigError.apiKeyInTwoPlansForStage(keyId: keyId, planId: spec.id, otherPlanId: other.binding.plan.id)
                    }
                    var routeBuckets: [(Int, GCRABucket)] = []
                    for (routeIndex, throttle) in routes {
                        routeBuckets.append((routeIndex, try GCRABucket(throttle)))
                    }
                    let binding = PlanBinding(plan: plan, key: key, keyBucket: keyBucket, quota: counter, routes: routeBuckets)
                    stagesByKey[key.index].append(StageEntry(apiIndex: stage.apiIndex, stageIndex: stage.stageIndex, binding: binding))
                }
            }
        }
        self.plans = plans
        self.planIndex = planIndex
        self.stagesByKey = stagesByKey
        self.keys = keys
        self.usageStore = store
    }

    /// The binding that lets `key` call this API stage, or nil when none of the key's plans covers it.
    ///
    /// Nil means 403 `{"message":"Forbidden"}`: API Gateway admits a key only on the stages of its
    /// usage plans ("A usage plan specifies who can access one or more deployed API stages" and "the
    /// plan uses API keys to identify API clients and who can access the associated API stages for
    /// each key" — developer guide, "Usage plans and API keys for REST APIs in API Gateway").
    public func plan(forKey key: ApiKeyRecord, apiIndex: Int, stageIndex: Int) -> PlanBinding? {
        guard key.index < stagesByKey.count else { return nil }
        for entry in stagesByKey[key.index] where entry.apiIndex == apiIndex && entry.stageIndex == stageIndex {
            return entry.binding
        }
        return nil
    }

    /// The plan with configuration id `id`.
    public func plan(id: String) -> UsagePlan? {
        planIndex[id].map { plans[$0] }
    }
}
