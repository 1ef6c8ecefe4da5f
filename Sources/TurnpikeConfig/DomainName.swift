/// A custom domain name and the api stages mapped under its base paths.
public struct DomainName: Sendable, Equatable {
    /// Lowercased; may start with "*." for a wildcard domain.
    public let name: String
    public let mappings: [ApiMapping]

    public init(name: String, mappings: [ApiMapping]) {
        self.name = name
        self.mappings = mappings
    }
}

/// Serves one api stage under a base path ("" for the domain root) of a domain name.
public struct ApiMapping: Sendable, Equatable {
    /// The base path without slashes at either end, e.g. "v2" or "orders/v1"; "" for the root.
    public let key: String
    public let apiName: String
    public let stageName: String

    public init(key: String, apiName: String, stageName: String) {
        self.key = key
        self.apiName = apiName
        self.stageName = stageName
    }
}
