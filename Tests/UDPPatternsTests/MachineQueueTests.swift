import Testing
import UDPPatterns

@Suite struct MachineQueueTests {
    @Test func pollsInOrderAndReusesItsStorage() {
        var queue = MachineQueue<Int>()
        queue.append(contentsOf: 1...3)
        #expect(queue.count == 3)
        let first = queue.poll()
        #expect(first == 1)
        queue.append(4)
        var rest: [Int?] = []
        for _ in 0..<4 { rest.append(queue.poll()) }
        #expect(rest == [2, 3, 4, nil])
        #expect(queue.isEmpty)
        queue.append(5)
        let last = queue.poll()
        #expect(last == 5)
    }

    @Test func refusesPastItsLimitAndCounts() {
        var queue = MachineQueue<Int>(limit: 2)
        let added = [queue.append(1), queue.append(2), queue.append(3)]
        #expect(added == [true, true, false])
        #expect(queue.dropped == 1)
        let first = queue.poll()
        #expect(first == 1)
        let again = queue.append(4)
        #expect(again, "room again once one was taken")
        #expect(queue.count == 2)
        queue.removeAll()
        #expect(queue.isEmpty && queue.dropped == 1)
    }

    @Test func sweepsOutWhatItPicksAndKeepsTheRestInOrder() {
        var queue = MachineQueue<Int>()
        queue.append(contentsOf: 1...6)
        let first = queue.poll()
        #expect(first == 1)
        queue.removeAll { $0.isMultiple(of: 2) }
        #expect(queue.count == 2 && queue.dropped == 0, "a sweep is no refusal")
        var rest: [Int?] = []
        for _ in 0..<3 { rest.append(queue.poll()) }
        #expect(rest == [3, 5, nil])
    }
}
