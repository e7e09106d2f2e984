// Shared by the counters of every machine (`package`: one wording for the whole package, no public API).

/// One line of a session's non-zero counts, in the order given: `1204 responses, 3 malformed`. Each label
/// names its reason in words that stay the same from release to release, so scripts and tests can match them;
/// `nothing counted` when every count is zero.
package func countList(_ counts: KeyValuePairs<String, Int>) -> String {
    let shown = counts.filter { $0.value != 0 }.map { "\($0.value) \($0.key)" }
    return shown.isEmpty ? "nothing counted" : shown.joined(separator: ", ")
}
