import FoundationEssentials
import Testing
import UDPPatterns

/// A message that exercises every part of the format.
struct Reading: Codable, Equatable {
    enum Unit: String, Codable { case celsius, kelvin }
    enum Priority: Int, Codable {
        case low = 1
        case high = 9
    }
    struct Location: Codable, Equatable {
        var name: String
        var latitude: Double
        var longitude: Double
    }

    var tiny: Int8 = -128
    var small: Int16 = -32_768
    var medium: Int32 = .min
    var large: Int64 = .max
    var native: Int = -1
    var byte: UInt8 = 255
    var word: UInt16 = .max
    var double: UInt32 = .max
    var quad: UInt64 = .max
    var unsigned: UInt = 0
    var flag = true
    var ratio: Float = -0.5
    var value = Double.pi
    var label = "Zürich, 東京 🌡️"
    var samples: [Int32] = [0, -1, 1, 1_000_000]
    var raw: [UInt8] = [0, 1, 2, 254, 255]
    var note: String? = nil
    var limit: Int? = 0
    var maybeNested: [Double?] = [1.5, nil, -2]
    var unit = Unit.kelvin
    var priority = Priority.high
    var location = Location(name: "lab", latitude: 47.37, longitude: 8.54)
    var history: [Location] = [Location(name: "", latitude: 0, longitude: -0.0)]
    var tags: [String: Int] = ["a": 1, "ß": -2]
    var optionalLocation: Location? = Location(name: "x", latitude: 1, longitude: 2)
}

@Suite struct BinaryCodecTests {
    let codec = BinaryCodec()

    @Test func roundTripsANestedStruct() throws {
        let reading = Reading()
        let encoded = try codec.encode(reading)
        #expect(try codec.decode(Reading.self, from: encoded) == reading)
        var other = Reading()
        other.note = "set"
        other.limit = nil
        other.optionalLocation = nil
        other.samples = []
        other.tags = [:]
        #expect(try codec.decode(Reading.self, from: codec.encode(other)) == other)
    }

    @Test func roundTrips128BitIntegers() throws {
        #expect(try codec.encode(UInt128(1)) == [UInt8](repeating: 0, count: 15) + [1])
        for value in [Int128.min, -1, 0, Int128.max] {
            #expect(try codec.decode(Int128.self, from: codec.encode(value)) == value)
        }
        #expect(try codec.decode(UInt128.self, from: codec.encode(UInt128.max)) == .max)
    }

    @Test func dataIsALengthPrefixedByteString() throws {
        let data = Data([0xDE, 0xAD, 0xBE, 0xEF])
        #expect(try codec.encode(data) == [0x04, 0xDE, 0xAD, 0xBE, 0xEF])
        #expect(try codec.decode(Data.self, from: [0x04, 0xDE, 0xAD, 0xBE, 0xEF]) == data)
    }

    @Test func isCompact() throws {
        struct Small: Codable { var id: UInt32 = 7, temperature: Int16 = -3, name = "ok" }
        #expect(try codec.encode(Small()) == [0x07, 0x05, 0x02, 0x6F, 0x6B])
        let json = try JSONCodec().encode(Small())
        #expect(json.count > 30)
    }

    @Test(
        arguments: [
            (0, [0x00]), (-1, [0x01]), (1, [0x02]), (-64, [0x7F]), (64, [0x80, 0x01]),
            (Int64.max, [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            (Int64.min, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        ] as [(Int64, [UInt8])]
    )
    func signedIntegersAreZigzagVarints(value: Int64, expected: [UInt8]) throws {
        #expect(try codec.encode(value) == expected)
        #expect(try codec.decode(Int64.self, from: expected) == value)
    }

    @Test func primitivesHaveTheDocumentedLayout() throws {
        #expect(try codec.encode(UInt64(300)) == [0xAC, 0x02])
        #expect(try codec.encode(UInt8(200)) == [200])
        #expect(try codec.encode(Int8(-1)) == [0xFF])
        #expect(try codec.encode(1.0) == [0x3F, 0xF0, 0, 0, 0, 0, 0, 0])
        #expect(try codec.encode(Float(1)) == [0x3F, 0x80, 0, 0])
        #expect(try codec.encode("hé") == [0x03, 0x68, 0xC3, 0xA9])
        #expect(try codec.encode([true, false]) == [0x02, 0x01, 0x00])
        #expect(try codec.encode(Int?.none) == [0x00])
        #expect(try codec.encode(Int?.some(0)) == [0x01, 0x00])
        #expect(try codec.encode(Int??.some(nil)) == [0x01, 0x00])
        #expect(try codec.decode(Int??.self, from: [0x01, 0x00]) == .some(nil))
    }

    @Test func integersMayWidenBetweenVersions() throws {
        #expect(try codec.decode(Int64.self, from: codec.encode(Int16(-300))) == -300)
        #expect(try codec.decode(UInt16.self, from: codec.encode(UInt64(65_535))) == 65_535)
        #expect(throws: BinaryCodecError.outOfRange("Int16")) {
            try codec.decode(Int16.self, from: codec.encode(Int64(40_000)))
        }
    }

    @Test func refusesMessagesOverTheBudgetNamingBothSizes() throws {
        let error = #expect(throws: DatagramBudget.Exceeded.self) {
            try codec.encode([UInt8](repeating: 7, count: 1812))  // 2-byte count + 1812 + 16-byte header
        }
        #expect(error == DatagramBudget.Exceeded(size: 1830, budget: 1200))
        #expect("\(error!)" == "message of 1830 bytes exceeds the datagram budget of 1200 bytes")
        #expect(try codec.encode([UInt8](repeating: 7, count: 1182)).count == 1184)  // exactly 1200 framed
        #expect(try BinaryCodec(budget: .ethernet).encode([UInt8](repeating: 7, count: 1454)).count == 1456)
    }

    @Test(
        arguments: [
            ([], BinaryCodecError.unexpectedEnd(needed: 1, remaining: 0)),
            ([0x80], .unexpectedEnd(needed: 1, remaining: 0)),
            ([0x80, 0x00], .nonCanonicalVarint),
            ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], .varintOverflow),
            ([0x05, 0x41], .countTooLarge(declared: 5, remaining: 1)),
            ([0x02, 0xC3, 0x28], .invalidUTF8),
            ([0x01, 0x41, 0x00], .trailingBytes(1)),
        ] as [([UInt8], BinaryCodecError)]
    )
    func malformedStringsGiveTypedErrors(input: [UInt8], expected: BinaryCodecError) {
        #expect(throws: expected) { try codec.decode(String.self, from: input) }
    }

    @Test func otherMalformedInputGivesTypedErrors() {
        #expect(throws: BinaryCodecError.invalidBool(2)) { try codec.decode(Bool.self, from: [2]) }
        #expect(throws: BinaryCodecError.invalidPresence(7)) { try codec.decode(Int?.self, from: [7, 0]) }
        #expect(throws: BinaryCodecError.outOfRange("UInt16")) {
            try codec.decode(UInt16.self, from: [0x80, 0x80, 0x04])
        }
        #expect(throws: BinaryCodecError.unexpectedEnd(needed: 8, remaining: 3)) {
            try codec.decode(Double.self, from: [1, 2, 3])
        }
        // An unknown raw value is the enum's own DecodingError.
        #expect(throws: DecodingError.self) { try codec.decode(Reading.Priority.self, from: [0x06]) }
    }

    @Test func aForgedCountCannotMakeItAllocateOrLoop() {
        // 2⁶³ elements claimed, 3 bytes present.
        let forged: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3]
        #expect(throws: BinaryCodecError.self) { try codec.decode([[Int]].self, from: forged) }
    }

    @Test func deepNestingIsRefused() throws {
        final class Node: Codable {
            var children: [Node]
            init(_ children: [Node]) { self.children = children }
        }
        // Decoding: a count of 1 at each level, 200 levels deep, from a few hundred bytes.
        let deep = [UInt8](repeating: 0x01, count: 200) + [0x00]
        #expect(throws: BinaryCodecError.tooDeep(limit: BinaryCodec.maximumDepth)) {
            try codec.decode(Node.self, from: deep)
        }
        // Encoding refuses too, rather than produce bytes that cannot be decoded.
        var node = Node([])
        for _ in 0..<100 { node = Node([node]) }
        #expect(throws: BinaryCodecError.tooDeep(limit: BinaryCodec.maximumDepth)) { try codec.encode(node) }
        var shallow = Node([])
        for _ in 0..<20 { shallow = Node([shallow]) }
        #expect(try codec.encode(shallow).count == 21)
    }

    @Test func listsOfEmptyValuesAreRefusedAtEncoding() {
        struct Empty: Codable, Equatable {}
        #expect(throws: BinaryCodecError.zeroSizedElements(count: 3)) { try codec.encode([Empty(), Empty(), Empty()]) }
        #expect(throws: Never.self) { try codec.encode([Empty]()) }
    }

    /// Random bytes decode to a value or a typed error, never a crash.
    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SeededGenerator(seed: 77)
        let valid = try! codec.encode(Reading())
        var decoded = 0
        for round in 0..<5_000 {
            var input: [UInt8]
            if round % 2 == 0 {
                // A valid message with a few bytes flipped or cut.
                input = valid
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    input[Int.random(in: 0..<input.count, using: &generator)] = UInt8.random(
                        in: 0...255,
                        using: &generator
                    )
                }
                input = Array(input.prefix(Int.random(in: 0...input.count, using: &generator)))
            } else {
                input = (0..<Int.random(in: 0...64, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            }
            if (try? codec.decode(Reading.self, from: input)) != nil { decoded += 1 }
            _ = try? codec.decode([String?].self, from: input)
            _ = try? codec.decode([Int64: [Double]].self, from: input)
        }
        #expect(decoded < 5_000)
    }
}
