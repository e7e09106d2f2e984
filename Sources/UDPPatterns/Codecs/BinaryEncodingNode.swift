/// Where ``BinaryValueEncoder`` writes: a byte buffer, with the lists (arrays, sets) begun inside it kept as
/// child nodes, because a list's element count comes before its elements on the wire but is known only
/// once the last element has been written. ``assemble()`` puts each count in front of its list.
final class BinaryEncodingNode {
    /// Bytes written directly into this node.
    var bytes: [UInt8] = []
    /// Elements written, for a list.
    var elementCount = 0
    private let isList: Bool
    // Lists begun in this node, each at the offset in `bytes` where it belongs.
    private var lists: [(offset: Int, node: BinaryEncodingNode)] = []

    init(isList: Bool) {
        self.isList = isList
    }

    /// Begins a list at the current position.
    func appendList() -> BinaryEncodingNode {
        let list = BinaryEncodingNode(isList: true)
        lists.append((bytes.count, list))
        return list
    }

    /// LEB128: seven bits per byte, least significant group first, the high bit set on all but the last.
    func appendVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// A length-prefixed byte string.
    func appendBytes(_ value: [UInt8]) {
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// The finished encoding: this node's bytes with every list's count and elements spliced in.
    ///
    /// - Throws: ``BinaryCodecError/zeroSizedElements(count:)`` for a list of values that encode to nothing
    ///   (empty structs): the decoder refuses a count larger than the bytes left, so that a forged count
    ///   cannot make it loop, and such a list could never be decoded.
    func assemble() throws -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(bytes.count)
        var start = 0
        for (offset, list) in lists {
            body.append(contentsOf: bytes[start..<offset])
            body.append(contentsOf: try list.assemble())
            start = offset
        }
        body.append(contentsOf: bytes[start...])
        guard isList else { return body }
        guard elementCount <= body.count else { throw BinaryCodecError.zeroSizedElements(count: elementCount) }
        let counted = BinaryEncodingNode(isList: false)
        counted.appendVarint(UInt64(elementCount))
        return counted.bytes + body
    }
}
