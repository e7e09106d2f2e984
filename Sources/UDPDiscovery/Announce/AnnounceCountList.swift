/// One line of a session's non-zero counts, in the order given: `40 queries, 1 conflicts (renamed)`, or
/// `nothing counted`; the same words as the other sessions' counters (UDPTools' `countList`).
enum AnnounceCountList {
    static func line(_ counts: KeyValuePairs<String, Int>) -> String {
        let shown = counts.filter { $0.value != 0 }.map { "\($0.value) \($0.key)" }
        return shown.isEmpty ? "nothing counted" : shown.joined(separator: ", ")
    }
}
