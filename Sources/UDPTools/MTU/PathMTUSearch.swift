import UDP

/// The search behind `udp mtu`, without a socket or a clock (sans-I/O): which payload size to probe next, and
/// what the outcomes so far prove, in the manner of RFC 8899 (Datagram Packetization Layer PMTU Discovery).
///
/// A size counts as fitting only when its probe's echo came back. A Packet Too Big is believed only when it
/// quotes a probe that was sent (the caller checks the quote) and reports an MTU below that probe's; the
/// search then jumps to the size it implies. A probe lost with no Packet Too Big is tried ``maximumTries``
/// times and then taken as too big: a black hole, which the result reports as such.
///
/// ```swift
/// var search = PathMTUSearch(family: .inet, range: 548...1472)
/// while let size = search.nextSize {
///     search.record(size: size, outcome: sendProbeAndWait(size))
/// }
/// print(search.result!)  // udp payload 1372 bytes = ip mtu 1400 (ipv4), 5 probes, ptb from 198.18.1.1
/// ```
public struct PathMTUSearch: Sendable {
    /// What became of one probe.
    public enum Outcome: Sendable, Equatable {
        /// Its echo came back: the size fits.
        case echoed
        /// A Packet Too Big (or the local stack) quoted this probe and reported `mtu`, the IP MTU of the link
        /// that refused it; `from` is who said so, nil for the local stack.
        case tooBig(mtu: Int?, from: IPAddress?)
        /// Neither an echo nor an error within the timeout.
        case lost
    }

    /// Why the search could not give an answer.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not even the smallest size came back: the target is no echo server, or the path drops everything.
        case nothingCameBack(size: Int, tries: Int)
        /// The smallest size was reported too big.
        case smallestTooBig(size: Int, mtu: Int?)

        public var description: String {
            switch self {
            case .nothingCameBack(let size, let tries):
                "no echo of a \(size)-byte probe in \(tries) tries: is the target an echo server, and reachable?"
            case .smallestTooBig(let size, let mtu):
                "even \(size) bytes are too big" + (mtu.map { " (ip mtu \($0))" } ?? "") + ": lower --min"
            }
        }
    }

    /// The answer: the largest payload that got through, and how the search knows.
    public struct Result: Sendable, Equatable, CustomStringConvertible {
        /// The path's family, which sets the header size between ``udpPayload`` and ``ipMTU``.
        public var family: AddressFamily
        /// The largest UDP payload whose echo came back.
        public var udpPayload: Int
        /// The IP MTU that payload fills: payload plus the IP and UDP headers (28 bytes, 48 over IPv6).
        public var ipMTU: Int
        /// Probes sent, retries included.
        public var probes: Int
        /// The host whose Packet Too Big the search believed last, if any.
        public var ptbFrom: IPAddress?
        /// True when the limit came from losses alone: some size was too big, and nobody said so.
        public var blackHole: Bool

        /// `udp payload 1372 bytes = ip mtu 1400 (ipv4), 5 probes, ptb from 198.18.1.1`.
        public var description: String {
            var text = "udp payload \(udpPayload) bytes = ip mtu \(ipMTU) (\(family == .inet ? "ipv4" : "ipv6")), "
            text += "\(probes) probes"
            if let ptbFrom { text += ", ptb from \(ptbFrom)" }
            if blackHole { text += ", black hole: larger probes vanished without a packet too big" }
            return text
        }
    }

    /// Tries for a size before its losses count as "too big".
    public static let maximumTries = 3

    /// The path's family: IPv4 or IPv6.
    public let family: AddressFamily
    /// Bytes of IP and UDP header in front of each payload.
    public let headerSize: Int
    /// The sizes searched, in payload bytes.
    public let range: ClosedRange<Int>

    /// The largest size known to fit (its echo came back), or nil before the first.
    private var fits: Int?
    /// The smallest size known not to fit; sizes at or above it are not probed.
    private var tooBig: Int
    /// The size being probed, and how many times so far.
    private var current: Int
    private var tries = 0
    /// Outcomes recorded so far: probes sent, retries included.
    public private(set) var probes = 0
    private var ptbFrom: IPAddress?
    /// Whether any size was judged too big from losses alone.
    private var lossesDecided = false
    private var ptbDecided = false
    /// Why the search ended without an answer; nil while it goes on, and when it found one.
    public private(set) var failure: Failure?

    /// - Parameters:
    ///   - family: The path's family, for its header size.
    ///   - range: Payload sizes to search; the lower bound is probed first, as it must fit for any answer.
    public init(family: AddressFamily, range: ClosedRange<Int>) {
        self.family = family
        headerSize = family == .inet ? 28 : 48
        self.range = range
        tooBig = range.upperBound + 1
        current = range.lowerBound
    }

    /// The payload size to probe next, or nil when the search is over (see ``result`` and ``failure``).
    public var nextSize: Int? {
        guard failure == nil, !isDone else { return nil }
        return current
    }

    private var isDone: Bool { fits.map { $0 + 1 >= tooBig } ?? false }

    /// The answer, once ``nextSize`` is nil and there was no ``failure``.
    public var result: Result? {
        guard failure == nil, isDone, let fits else { return nil }
        return Result(
            family: family,
            udpPayload: fits,
            ipMTU: fits + headerSize,
            probes: probes,
            ptbFrom: ptbFrom,
            blackHole: lossesDecided && !ptbDecided
        )
    }

    /// Records what became of the probe of `size` (the one ``nextSize`` named) and picks the next size.
    public mutating func record(size: Int, outcome: Outcome) {
        precondition(size == current && failure == nil && !isDone, "record the size nextSize named, once")
        probes += 1
        tries += 1
        switch outcome {
        case .echoed:
            fits = size
        case .tooBig(let mtu, let from):
            guard fits != nil else {
                failure = .smallestTooBig(size: size, mtu: mtu)
                return
            }
            tooBig = size
            // A reported MTU below this probe's is a hint where to look; one at or above it is nonsense.
            if let mtu, mtu - headerSize < size {
                let hinted = mtu - headerSize
                if hinted > fits! {
                    tooBig = hinted + 1
                    current = hinted
                    tries = 0
                    ptbDecided = true
                    ptbFrom = from ?? ptbFrom
                    return
                }
            }
            if from != nil {
                ptbDecided = true
                ptbFrom = from
            }
        case .lost:
            guard tries >= Self.maximumTries else { return }  // the same size again
            guard fits != nil else {
                failure = .nothingCameBack(size: size, tries: tries)
                return
            }
            tooBig = size
            lossesDecided = true
        }
        tries = 0
        guard let fits, fits + 1 < tooBig else { return }
        // The first probe after the smallest tries the largest: most paths carry the whole local MTU.
        current = tooBig == range.upperBound + 1 ? range.upperBound : fits + (tooBig - fits) / 2
    }
}
