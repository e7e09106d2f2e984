import Crypto
import Testing
import UDPSeal

#if canImport(Glibc)
import Glibc
#endif

@Suite struct SealedEnvelopeTests {
    let key = SealKey.generate(id: 7)

    @Test func sealsAndOpens() throws {
        var sealer = Sealer(key: key, sender: 42)
        var opener = Opener(keys: [key])
        let datagram = sealer.seal(Array("hello".utf8))
        #expect(datagram.count == 5 + SealedEnvelope.overhead)
        #expect(!datagram.contains(subsequence: Array("hello".utf8)), "the payload travels encrypted")
        let opened = try opener.open(datagram)
        #expect(opened.payload == Array("hello".utf8))
        #expect(opened.keyID == 7 && opened.sender == 42 && opened.sequence == 0)
        #expect(opener.counters.opened == 1)
    }

    @Test("every corrupted byte, anywhere, is refused as forged or malformed")
    func corruption() throws {
        var sealer = Sealer(key: key)
        let datagram = sealer.seal(Array("payload".utf8))
        for index in datagram.indices {
            var opener = Opener(keys: [key])
            var bad = datagram
            bad[index] ^= 0x01
            #expect(throws: Opener.Rejection.self) { try opener.open(bad) }
            #expect(opener.counters.opened == 0 && opener.counters.rejected == 1)
        }
    }

    @Test("a wrong key of the same id fails authentication; an unknown id is named")
    func wrongKeys() throws {
        var sealer = Sealer(key: key)
        let datagram = sealer.seal([1, 2, 3])
        var impostor = Opener(keys: [SealKey.generate(id: 7)])
        #expect(throws: Opener.Rejection.forged) { try impostor.open(datagram) }
        var stranger = Opener(keys: [SealKey.generate(id: 8)])
        #expect(throws: Opener.Rejection.unknownKey(7)) { try stranger.open(datagram) }
        #expect(stranger.counters.unknownKey == 1)
    }

    @Test("a replayed datagram is refused; reordering within the window is not")
    func replay() throws {
        var sealer = Sealer(key: key)
        let datagrams = (0..<5).map { sealer.seal([UInt8($0)]) }
        var opener = Opener(keys: [key])
        for index in [1, 0, 3, 2, 4] { _ = try opener.open(datagrams[index]) }
        #expect(throws: Opener.Rejection.replayed) { try opener.open(datagrams[2]) }
        #expect(opener.counters.opened == 5 && opener.counters.replayed == 1)
    }

    @Test func replayWindowEdges() {
        var window = ReplayWindow()
        #expect(window.check(5000) == .accepted)
        #expect(window.check(5000) == .replayed)
        #expect(window.check(5000 - 1023) == .accepted)
        #expect(window.check(5000 - 1024) == .tooOld)
        #expect(window.check(7000) == .accepted)
        #expect(window.check(6990) == .accepted)
        #expect(window.check(6990) == .replayed)
        #expect(window.check(5000) == .tooOld)
        // A jump past the whole window forgets everything behind it.
        #expect(window.check(100_000) == .accepted)
        #expect(window.check(100_000 - 1) == .accepted)
    }

    @Test("garbage of every length is refused, never a crash")
    func garbage() {
        var opener = Opener(keys: [key])
        var generator = SystemRandomNumberGenerator()
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(throws: Opener.Rejection.self) { try opener.open(bytes) }
        }
        #expect(opener.counters.rejected == 200)
    }

    @Test func keyFileRoundTripAndPermissions() throws {
        let text = key.fileText
        let parsed = try SealKey(fileText: text)
        #expect(parsed.id == 7)
        var sealer = Sealer(key: key)
        var opener = Opener(keys: [parsed])
        #expect(try opener.open(sealer.seal([9])).payload == [9])

        let path = "/tmp/udp-seal-test-\(getpid()).key"
        defer { unlink(path) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.utf8CString.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count - 1) }
        close(descriptor)
        #expect(throws: SealKeyError.self) { try SealKey(contentsOfFile: path) }
        chmod(path, 0o600)
        #expect(try SealKey(contentsOfFile: path).id == 7)

        #expect(throws: SealKeyError.self) { try SealKey(fileText: "key-id: 1\nchacha20-poly1305: 1234\n") }
        #expect(throws: SealKeyError.self) { try SealKey(fileText: "# nothing\n") }
    }

    @Test func replayWindowsAreKeptForAtMostMaximumSenders() throws {
        let key = SealKey.generate(id: 4)
        var opener = Opener(keys: [key], maximumSenders: 2)
        var senders = (0..<3).map { Sealer(key: key, sender: UInt32($0 + 1)) }
        let first = senders[0].seal([0])
        #expect(try opener.open(first).sender == 1)
        #expect(throws: Opener.Rejection.replayed) { try opener.open(first) }  // its window remembers it
        _ = try opener.open(senders[1].seal([1]))
        _ = try opener.open(senders[2].seal([2]))  // a third sender: the least recently heard is forgotten
        // Sender 1's window is gone, so its old datagram opens again: the documented price of the bound,
        // which is why it should cover the senders a server expects.
        #expect(try opener.open(first).sender == 1)
        #expect(throws: Opener.Rejection.replayed) { try opener.open(first) }
    }

    @Test func aSealedDatagramCannotBeReflectedBackTheWayItCame() throws {
        let key = SealKey.generate(id: 3)
        var client = Sealer(key: key)
        var server = Sealer(key: key, direction: .reply)
        #expect(SealedEnvelope.Direction(sender: client.sender) == .request)
        #expect(SealedEnvelope.Direction(sender: server.sender) == .reply)
        var serverSide = Opener(keys: [key], accepting: .request)
        var clientSide = Opener(keys: [key], accepting: .reply)
        let request = client.seal(Array("ping".utf8))
        let reply = server.seal(Array("pong".utf8))
        #expect(try serverSide.open(request).payload == Array("ping".utf8))
        #expect(try clientSide.open(reply).payload == Array("pong".utf8))
        // The client's own request sent back to it, and a server's reply bounced to a server: both refused.
        #expect(throws: Opener.Rejection.wrongDirection) { try clientSide.open(request) }
        #expect(throws: Opener.Rejection.wrongDirection) { try serverSide.open(reply) }
        #expect(clientSide.counters.wrongDirection == 1 && serverSide.counters.wrongDirection == 1)
        // The bit is authenticated: flipping it breaks the tag.
        var flipped = request
        flipped[6] ^= 0x80
        #expect(throws: Opener.Rejection.forged) { try clientSide.open(flipped) }
        // An opener that takes both directions still opens either.
        var either = Opener(keys: [key])
        #expect(try either.open(client.seal([1])).payload == [1])
        #expect(try either.open(server.seal([2])).payload == [2])
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<$0 + subsequence.count]) == subsequence }
    }
}
