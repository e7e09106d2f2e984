#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A status line redrawn in place while stdout is a terminal: a carriage return, the text, and "clear to the
/// end of the line" (`ESC [ K`). Into a pipe or a file it writes nothing, so a log holds only the summary.
struct LiveLine {
    let isEnabled = isatty(STDOUT_FILENO) == 1

    func show(_ text: String) {
        guard isEnabled else { return }
        Console.raw(Array(("\r" + text + "\u{1B}[K").utf8))
    }

    /// Removes the line, so what follows starts on a clean one.
    func clear() {
        guard isEnabled else { return }
        Console.raw(Array("\r\u{1B}[K".utf8))
    }
}
