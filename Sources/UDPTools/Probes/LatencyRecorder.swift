import Histogram

/// Round-trip times: an HdrHistogram for the percentiles (3 significant digits), and the exact
/// minimum, maximum, mean and mean deviation beside it.
///
/// Recording allocates nothing while values stay below the `highest` given at creation (a run's loss timeout:
/// a slower reply is late, not recorded).
public struct LatencyRecorder: Sendable {
    /// Every value recorded, in nanoseconds: an HdrHistogram (`Histogram` of hdrhistogram-swift) to three
    /// significant digits, which grows when a value exceeds its range.
    package private(set) var histogram: Histogram<UInt64>
    /// Values recorded.
    public private(set) var count = 0
    /// The smallest value recorded, in nanoseconds; `UInt64.max` before the first.
    package private(set) var minimumNanoseconds = UInt64.max
    /// The largest value recorded, in nanoseconds; 0 before the first.
    package private(set) var maximumNanoseconds: UInt64 = 0
    private var sum: Double = 0
    private var sumOfSquares: Double = 0

    /// - Parameter highest: The largest value expected; larger ones still fit (the histogram grows), at the
    ///   cost of an allocation.
    public init(highest: Duration) {
        self.init(highestNanoseconds: MonotonicClock.nanoseconds(highest))
    }

    /// - Parameter highest: The largest value expected, in nanoseconds.
    package init(highestNanoseconds highest: UInt64) {
        histogram = Histogram(
            lowestDiscernibleValue: 1,
            highestTrackableValue: max(highest, 1_000_000),
            numberOfSignificantValueDigits: .three
        )
        histogram.autoResize = true
    }

    /// Records one round trip (to the nanosecond below; a negative one as zero).
    public mutating func record(_ roundTrip: Duration) {
        record(nanoseconds: MonotonicClock.nanoseconds(roundTrip))
    }

    /// Records one round trip of `nanoseconds`: for loops that keep their stamps as integers.
    package mutating func record(nanoseconds: UInt64) {
        histogram.record(nanoseconds)
        count += 1
        minimumNanoseconds = min(minimumNanoseconds, nanoseconds)
        maximumNanoseconds = max(maximumNanoseconds, nanoseconds)
        let value = Double(nanoseconds)
        sum += value
        sumOfSquares += value * value
    }

    /// The smallest value recorded; nil before the first.
    public var minimum: Duration? { count > 0 ? MonotonicClock.duration(nanoseconds: minimumNanoseconds) : nil }

    /// The largest value recorded; nil before the first.
    public var maximum: Duration? { count > 0 ? MonotonicClock.duration(nanoseconds: maximumNanoseconds) : nil }

    /// Adds `other`'s values, as if they had been recorded here: how bench merges its workers.
    public mutating func add(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
        count += other.count
        minimumNanoseconds = min(minimumNanoseconds, other.minimumNanoseconds)
        maximumNanoseconds = max(maximumNanoseconds, other.maximumNanoseconds)
        sum += other.sum
        sumOfSquares += other.sumOfSquares
    }

    /// Forgets every value, keeping the memory: for the live line's one-second windows.
    public mutating func reset() {
        histogram.reset()
        count = 0
        minimumNanoseconds = .max
        maximumNanoseconds = 0
        sum = 0
        sumOfSquares = 0
    }

    /// The value at `percentile` (0–100), from the histogram, kept within the exact minimum and maximum (the
    /// histogram reports the top of a value's bucket); nil with no values.
    public func percentile(_ percentile: Double) -> Duration? {
        percentileNanoseconds(percentile).map { MonotonicClock.duration(nanoseconds: $0) }
    }

    /// ``percentile(_:)`` in nanoseconds.
    package func percentileNanoseconds(_ percentile: Double) -> UInt64? {
        guard count > 0 else { return nil }
        return min(max(histogram.valueAtPercentile(percentile), minimumNanoseconds), maximumNanoseconds)
    }

    /// The arithmetic mean of the values; nil with no values.
    public var mean: Duration? { meanNanoseconds.map { .nanoseconds($0) } }

    /// ping(8)'s `mdev`: the standard deviation, √(mean of squares − square of mean); nil with no values.
    public var meanDeviation: Duration? { meanDeviationNanoseconds.map { .nanoseconds($0) } }

    /// ``mean`` in nanoseconds, unrounded, for the output's figures.
    package var meanNanoseconds: Double? { count > 0 ? sum / Double(count) : nil }

    /// ``meanDeviation`` in nanoseconds, unrounded.
    package var meanDeviationNanoseconds: Double? {
        guard let mean = meanNanoseconds else { return nil }
        return (max(0, sumOfSquares / Double(count) - mean * mean)).squareRoot()
    }

    /// The full percentile distribution in HdrHistogram's `.hgrm` text format (what `HistogramLogProcessor` and
    /// the online plotter read), with values in microseconds.
    public var percentileDistribution: String {
        var text = ""
        histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1000)
        return text
    }
}
