import Testing
import UDPPatterns

@Suite struct MachineQueueTests {
    @Test func pollsInOrderAndReusesItsStorage() {
        var queue = MachineQueue<Int>()
        queue.append(contentsOf: 1...3)
        #expect(queue.count == 3)
        #expect(queue.poll() == 1)
        queue.append(4)
        #expect([queue.poll(), queue.poll(), queue.poll(), queue.poll()] == [2, 3, 4, nil])
        #expect(queue.isEmpty)
        queue.append(5)
        #expect(queue.poll() == 5)
    }

    @Test func refusesPastItsLimitAndCounts() {
        var queue = MachineQueue<Int>(limit: 2)
        #expect(queue.append(1))
        #expect(queue.append(2))
        #expect(!queue.append(3))
        #expect(queue.dropped == 1)
        #expect(queue.poll() == 1)
        #expect(queue.append(4), "room again once one was taken")
        #expect(queue.count == 2)
        queue.removeAll()
        #expect(queue.isEmpty && queue.dropped == 1)
    }
}
