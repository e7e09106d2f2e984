import Testing

@testable import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite struct NetworkInterfaceTests {
    @Test func findsLoopbackByName() throws {
        let lo = try NetworkInterface(named: "lo")
        #expect(lo.index == if_nametoindex("lo"))
        #expect(lo.index != 0)
        #expect(lo.name == "lo")
        #expect(lo.description == "lo")
    }

    @Test func findsLoopbackByIndex() throws {
        let index = if_nametoindex("lo")
        #expect(try NetworkInterface(index: index).name == "lo")
        #expect(try NetworkInterface(named: String(index)).index == index)
        #expect(NetworkInterface.name(ofIndex: index) == "lo")
    }

    @Test func unknownNameIsRefused() {
        let error = #expect(throws: UDPError.self) { try NetworkInterface(named: "nosuch0") }
        #expect(error?.code == .unknownInterface)
        #expect(error?.operation == .interface)
        #expect(error?.description == "no network interface named 'nosuch0'")
    }

    @Test(arguments: [UInt32(0), 3_999_999])
    func unknownIndexIsRefused(_ index: UInt32) {
        let error = #expect(throws: UDPError.self) { try NetworkInterface(index: index) }
        #expect(error?.code == .unknownInterface)
        #expect(error?.description.contains(String(index)) == true)
        #expect(throws: UDPError.self) { try NetworkInterface(named: String(index)) }
    }

    @Test func missingIndexHasNoName() {
        #expect(NetworkInterface.name(ofIndex: 3_999_999) == nil)
        #expect(NetworkInterface.name(ofIndex: 0) == nil)
    }
}
