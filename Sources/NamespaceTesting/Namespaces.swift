import CNamespaceTesting
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// For tests only: running `ip`, and moving a thread into a network namespace that a test created, so that the
// sockets it opens there live there. Nothing outside Tests/ uses this target.

/// Where `ip` lives, if it is installed.
public let ipCommand: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// Whether this process may create network namespaces (it runs as root).
public let canCreateNamespaces = getuid() == 0 && ipCommand != nil

public struct NamespaceSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// Runs `ip` with `arguments` and returns its output, throwing its standard error when it fails.
@discardableResult
public func runIP(_ arguments: [String]) throws -> String {
    guard let ipCommand else { throw NamespaceSetupError(description: "no ip command") }
    return try runTool(ipCommand, arguments)
}

/// Runs `sysctl -qw setting` inside namespace `name` (sysctls under net. are per namespace).
public func setSysctl(_ setting: String, in name: String) throws {
    try runIP(["netns", "exec", name, "sysctl", "-qw", setting])
}

/// Runs `executable` with `arguments`, waits for it, and returns its output; throws its standard error when it
/// fails.
@discardableResult
public func runTool(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let outputText = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let command = ([executable] + arguments).joined(separator: " ")
        throw NamespaceSetupError(description: "\(command): exit \(process.terminationStatus): \(errorText)")
    }
    return outputText
}

/// Moves this thread into namespace `name` for the duration of `body`, which must be synchronous so the
/// thread cannot change under it, then moves it back.
public func insideNamespace<R: ~Copyable>(_ name: String, _ body: () throws -> R) throws -> R {
    let target = open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
    guard target >= 0 else { throw NamespaceSetupError(description: "open netns \(name): errno \(errno)") }
    defer { _ = close(target) }
    let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
    guard original >= 0 else { throw NamespaceSetupError(description: "open own netns: errno \(errno)") }
    defer { _ = close(original) }
    guard enter_network_namespace(target) == 0 else {
        throw NamespaceSetupError(description: "setns \(name): errno \(errno)")
    }
    defer {
        // A pool thread left in a test namespace would put later tests' sockets there: stop instead.
        precondition(enter_network_namespace(original) == 0, "cannot return to the original network namespace")
    }
    return try body()
}

/// Waits, checking every 10 ms, until `ready` holds; throws `what` after `timeout`. For kernel state that no
/// event announces (an address leaving "tentative", a route appearing).
public func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(5),
    _ ready: () throws -> Bool
) throws {
    let deadline = ContinuousClock.now + timeout
    while !(try ready()) {
        guard ContinuousClock.now < deadline else { throw NamespaceSetupError(description: "\(what): timed out") }
        usleep(10_000)
    }
}
