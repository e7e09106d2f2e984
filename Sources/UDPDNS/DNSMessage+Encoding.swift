import UDP

extension DNSMessage {
    /// The message on the wire, owner names and the names inside PTR, NS, CNAME, MX and SOA data compressed
    /// against the names written before them (RFC 1035 §4.1.4; RFC 3597 §4 allows it for these types alone). SRV
    /// targets and NSEC names are written whole, as RFC 2782 and RFC 4034 ask.
    ///
    /// - Throws: ``DNSError/tooLarge(_:)`` for a section of more than 65535 entries, record data over 65535
    ///   bytes or a TXT string over 255.
    public func encoded() throws(DNSError) -> [UInt8] {
        var writer = DNSWriter()
        writer.uint16(id)
        writer.uint16(flags)
        for (section, count) in [
            ("questions", questions.count), ("answers", answers.count), ("authorities", authorities.count),
            ("additionals", additionals.count),
        ] {
            guard count <= Int(UInt16.max) else { throw .tooLarge(section) }
            writer.uint16(UInt16(count))
        }
        for question in questions {
            writer.name(question.name, compress: true)
            writer.uint16(question.type.rawValue)
            writer.uint16(question.rawClass)
        }
        for record in answers + authorities + additionals { try writer.record(record) }
        return writer.bytes
    }
}

/// Writes a DNS message's fields, remembering where each name suffix went for compression.
struct DNSWriter {
    var bytes: [UInt8] = []
    /// Offsets of the name suffixes written so far (folded to lower case), for pointers: only offsets a pointer
    /// can hold (14 bits).
    private var suffixes: [[[UInt8]]: Int] = [:]

    init() { bytes.reserveCapacity(512) }

    mutating func uint16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }

    mutating func uint32(_ value: UInt32) {
        uint16(UInt16(value >> 16))
        uint16(UInt16(value & 0xFFFF))
    }

    mutating func name(_ name: DNSName, compress: Bool) {
        let folded = name.foldedLabels
        for index in name.labels.indices {
            let suffix = Array(folded[index...])
            if compress, let offset = suffixes[suffix] {
                uint16(0xC000 | UInt16(offset))
                return
            }
            if bytes.count < 0x4000 && suffixes[suffix] == nil { suffixes[suffix] = bytes.count }
            bytes.append(UInt8(name.labels[index].count))
            bytes += name.labels[index]
        }
        bytes.append(0)
    }

    mutating func record(_ record: DNSRecord) throws(DNSError) {
        name(record.name, compress: true)
        uint16(record.type.rawValue)
        uint16(record.rawClass)
        uint32(record.ttl)
        let lengthOffset = bytes.count
        uint16(0)  // the data's length, filled in below
        let start = bytes.count
        switch record.data {
        case .a(let address):
            bytes += address.bytes
        case .aaaa(let address):
            bytes += address.bytes
        case .ptr(let target), .ns(let target), .cname(let target):
            name(target, compress: true)
        case .mx(let preference, let exchange):
            uint16(preference)
            name(exchange, compress: true)
        case .soa(let soa):
            name(soa.primaryServer, compress: true)
            name(soa.mailbox, compress: true)
            for number in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { uint32(number) }
        case .srv(let priority, let weight, let port, let target):
            uint16(priority)
            uint16(weight)
            uint16(port)
            name(target, compress: false)
        case .txt(let strings):
            // An empty TXT record is one empty string (RFC 6763 §6.1).
            for string in strings.isEmpty ? [[]] : strings {
                guard string.count <= 255 else { throw .tooLarge("a TXT string of \(string.count) bytes") }
                bytes.append(UInt8(string.count))
                bytes += string
            }
        case .nsec(let next, let types):
            name(next, compress: false)
            writeTypeBitmap(types)
        case .unknown(_, let data):
            bytes += data
        }
        let length = bytes.count - start
        guard length <= Int(UInt16.max) else { throw .tooLarge("record data of \(length) bytes") }
        bytes[lengthOffset] = UInt8(length >> 8)
        bytes[lengthOffset + 1] = UInt8(length & 0xFF)
    }

    /// The NSEC type bit maps: per window of 256 types, the window number, the bitmap's length, the bitmap.
    private mutating func writeTypeBitmap(_ types: [DNSRecordType]) {
        let windows = Dictionary(grouping: Set(types.map(\.rawValue)), by: { $0 >> 8 })
        for window in windows.keys.sorted() {
            var map = [UInt8](repeating: 0, count: 32)
            for type in windows[window]! { map[Int(type & 0xFF) >> 3] |= 0x80 >> (type & 7) }
            while map.last == 0 { map.removeLast() }
            bytes.append(UInt8(window))
            bytes.append(UInt8(map.count))
            bytes += map
        }
    }
}
