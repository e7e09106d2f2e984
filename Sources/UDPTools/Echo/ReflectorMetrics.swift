import CoreMetrics

/// The counters of a ``Reflector`` published through swift-metrics, so an application that bootstraps a
/// metrics backend (swift-prometheus, StatsD, OpenTelemetry) sees them beside its own: datagrams received,
/// replied, failed, refused by the rate limit or the amplification guard, and the kernel's drops.
///
/// Without a bootstrapped backend swift-metrics discards the values, at the cost of a call per counter per
/// batch.
public final class ReflectorMetrics: Sendable {
    private let received: Counter
    private let replied: Counter
    private let failed: Counter
    private let rateLimited: Counter
    private let amplificationLimited: Counter
    private let kernelDrops: Counter
    private let rejected: Counter

    /// - Parameters:
    ///   - label: The prefix of each metric's label: `udp_echo` gives `udp_echo_received`, and so on.
    ///   - dimensions: Dimensions of every metric, such as the port.
    ///   - factory: The backend; by default the one `MetricsSystem.bootstrap` installed.
    public init(
        label: String = "udp_echo",
        dimensions: [(String, String)] = [],
        factory: MetricsFactory = MetricsSystem.factory
    ) {
        received = Counter(label: "\(label)_received", dimensions: dimensions, factory: factory)
        replied = Counter(label: "\(label)_replied", dimensions: dimensions, factory: factory)
        failed = Counter(label: "\(label)_failed", dimensions: dimensions, factory: factory)
        rateLimited = Counter(label: "\(label)_rate_limited", dimensions: dimensions, factory: factory)
        amplificationLimited = Counter(
            label: "\(label)_amplification_limited",
            dimensions: dimensions,
            factory: factory
        )
        kernelDrops = Counter(label: "\(label)_kernel_drops", dimensions: dimensions, factory: factory)
        rejected = Counter(label: "\(label)_rejected", dimensions: dimensions, factory: factory)
    }

    /// Adds what happened between two readings of a reflector's counters.
    func record(from old: Reflector.Counters, to new: Reflector.Counters) {
        add(received, new.received - old.received)
        add(replied, new.replied - old.replied)
        add(failed, new.failed - old.failed)
        add(rateLimited, new.rateLimited - old.rateLimited)
        add(amplificationLimited, new.amplificationLimited - old.amplificationLimited)
        add(kernelDrops, new.kernelDrops - old.kernelDrops)
        add(rejected, new.rejected - old.rejected)
    }

    private func add(_ counter: Counter, _ amount: Int) {
        if amount > 0 { counter.increment(by: amount) }
    }
}
