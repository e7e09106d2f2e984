import Testing
import UDPDNS
import UDPDiscovery

@Suite struct DNSNameServiceTypeTests {
    @Test(arguments: ["_http._tcp", "_http._tcp.local", "_http._tcp.local.", "_HTTP._TCP"])
    func aServiceTypeIsInLocal(text: String) throws {
        let name = try #require(DNSName.serviceType(text))
        #expect(name.description.lowercased() == "_http._tcp.local")
    }

    @Test(arguments: ["http._tcp", "_http._sctp", "_http", "_a._b._tcp", ""])
    func anythingElseIsNoServiceType(text: String) {
        #expect(DNSName.serviceType(text) == nil)
    }

    @Test func aHostNameIsOneLabelInLocal() {
        #expect(DNSName.localHost("box")?.description == "box.local")
        #expect(DNSName.localHost("box.local.")?.description == "box.local")
        #expect(DNSName.localHost("box.example") == nil)
        #expect(DNSName.localHost(DNSName.machineName) != nil)
    }

    @Test func aRandomUUIDIsVersion4() {
        let uuid = Array(SSDPResponder.randomUUID())
        #expect(uuid.count == 36)
        #expect([8, 13, 18, 23].allSatisfy { uuid[$0] == "-" })
        #expect(uuid[14] == "4")
        #expect("89ab".contains(uuid[19]))
        #expect(SSDPResponder.randomUUID() != SSDPResponder.randomUUID())
    }
}
