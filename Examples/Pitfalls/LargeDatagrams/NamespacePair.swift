import UDP

#if canImport(Glibc)
import Glibc
#endif

/// Two network namespaces joined by a veth pair with a 1500-byte MTU: two hosts on an Ethernet link, inside this
/// machine, where nothing else sends. This program creates them, and deletes them before it exits.
///
/// Root only: creating a namespace needs `CAP_SYS_ADMIN`. Addresses come from 198.18.0.0/15, the range RFC 2544
/// sets aside for benchmarking, which no real network routes.
struct NamespacePair {
    /// Named after this process, so that runs side by side never meet, and a run that was killed can be found.
    static let prefix = "pitfall-mtu-"
    let sender = "\(prefix)\(getpid())-a"
    let receiver = "\(prefix)\(getpid())-b"
    static let senderIP = IPv4Address(198, 18, 0, 1)
    static let receiverIP = IPv4Address(198, 18, 0, 2)

    /// Why this machine cannot show it, or nil when it can.
    static var unavailableReason: String? {
        if getuid() != 0 { return "it needs root, to create network namespaces" }
        if ipCommand == nil { return "it needs the ip command (iproute2)" }
        if setNamespace == nil { return "this C library has no setns(2)" }
        return nil
    }

    func create() throws {
        Self.deleteLeftovers()
        try runIP("netns", "add", sender)
        try runIP("netns", "add", receiver)
        // Each end is created inside its namespace, so no interface ever appears on this machine's own network.
        try runIP(
            "link",
            "add",
            "pmtu-a",
            "netns",
            sender,
            "mtu",
            "1500",
            "type",
            "veth",
            "peer",
            "name",
            "pmtu-b",
            "netns",
            receiver,
            "mtu",
            "1500"
        )
        try runIP("-n", sender, "address", "add", "\(Self.senderIP)/30", "dev", "pmtu-a")
        try runIP("-n", receiver, "address", "add", "\(Self.receiverIP)/30", "dev", "pmtu-b")
        try runIP("-n", sender, "link", "set", "pmtu-a", "up")
        try runIP("-n", receiver, "link", "set", "pmtu-b", "up")
    }

    /// Deletes both namespaces, if they exist, and says whether they are gone. Deleting a namespace deletes its
    /// end of the veth, and the other end with it.
    func delete() -> Bool {
        for name in [sender, receiver] where namespaceExists(name) { try? runIP("netns", "del", name) }
        return !namespaceExists(sender) && !namespaceExists(receiver)
    }

    /// Deletes the namespaces of runs that were killed before they could (their process is gone).
    static func deleteLeftovers() {
        guard let directory = opendir("/var/run/netns") else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(prefix), let pid = pid_t(name.dropFirst(prefix.count).prefix { $0 != "-" }),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            try? runIP("netns", "del", name)
        }
    }

    /// Runs `body` with this thread inside namespace `name`: the sockets it opens live there for good, whichever
    /// namespace the thread is in later.
    func inside<Result: ~Copyable>(_ name: String, _ body: () throws -> Result) throws -> Result {
        guard let setNamespace else { throw PitfallError("no setns(2)") }
        let target = open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw PitfallError("cannot open namespace \(name): \(Errno.current)") }
        defer { close(target) }
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else { throw PitfallError("cannot open this thread's namespace: \(Errno.current)") }
        defer { close(original) }
        guard setNamespace(target, 0) == 0 else { throw PitfallError("setns \(name): \(Errno.current)") }
        defer {
            // Sockets opened later in the wrong namespace would make the rest of the program wrong: stop instead.
            precondition(setNamespace(original, 0) == 0, "cannot return to the original network namespace")
        }
        return try body()
    }

    /// One of the kernel's IPv4 counters for the namespace this thread is in (the `Ip:` lines of
    /// /proc/net/snmp): `FragCreates` counts the IP fragments this host made.
    func ipCounter(_ name: String, in namespace: String) throws -> Int {
        let text = try inside(namespace) { try readFile("/proc/thread-self/net/snmp") }
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("Ip:") }
        guard lines.count == 2 else { throw PitfallError("no Ip: lines in /proc/net/snmp") }
        let names = lines[0].split(separator: " ")
        let values = lines[1].split(separator: " ")
        guard let index = names.firstIndex(of: Substring(name)), let value = Int(values[index]) else {
            throw PitfallError("no \(name) in /proc/net/snmp")
        }
        return value
    }
}

/// setns(2), looked up at run time: glibc declares it only under `_GNU_SOURCE`, which Swift's Glibc module does
/// not define. (`dlsym(nil, …)` is `RTLD_DEFAULT`: search every library loaded.)
let setNamespace: (@convention(c) (CInt, CInt) -> CInt)? = dlsym(nil, "setns").map {
    unsafeBitCast($0, to: (@convention(c) (CInt, CInt) -> CInt).self)
}

let ipCommand: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { (path: String) in
    access(path, X_OK) == 0
}

func namespaceExists(_ name: String) -> Bool { access("/var/run/netns/\(name)", F_OK) == 0 }

struct PitfallError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
