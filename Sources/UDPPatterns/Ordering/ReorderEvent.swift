/// What ``ReorderBuffer/receive(_:_:now:)`` did with one arrival.
public enum ReorderEvent: Sendable, Hashable {
    /// It was the next number expected: it, and any held numbers that follow it without a gap, are ready
    /// to poll.
    case inOrder
    /// It arrived early and is held until the gap before it fills, times out, or is pushed out of the window.
    /// A number far enough ahead to push the window forward is also `.buffered` (or `.inOrder` when the
    /// window is a single slot); what it pushed out is ready to poll, with the gaps as ``ReorderBuffer/Output/lost(first:count:)``.
    case buffered
    /// It is already held, or was already delivered: dropped.
    case duplicate
    /// It is older than the delivery point and was never received: its place was skipped (and reported
    /// lost) before it came, or it predates the first number seen. Dropped.
    case late
}
