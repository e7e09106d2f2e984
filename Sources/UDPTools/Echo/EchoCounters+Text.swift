import UDP
import UDPPatterns

// What `udp echo` prints with --stats or --verbose: a socket's counters, and the framed path's.

extension Reflector.Counters: CustomStringConvertible {
    /// `received 3, replied 3, failed 0, kernel drops 0`, with each guard's and error's count when not zero:
    /// `rate-limited 2`, `icmp errors 2 (port unreachable 2)`.
    public var description: String {
        var text = "received \(received), replied \(replied), failed \(failed)"
        if rateLimited > 0 { text += ", rate-limited \(rateLimited)" }
        if amplificationLimited > 0 { text += ", amplification-limited \(amplificationLimited)" }
        if rejected > 0 { text += ", rejected by authentication \(rejected)" }
        if truncated > 0 { text += ", truncated \(truncated)" }
        if icmpErrors.total > 0 { text += ", icmp errors \(icmpErrors)" }
        return text + ", kernel drops \(kernelDrops)"
    }

    /// The framed path's counters: datagrams, and how many requests ran the handler or came from the cache.
    package func framedDescription(_ cache: IdempotentServer<SocketAddress>.Counters) -> String {
        "received \(received), replied \(replied), failed \(failed), "
            + "handled \(cache.handled), from cache \(cache.servedFromCache)"
    }
}
