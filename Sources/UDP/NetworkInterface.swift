#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A network interface named by its index, as multicast options and IPv6 scope ids need it.
public struct NetworkInterface: Hashable, Sendable, CustomStringConvertible {
    /// The kernel's interface index (never 0).
    public var index: UInt32

    /// The interface with this index, checked to exist.
    public init(index: UInt32) throws(UDPError) {
        guard index != 0, Self.name(ofIndex: index) != nil else {
            throw UDPError(.unknownInterface, .interface, detail: "no network interface has index \(index)")
        }
        self.index = index
    }

    /// The interface named `name` (`lo`, `eth0`), or one given by its index in decimal (`2`).
    ///
    /// - Throws: `UDPError` with code `.unknownInterface`, naming the interface.
    public init(named name: String) throws(UDPError) {
        if let number = UInt32(name) {
            index = try NetworkInterface(index: number).index
            return
        }
        let found = if_nametoindex(name)
        guard found != 0 else {
            throw UDPError(.unknownInterface, .interface, detail: "no network interface named '\(name)'")
        }
        index = found
    }

    /// The interface's name now, if it still exists.
    public var name: String? { Self.name(ofIndex: index) }

    public var description: String { name ?? String(index) }

    /// The name of the interface with this index, or nil.
    public static func name(ofIndex index: UInt32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(index, &buffer) != nil else { return nil }
        return String(cStringBuffer: buffer)
    }
}
