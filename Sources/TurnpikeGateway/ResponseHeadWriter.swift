import TurnpikeConfig

/// The respond phase for proxied responses: the head the client receives — the
/// upstream's status and end-to-end fields, response parameter mappings, and the
/// request id. Framing fields are left to the transport.
public enum ResponseHeadWriter {
    public static func write(
        status: Int, reason: UnsafeRawBufferPointer, headers: UnsafeBufferPointer<HeaderField>,
        requestId: RequestId, mappings: [ParameterMapping]?, context: MappingContext?,
        into out: inout [UInt8]
    ) {
        var status = status
        if let mappings, let context {
            for m in mappings where m.target == .statuscode {
                var value: [UInt8] = []
                context.evaluate(m.value, into: &value)
                if let s = Int(String(decoding: value, as: UTF8.self)), (100...599).contains(s) { status = s }
            }
        }
        out.append(ascii: "HTTP/1.1 ")
        out.append(decimal: status)
        out.append(UInt8(ascii: " "))
        if reason.isEmpty { out.append(ascii: "OK") } else { out.append(reason) }
        out.append(ascii: "\r\n")
        for field in headers {
            if HopByHopHeaders.isResponseHopByHop(field.name) { continue }
            if let mappings, isReplacedByMapping(field.name, mappings) { continue }
            out.append(field.name)
            out.append(ascii: ": ")
            out.append(field.value)
            out.append(ascii: "\r\n")
        }
        if let mappings, let context {
            for m in mappings where m.action != .remove {
                guard case .header(let name) = m.target else { continue }
                out.append(string: name)
                out.append(ascii: ": ")
                context.evaluate(m.value, into: &out)
                out.append(ascii: "\r\n")
            }
        }
        out.append(ascii: "apigw-requestid: ")
        requestId.append(to: &out)
        out.append(ascii: "\r\n")
    }

    /// Overwritten and removed fields go; appended ones stay and gain an extra field.
    private static func isReplacedByMapping(_ name: UnsafeRawBufferPointer, _ mappings: [ParameterMapping]) -> Bool {
        mappings.contains { m in
            if case .header(let n) = m.target, m.action != .append { return ASCII.equalsLowercased(name, Array(n.utf8)) }
            return false
        }
    }
}
