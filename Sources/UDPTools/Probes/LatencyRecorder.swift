import Histogram

/// Round-trip times in nanoseconds: an HdrHistogram for the percentiles (3 significant digits), and the exact
/// minimum, maximum, mean and mean deviation beside it.
///
/// Recording allocates nothing while values stay below the `highest` given at creation (a run's loss timeout:
/// a slower reply is late, not recorded).
public struct LatencyRecorder: Sendable {
    /// Every value recorded, in nanoseconds: an HdrHistogram (`Histogram` of hdrhistogram-swift) to three
    /// significant digits, which grows when a value exceeds its range.
    public private(set) var histogram: Histogram<UInt64>
    /// Values recorded.
    public private(set) var count = 0
    /// The smallest value recorded, in nanoseconds; `UInt64.max` before the first.
    public private(set) var minimum = UInt64.max
    /// The largest value recorded, in nanoseconds; 0 before the first.
    public private(set) var maximum: UInt64 = 0
    private var sum: Double = 0
    private var sumOfSquares: Double = 0

    /// - Parameter highest: The largest value expected, in nanoseconds; larger ones still fit (the histogram
    ///   grows), at the cost of an allocation.
    public init(highest: UInt64) {
        histogram = Histogram(
            lowestDiscernibleValue: 1,
            highestTrackableValue: max(highest, 1_000_000),
            numberOfSignificantValueDigits: .three
        )
        histogram.autoResize = true
    }

    /// Records one round trip of `nanoseconds`.
    public mutating func record(_ nanoseconds: UInt64) {
        histogram.record(nanoseconds)
        count += 1
        minimum = min(minimum, nanoseconds)
        maximum = max(maximum, nanoseconds)
        let value = Double(nanoseconds)
        sum += value
        sumOfSquares += value * value
    }

    /// Adds `other`'s values, as if they had been recorded here: how bench merges its workers.
    public mutating func add(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
        count += other.count
        minimum = min(minimum, other.minimum)
        maximum = max(maximum, other.maximum)
        sum += other.sum
        sumOfSquares += other.sumOfSquares
    }

    /// Forgets every value, keeping the memory: for the live line's one-second windows.
    public mutating func reset() {
        histogram.reset()
        count = 0
        minimum = .max
        maximum = 0
        sum = 0
        sumOfSquares = 0
    }

    /// The value at `percentile` (0–100), from the histogram, kept within the exact minimum and maximum (the
    /// histogram reports the top of a value's bucket); nil with no values.
    public func percentile(_ percentile: Double) -> UInt64? {
        guard count > 0 else { return nil }
        return min(max(histogram.valueAtPercentile(percentile), minimum), maximum)
    }

    /// The arithmetic mean of the values, in nanoseconds; nil with no values.
    public var mean: Double? { count > 0 ? sum / Double(count) : nil }

    /// ping(8)'s `mdev`: the standard deviation, √(mean of squares − square of mean).
    public var meanDeviation: Double? {
        guard let mean else { return nil }
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
