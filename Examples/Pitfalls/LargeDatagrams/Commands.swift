import UDP

#if canImport(Glibc)
import Glibc
#endif

// Running `ip` and reading /proc without Foundation, so this program builds with the core library alone.

/// Runs `ip` with `arguments` and waits for it; throws with what it wrote on stderr when it fails.
func runIP(_ arguments: String...) throws {
    guard let ipCommand else { throw PitfallError("no ip command") }
    var errors: [CInt] = [0, 0]
    guard pipe(&errors) == 0 else { throw PitfallError("pipe: \(Errno.current)") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addclose(&actions, errors[0])
    posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
    let argv = ([ipCommand] + arguments).map { strdup($0) } + [nil]
    defer {
        for pointer in argv { free(pointer) }
    }
    var child: pid_t = 0
    let status = posix_spawn(&child, ipCommand, &actions, nil, argv, environ)
    close(errors[1])
    defer { close(errors[0]) }
    guard status == 0 else { throw PitfallError("cannot start \(ipCommand): \(Errno(rawValue: status))") }
    let message = readAll(errors[0])  // until ip exits and the pipe closes
    var exitStatus: CInt = 0
    while waitpid(child, &exitStatus, 0) < 0 && errno == EINTR {}
    guard exitStatus == 0 else {
        throw PitfallError("ip \(arguments.joined(separator: " ")): \(message.isEmpty ? "failed" : message)")
    }
}

/// The whole of a small file, such as one under /proc.
func readFile(_ path: String) throws -> String {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw PitfallError("cannot open \(path): \(Errno.current)") }
    defer { close(descriptor) }
    return readAll(descriptor)
}

/// Reads `descriptor` to its end, as text without a final newline.
func readAll(_ descriptor: CInt) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { break }
        bytes += chunk[..<count]
    }
    while bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
    return String(decoding: bytes, as: UTF8.self)
}
