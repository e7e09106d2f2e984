import Testing
import UDPPatterns

@Suite struct ReplyCacheTests {
    @Test func returnsWhatWasStoredForThatPeerAndID() {
        var cache = ReplyCache<String>(timeToLive: .seconds(10), capacity: 8)
        #expect(cache.lookup("alice", RequestID(1), now: at(0)) == nil)
        cache.store(bytes("one"), for: "alice", RequestID(1), now: at(0))
        #expect(cache.lookup("alice", RequestID(1), now: at(1)) == bytes("one"))
        #expect(cache.lookup("bob", RequestID(1), now: at(1)) == nil)  // same id, another peer
        #expect(cache.lookup("alice", RequestID(2), now: at(1)) == nil)
        #expect(cache.counters.hits == 1 && cache.counters.misses == 3)
    }

    @Test func entriesExpireAfterTheirTimeToLive() {
        var cache = ReplyCache<String>(timeToLive: .milliseconds(500), capacity: 8)
        cache.store(bytes("a"), for: "p", RequestID(1), now: at(0))
        cache.store(bytes("b"), for: "p", RequestID(2), now: at(300))
        #expect(cache.nextDeadline == at(500))
        #expect(cache.lookup("p", RequestID(1), now: at(499)) == bytes("a"))  // a hit does not extend it
        #expect(cache.lookup("p", RequestID(1), now: at(500)) == nil)
        #expect(cache.count == 1 && cache.nextDeadline == at(800))
        cache.removeExpired(now: at(800))
        #expect(cache.count == 0 && cache.nextDeadline == nil)
        #expect(cache.counters.expired == 2)
    }

    @Test func storingAgainReplacesAndRestartsTheClock() {
        var cache = ReplyCache<String>(timeToLive: .milliseconds(100), capacity: 8)
        cache.store(bytes("old"), for: "p", RequestID(1), now: at(0))
        cache.store(bytes("new"), for: "p", RequestID(1), now: at(80))
        #expect(cache.count == 1)
        #expect(cache.lookup("p", RequestID(1), now: at(150)) == bytes("new"))
    }

    @Test func evictsTheLeastRecentlyUsedBeyondItsCapacity() {
        var cache = ReplyCache<String>(timeToLive: .seconds(60), capacity: 3)
        for peer in ["a", "b", "c"] { cache.store(bytes(peer), for: peer, RequestID(1), now: at(0)) }
        _ = cache.lookup("a", RequestID(1), now: at(1))  // a is now the most recently used
        cache.store(bytes("d"), for: "d", RequestID(1), now: at(2))  // evicts b
        #expect(cache.lookup("b", RequestID(1), now: at(3)) == nil)
        #expect(cache.lookup("a", RequestID(1), now: at(3)) == bytes("a"))
        #expect(cache.lookup("c", RequestID(1), now: at(3)) == bytes("c"))
        #expect(cache.lookup("d", RequestID(1), now: at(3)) == bytes("d"))
        #expect(cache.counters.evicted == 1)
    }

    @Test func aFloodOfPeersNeverGrowsItPastTheBound() {
        var cache = ReplyCache<String>(timeToLive: .seconds(60), capacity: 100)
        for index in 0..<10_000 {
            cache.store(bytes("r"), for: "peer \(index)", RequestID(UInt64(index)), now: at(index / 100))
            #expect(cache.count <= 100)
        }
        #expect(cache.count == 100)
        #expect(cache.counters.evicted == 9_900)
        // The latest 100 survive, in full.
        for index in 9_900..<10_000 {
            #expect(cache.lookup("peer \(index)", RequestID(UInt64(index)), now: at(200)) == bytes("r"))
        }
    }

    @Test func expiryAndEvictionInterleaveConsistently() {
        // A seeded mix of stores and lookups against a simple model: the linked lists stay consistent.
        var generator = SeededGenerator(seed: 5)
        var cache = ReplyCache<Int>(timeToLive: .milliseconds(50), capacity: 16)
        var model: [Int: (reply: [UInt8], stored: Int, used: Int)] = [:]
        for step in 0..<5_000 {
            let peer = Int.random(in: 0..<40, using: &generator)
            model = model.filter { step < $0.value.stored + 50 }
            if Bool.random(using: &generator) {
                let reply = [UInt8(truncatingIfNeeded: step)]
                if model[peer] == nil && model.count == 16 {
                    let leastRecent = model.min { $0.value.used < $1.value.used }!.key
                    model[leastRecent] = nil
                }
                cache.store(reply, for: peer, RequestID(0), now: at(step))
                model[peer] = (reply, step, step)
            } else {
                #expect(cache.lookup(peer, RequestID(0), now: at(step)) == model[peer]?.reply)
                model[peer]?.used = step
            }
            #expect(cache.count == model.count)
        }
    }

    @Test func bytesAreBoundedAsWellAsEntries() {
        var cache = ReplyCache<String>(timeToLive: .seconds(60), capacity: 100, maximumBytes: 1_000)
        for id in 0..<10 { cache.store([UInt8](repeating: 1, count: 300), for: "p", RequestID(UInt64(id)), now: at(0)) }
        // 300-byte replies in 1000 bytes: three fit; the least recently used went first.
        #expect(cache.count == 3 && cache.bytes == 900)
        #expect(cache.counters.evicted == 7)
        #expect(
            cache.lookup("p", RequestID(9), now: at(0)) != nil && cache.lookup("p", RequestID(6), now: at(0)) == nil
        )
        // A reply larger than the whole budget is not stored, and pushes nothing out.
        cache.store([UInt8](repeating: 2, count: 1_001), for: "p", RequestID(99), now: at(0))
        #expect(cache.count == 3 && cache.counters.tooLarge == 1)
        // Replacing an entry counts its new size, not both.
        cache.store([1], for: "p", RequestID(9), now: at(0))
        #expect(cache.bytes == 601)
    }
}
