import UDP
import UDPPatterns

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes whole lines to stdout and stderr, flushed at once: a script reading a pipe sees each line as it
/// happens (stdio would buffer a pipe in 4 KiB blocks), and `listening on udp/PORT` arrives before traffic.
///
/// A line holds no control character but tab: any other (a newline inside it included) is written escaped,
/// as ``NetworkText/terminalSafe(_:)`` does, however the text was made. Network strings are escaped before they
/// get here (``NetworkText``); this is the last guard, for a field someone forgot.
enum Console {
    static func line(_ text: String) {
        write(NetworkText.terminalSafe(text) + "\n", to: STDOUT_FILENO)
    }

    static func error(_ text: String) {
        write(NetworkText.terminalSafe(text) + "\n", to: STDERR_FILENO)
    }

    /// Writes raw bytes to stdout, unchecked: a reply payload already found printable, a terminal's own
    /// control sequence (``LiveLine``).
    static func raw(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeAll($0, to: STDOUT_FILENO) }
    }

    private static func write(_ text: String, to descriptor: CInt) {
        var text = text
        text.withUTF8 { writeAll(UnsafeRawBufferPointer($0), to: descriptor) }
    }

    private static func writeAll(_ buffer: UnsafeRawBufferPointer, to descriptor: CInt) {
        // A closed pipe: nothing useful to do with the error, and nowhere left to report it.
        try? FileIO.writeAll(descriptor, buffer)
    }
}
