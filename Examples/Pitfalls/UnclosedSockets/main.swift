// Pitfall 4: sockets not closed.
//
// A socket is a file descriptor, and a descriptor stays open until someone closes it. A loop that forgets leaks
// one per turn, until the process reaches its limit (`ulimit -n`) and every socket(), open() and accept() fails.
// This program counts its descriptors in /proc/self/fd while the C socket() call leaks them, then while
// UDPSocket, which is ~Copyable and closes its descriptor when its owner goes, does not.
// usage: pitfall-unclosed-sockets        (no traffic at all; under a second)
import UDP

#if canImport(Glibc)
import Glibc
#endif

/// How many descriptors this process has open: the entries of /proc/self/fd, less the one that lists them.
func openDescriptors() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        if entry.pointee.d_name.0 != CChar(UInt8(ascii: ".")) { count += 1 }  // not "." or ".."
    }
    return count - 1
}

/// Sets the most descriptors this process may have open (the soft limit, as `ulimit -Sn` does), and returns
/// the limit it replaced.
@discardableResult
func setDescriptorLimit(_ limit: rlim_t) -> rlim_t {
    var limits = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limits)
    let old = limits.rlim_cur
    limits.rlim_cur = min(limit, limits.rlim_max)
    setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limits)
    return old
}

func main() throws {
    print("pitfall 4: sockets not closed")
    let baseline = openDescriptors()

    print("")
    print("problem: a descriptor from C's socket() stays open until close(); a loop that forgets leaks one a turn")
    print("  descriptors open: \(baseline)")
    var leaked: [CInt] = []  // kept only so that this program can tidy up before the fix; a real leak has no list
    for _ in 0..<100 { leaked.append(socket(AF_INET, CInt(SOCK_DGRAM.rawValue), 0)) }
    print("  after 100 turns of `let fd = socket(AF_INET, SOCK_DGRAM, 0)` and no close(fd): \(openDescriptors())")
    let originalLimit = setDescriptorLimit(rlim_t(openDescriptors() + 20))
    print("  with the limit lowered to \(openDescriptors() + 20) descriptors (`ulimit -n`), the leak goes on:")
    while true {
        let descriptor = socket(AF_INET, CInt(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else {
            let error = Errno.current
            print(
                "    socket() failed after \(leaked.count - 100) more: \(error)\(error == .tooManyOpenFiles ? " (EMFILE)" : "")"
            )
            break
        }
        leaked.append(descriptor)
    }
    print("  a server that leaks one per request stops there: no socket, no file, no log file any more")
    print("  (Python closes a socket object when it is freed, and warns with a ResourceWarning; one still")
    print("  referenced from a list, a dict or a cycle stays open, as these do)")
    for descriptor in leaked { close(descriptor) }
    print("  (closed the \(leaked.count) leaked descriptors: \(openDescriptors()) open again)")

    print("")
    print("fix: UDPSocket is ~Copyable: one owner, and its deinit closes the descriptor when the owner goes")
    for _ in 0..<100 {
        let socket = try UDPSocket(family: .inet)
        // Used, then closed at the end of each turn, as the socket goes out of scope.
        _ = socket.withUnsafeDescriptor { $0 }
    }
    print("  after 100 turns of `let socket = try UDPSocket(family: .inet)`: \(openDescriptors())")
    for _ in 0..<1000 { _ = try UDPSocket(family: .inet) }
    print("  1000 more under the same lowered limit: no EMFILE, \(openDescriptors()) open")
    let socket = try UDPSocket(family: .inet)
    let withSocket = openDescriptors()
    try socket.close()
    print(
        "  close() says when, and reports its error: \(withSocket) open, after `try socket.close()` \(openDescriptors())"
    )
    print("  using the socket after close(), or closing it twice, does not compile: close() consumes it")
    setDescriptorLimit(originalLimit)
}

do {
    try main()
} catch {
    print("error: \(error)")
    exit(1)
}
