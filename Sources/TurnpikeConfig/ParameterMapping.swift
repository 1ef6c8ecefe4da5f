/// One parameter mapping entry, e.g. `"overwrite:header.x-user": "$context.requestId"`.
public struct ParameterMapping: Sendable, Equatable {
    public let action: MappingAction
    public let target: MappingTarget
    /// The value to write; empty for `remove`.
    public let value: ValueTemplate

    public init(action: MappingAction, target: MappingTarget, value: ValueTemplate) {
        self.action = action
        self.target = target
        self.value = value
    }
}

/// What a parameter mapping does to its target.
public enum MappingAction: String, Sendable, Equatable {
    case overwrite
    case append
    case remove
}

/// What a parameter mapping changes.
public enum MappingTarget: Sendable, Equatable {
    /// A header, name lowercased.
    case header(String)
    case querystring(String)
    /// The upstream request path (request mappings only).
    case path
    /// The response status code (response mappings only).
    case statuscode
}

/// A string with `$…` variable references, parsed once so the gateway never re-parses it.
public struct ValueTemplate: Sendable, Equatable {
    /// As written in the file.
    public let text: String
    public let parts: [TemplatePart]

    public init(text: String, parts: [TemplatePart]) {
        self.text = text
        self.parts = parts
    }
}

/// A piece of a value template.
public enum TemplatePart: Sendable, Equatable {
    case literal(String)
    case variable(TemplateVariable)
}

/// A variable a template may reference; `$x.y` and `${x.y}` are the same reference.
public enum TemplateVariable: Sendable, Equatable {
    /// `$request.header.NAME` (name lowercased).
    case requestHeader(String)
    /// `$request.querystring.NAME`.
    case requestQueryString(String)
    /// `$request.path.NAME`: a path parameter.
    case requestPathParameter(String)
    /// `$request.path`: the whole request path.
    case requestPath
    /// `$context.NAME`, NAME possibly dotted (`authorizer.claims.sub`).
    case context(String)
    /// `$stageVariables.NAME`.
    case stageVariable(String)
}
