extension DescriptorLimit {
    /// Raises the soft limit as far as `wanted` mappings need (``reserved`` more), and says how many fit under
    /// it: past the limit every new client would fail to get a socket, where evicting the least recently active
    /// keeps the relay useful under a flood of sources.
    ///
    /// - Parameter wanted: The mappings asked for (`--max-clients`).
    /// - Returns: The mappings that fit, at most `wanted` and at least one, and the soft limit now in force;
    ///   `wanted` and nil when the limit cannot be read.
    public static func raiseSoftLimit(forMappings wanted: Int) -> (mappings: Int, softLimit: Int?) {
        guard let softLimit = raiseSoftLimit(toward: wanted + reserved) else { return (wanted, nil) }
        return (mappings(wanted: wanted, softLimit: softLimit), softLimit)
    }
}
