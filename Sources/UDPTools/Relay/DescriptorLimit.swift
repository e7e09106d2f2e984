import UDP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open descriptors (RLIMIT_NOFILE, `ulimit -n`), which bounds the relay's client
/// mappings: each holds a socket of its own.
public enum DescriptorLimit {
    /// Descriptors left for everything but the mappings: stdin, stdout, stderr, the listener, and headroom
    /// for whatever the runtime opens.
    public static let reserved = 16

    /// Raises the soft limit toward `wanted`, as far as the hard limit allows (as Go's runtime does at
    /// start: the soft limit of 1024 is a default for `select(2)`, which the relay does not use).
    /// - Returns: The soft limit in force afterwards, or nil when it cannot be read.
    public static func raiseSoftLimit(toward wanted: Int) -> Int? {
        var limit = rlimit()
        guard (try? retryingInterrupts(.limits) { getrlimit(resource, &limit) }) != nil else { return nil }
        let target = min(rlim_t(clamping: wanted), limit.rlim_max)
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            if (try? retryingInterrupts(.limits) { setrlimit(resource, &raised) }) != nil { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// How many mappings fit under `softLimit`, at most `wanted` and at least one.
    public static func mappings(wanted: Int, softLimit: Int) -> Int {
        max(1, min(wanted, softLimit - reserved))
    }

    #if os(Linux)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}

extension UDPError.Operation {
    /// Reading or raising a resource limit (`getrlimit(2)`, `setrlimit(2)`).
    static let limits = UDPError.Operation(rawValue: "rlimit")
}
