import Testing
import UDPPatterns

@Suite struct ReorderBufferTests {
    /// Everything released so far, gaps shown as `lost(first, count)`.
    func drain(_ buffer: inout ReorderBuffer<String>) -> [String] {
        var released: [String] = []
        while let output = buffer.poll() {
            switch output {
            case .delivered(_, let element): released.append(element)
            case .lost(let first, let count): released.append("lost(\(first), \(count))")
            }
        }
        return released
    }

    @Test func deliversInOrderArrivalsAtOnce() {
        var buffer = ReorderBuffer<String>(capacity: 8)
        for (number, text) in ["a", "b", "c"].enumerated() {
            #expect(buffer.receive(SequenceNumber(UInt32(number)), text, now: at(0)) == .inOrder)
        }
        #expect(drain(&buffer) == ["a", "b", "c"])
        #expect(buffer.expected == 3)
        #expect(buffer.counters.delivered == 3 && buffer.counters.reordered == 0)
        #expect(buffer.poll() == nil)
    }

    @Test func holdsEarlyArrivalsAndDeliversThemInOrder() {
        var buffer = ReorderBuffer<String>(capacity: 8, first: 10)
        #expect(buffer.receive(12, "c", now: at(0)) == .buffered)
        #expect(buffer.receive(13, "d", now: at(0)) == .buffered)
        #expect(buffer.pollDelivery() == nil)
        #expect(buffer.heldCount == 2)
        #expect(buffer.receive(10, "a", now: at(0)) == .inOrder)
        #expect(drain(&buffer) == ["a"])
        #expect(buffer.receive(11, "b", now: at(0)) == .inOrder)
        #expect(drain(&buffer) == ["b", "c", "d"])
        #expect(buffer.counters == counters(received: 4, reordered: 2, delivered: 4))
    }

    @Test func countsDuplicatesHeldAndDelivered() {
        var buffer = ReorderBuffer<String>(capacity: 8, first: 0)
        buffer.receive(0, "a", now: at(0))
        buffer.receive(2, "c", now: at(0))
        #expect(buffer.receive(2, "c again", now: at(0)) == .duplicate)  // held
        #expect(buffer.receive(0, "a again", now: at(0)) == .duplicate)  // delivered
        buffer.receive(1, "b", now: at(0))
        #expect(drain(&buffer) == ["a", "b", "c"])
        #expect(buffer.counters.duplicates == 2)
    }

    @Test func reportsLossWhenTheWindowMustAdvance() {
        var buffer = ReorderBuffer<String>(capacity: 4, first: 0)
        buffer.receive(0, "0", now: at(0))
        buffer.receive(2, "2", now: at(0))
        // 6 is beyond the window 1…4: the window moves to 3…6, so 1 is lost and 2 is released.
        #expect(buffer.receive(6, "6", now: at(0)) == .buffered)
        #expect(drain(&buffer) == ["0", "lost(1, 1)", "2"])
        #expect(buffer.expected == 3)
        // A number far ahead skips a whole run, counted without visiting each.
        buffer.receive(1_003, "1003", now: at(0))
        #expect(drain(&buffer) == ["lost(3, 3)", "6", "lost(7, 993)"])
        #expect(buffer.expected == 1_000)
        #expect(buffer.counters.lost == 1 + 3 + 993)
    }

    @Test func releasesWhatIsHeldRightAfterASkippedRun() {
        var buffer = ReorderBuffer<String>(capacity: 4, first: 0)
        buffer.receive(2, "2", now: at(0))
        // 5 is beyond the window 0…3: 0 and 1 are lost, and 2, now first in line, is released at once.
        #expect(buffer.receive(5, "5", now: at(0)) == .buffered)
        #expect(drain(&buffer) == ["lost(0, 2)", "2"])
        #expect(buffer.expected == 3)
        #expect(buffer.receive(3, "3", now: at(0)) == .inOrder)
        #expect(buffer.receive(4, "4", now: at(0)) == .inOrder)
        #expect(drain(&buffer) == ["3", "4", "5"])
        #expect(buffer.counters.reordered == 2)  // 2 and 5 waited; 3 and 4 did not
    }

    @Test func classifiesLateArrivals() {
        var buffer = ReorderBuffer<String>(capacity: 2, first: 0)
        buffer.receive(0, "0", now: at(0))
        buffer.receive(3, "3", now: at(0))  // window moves to 2…3: 1 lost
        #expect(drain(&buffer) == ["0", "lost(1, 1)"])
        #expect(buffer.receive(1, "1", now: at(0)) == .late)  // its place was skipped
        #expect(buffer.receive(0, "0", now: at(0)) == .duplicate)  // it was delivered
        #expect(buffer.receive(0xFFFF_FFF0, "old", now: at(0)) == .late)  // before the stream began
        #expect(buffer.counters.late == 2)
        #expect(buffer.pollDelivery() == nil)
    }

    @Test func aHoleTimesOut() {
        var buffer = ReorderBuffer<String>(capacity: 16, holeTimeout: .milliseconds(50), first: 0)
        buffer.receive(0, "0", now: at(0))
        #expect(buffer.nextDeadline == nil)
        buffer.receive(2, "2", now: at(10))
        buffer.receive(5, "5", now: at(30))
        #expect(buffer.nextDeadline == at(60))  // 2 arrived at 10
        buffer.handleTimeout(now: at(59))
        #expect(drain(&buffer) == ["0"])
        buffer.handleTimeout(now: at(60))
        #expect(drain(&buffer) == ["lost(1, 1)", "2"])
        #expect(buffer.nextDeadline == at(80))  // 5 arrived at 30
        buffer.receive(4, "4", now: at(70))
        buffer.handleTimeout(now: at(80))
        #expect(drain(&buffer) == ["lost(3, 1)", "4", "5"])
        #expect(buffer.nextDeadline == nil)
        #expect(buffer.counters.lost == 2)
        #expect(buffer.receive(3, "3", now: at(90)) == .late)
    }

    @Test func aLateFillBeforeTheTimeoutCancelsIt() {
        var buffer = ReorderBuffer<String>(capacity: 16, holeTimeout: .milliseconds(50), first: 0)
        buffer.receive(1, "1", now: at(0))
        buffer.receive(0, "0", now: at(40))
        #expect(buffer.nextDeadline == nil)
        buffer.handleTimeout(now: at(100))
        #expect(drain(&buffer) == ["0", "1"])
        #expect(buffer.counters.lost == 0)
    }

    @Test func wrapsAroundTwoToTheThirtyTwo() {
        var buffer = ReorderBuffer<String>(capacity: 8)
        let numbers: [UInt32] = [0xFFFF_FFFD, 0xFFFF_FFFF, 0, 0xFFFF_FFFE, 2, 1, 4]
        for number in numbers { buffer.receive(SequenceNumber(number), String(number, radix: 16), now: at(0)) }
        #expect(drain(&buffer) == ["fffffffd", "fffffffe", "ffffffff", "0", "1", "2"])
        #expect(buffer.expected == 3)
        #expect(buffer.receive(0xFFFF_FFFF, "dup", now: at(0)) == .duplicate)
        buffer.flush()
        #expect(drain(&buffer) == ["lost(3, 1)", "4"])
        #expect(buffer.expected == 5)
    }

    @Test func skipsPastTheWrapAndRemembersAcrossIt() {
        var buffer = ReorderBuffer<Int>(capacity: 4, first: 0xFFFF_FFF0)
        buffer.receive(0xFFFF_FFF0, 0, now: at(0))
        buffer.receive(0x10, 1, now: at(0))  // 32 ahead: the window jumps across the wrap
        #expect(buffer.expected == 0x0D)
        #expect(buffer.counters.lost == 28)
        #expect(buffer.receive(0xFFFF_FFF0, 0, now: at(0)) == .duplicate)
        #expect(buffer.receive(0xFFFF_FFF5, 0, now: at(0)) == .late)
    }

    @Test func flushReleasesEverythingHeld() {
        var buffer = ReorderBuffer<String>(capacity: 8, first: 0)
        buffer.receive(1, "1", now: at(0))
        buffer.receive(4, "4", now: at(0))
        buffer.flush()
        #expect(drain(&buffer) == ["lost(0, 1)", "1", "lost(2, 2)", "4"])
        #expect(buffer.heldCount == 0 && buffer.expected == 5)
    }

    @Test func pollDeliveryPassesOverGaps() {
        var buffer = ReorderBuffer<String>(capacity: 1, first: 0)
        #expect(buffer.receive(3, "3", now: at(0)) == .inOrder)  // a one-slot window: never holds
        #expect(buffer.pollDelivery() == "3")
        #expect(buffer.counters.lost == 3)
    }

    /// A long seeded shuffle within the window, across the wrap: everything comes out in order, once.
    @Test func randomReorderingWithinTheWindowLosesNothing() {
        var generator = SeededGenerator(seed: 42)
        let start: UInt32 = 0xFFFF_F000
        var order: [UInt32] = []
        // Shuffle blocks of 8: nothing moves more than 7 places, well inside a 16-slot window.
        for block in stride(from: 0, to: 10_000, by: 8) {
            order += (block..<min(block + 8, 10_000)).map { start &+ UInt32($0) }.shuffled(using: &generator)
        }
        var buffer = ReorderBuffer<UInt32>(capacity: 16, first: SequenceNumber(start))
        var delivered: [UInt32] = []
        for number in order {
            buffer.receive(SequenceNumber(number), number, now: at(0))
            while let element = buffer.pollDelivery() { delivered.append(element) }
        }
        #expect(delivered == (0..<10_000).map { start &+ UInt32($0) })
        #expect(buffer.counters.lost == 0 && buffer.counters.duplicates == 0 && buffer.counters.late == 0)
    }

    func counters(received: Int, reordered: Int, delivered: Int) -> ReorderBuffer<String>.Counters {
        var counters = ReorderBuffer<String>.Counters()
        counters.received = received
        counters.reordered = reordered
        counters.delivered = delivered
        return counters
    }
}
