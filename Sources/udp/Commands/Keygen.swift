import ArgumentParser

/// `udp keygen`: with the package trait `Sealing` it writes a key (Keygen+Sealing.swift); a build without refuses,
/// in one line that says how to build with it (Keygen+SealingLeftOut.swift).
struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a new pre-shared key for sealed datagrams (--key-file).",
        discussion: """
            Prints a new random 256-bit ChaCha20-Poly1305 key file on stdout, or writes it to --output with \
            mode 600 (a key file that group or others can read is refused by every command, as ssh refuses \
            such a private key; `udp keygen > FILE` keeps your umask's mode, so chmod 600 such a file, or use \
            --output). Give the same file to both ends:

              udp keygen --output udp.key
              udp echo --port 9999 --key-file udp.key
              udp send 127.0.0.1:9999 hello --key-file udp.key

            Sealed datagrams carry the key id (--id, default 1), so a receiver can tell keys apart while they \
            are rotated. Each sealed datagram is 34 bytes longer than its payload.

            Sealing is in a udp built with the package trait Sealing (swift build -c release --traits Sealing, \
            or Scripts/install.sh); a default build refuses keygen and --key-file, saying so.
            """
    )

    @Option(help: "The key id that sealed datagrams carry.")
    var id: UInt32 = 1

    @Option(help: ArgumentHelp("Write the key file here, mode 600, instead of stdout.", valueName: "file"))
    var output: String?
}
