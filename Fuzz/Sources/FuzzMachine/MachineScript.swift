import UDP
import UDPPatterns

/// Plays fuzz input against a ``DatagramMachine`` as its driver would, with a fake clock: a script of
/// datagrams, delivery errors and the passing of time, decoded from the bytes. After every step it sends what
/// the machine gives (reporting each as sent) and takes its events, and checks what every machine must keep:
/// a timeout moves its deadline on (into the future, or away), and one step gives a bounded number of datagrams
/// and events. The target checks its machine's own invariants (bounds, counters) in `check`.
///
/// The script, one step after another until the bytes run out (a step cut short is dropped):
/// - `0` datagram: `[0x00|op] [peer] [flags] [length: 2 bytes, big-endian] [payload]`. `peer` indexes `peers`
///   (modulo); flags bit 0: hop limit 255 (else 1); bit 1: on interface `interfaces[1]` (else `[0]`); bit 2:
///   truncated; bit 3: to a group (packet info says multicast).
/// - `1` time passes: `[0x01] [milliseconds: 2 bytes, big-endian]`; a deadline passed on the way fires.
/// - `2` delivery error: `[0x02] [peer] [kind]`; kind 0 port unreachable, 1 host unreachable, 2 packet too big
///   (MTU 1280), else time exceeded; it quotes the last datagram sent, as the kernel does, from the peer's
///   address.
/// - `3` the next deadline: `[0x03]`; the clock jumps to it and it fires.
///
/// The operation is the step byte modulo 4, so that every byte is a step.
public struct MachineScript {
    /// The most datagrams and events one step may give: more means a machine that grows without bound.
    public static let outputsPerStepLimit = 100_000

    /// The addresses datagrams come from and errors name.
    public var peers: [SocketAddress]
    /// The interfaces datagrams arrive on, by index: the first, or the second when the flag says so.
    public var interfaces: [UInt32]
    /// The multicast address a datagram flagged "to a group" was sent to.
    public var group: IPAddress?

    /// A script player for datagrams from `peers`, arriving on `interfaces`.
    public init(peers: [SocketAddress], interfaces: [UInt32] = [1, 2], group: IPAddress? = nil) {
        precondition(!peers.isEmpty && !interfaces.isEmpty)
        self.peers = peers
        self.interfaces = interfaces
        self.group = group
    }

    /// Plays `bytes` against `machine`, calling `check` after every step with the machine and the clock.
    public func play<Machine: DatagramMachine>(
        _ bytes: [UInt8],
        on machine: inout Machine,
        check: (Machine, MonotonicInstant) -> Void
    ) {
        var now = MonotonicInstant(nanoseconds: 1_000_000_000)
        var lastSent: [UInt8] = []
        var stampID: UInt32 = 0
        var position = 0
        drain(&machine, at: now, &lastSent, &stampID)
        check(machine, now)
        while position < bytes.count, !machine.isFinished {
            let operation = bytes[position] % 4
            position += 1
            switch operation {
            case 0:
                guard position + 4 <= bytes.count else { return }
                let peer = peers[Int(bytes[position]) % peers.count]
                let flags = bytes[position + 1]
                let length = Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
                position += 4
                let end = min(bytes.count, position + length)
                let payload = bytes[position..<end]
                position = end
                let info = ReceiveInfo(
                    count: payload.count,
                    length: flags & 4 != 0 ? payload.count + 1 : payload.count,
                    sender: peer,
                    isTruncated: flags & 4 != 0,
                    destination: flags & 8 != 0 ? group : nil,
                    interfaceIndex: interfaces[flags & 2 != 0 ? min(1, interfaces.count - 1) : 0],
                    hopLimit: flags & 1 != 0 ? 255 : 1
                )
                let datagram = InboundDatagram(
                    payload: ArraySlice(payload),
                    info: info,
                    receivedAt: WallClockTime(nanosecondsSince1970: 1_800_000_000_000_000_000 + now.nanoseconds)
                )
                machine.handleDatagram(datagram, at: now)
            case 1:
                guard position + 2 <= bytes.count else { return }
                let milliseconds = Int64(bytes[position]) << 8 | Int64(bytes[position + 1])
                position += 2
                let later = now + .milliseconds(milliseconds)
                // Deadlines that fall on the way fire in order, as a driver that woke for each would see them.
                var fired = 0
                while let due = machine.nextDeadline, due <= later, fired < 1_000 {
                    now = max(now, due)
                    fire(&machine, at: now, &lastSent, &stampID)
                    fired += 1
                }
                now = later
            case 2:
                guard position + 2 <= bytes.count else { return }
                let peer = peers[Int(bytes[position]) % peers.count]
                let kind: DeliveryError.Kind =
                    switch bytes[position + 1] % 4 {
                    case 0: .portUnreachable
                    case 1: .hostUnreachable
                    case 2: .packetTooBig(mtu: 1280)
                    default: .timeExceeded
                    }
                position += 2
                let error = DeliveryError(
                    origin: .icmp,
                    kind: kind,
                    errno: .connectionRefused,
                    offender: peer.ip,
                    destination: peer,
                    quotedPayload: Array(lastSent.prefix(DeliveryError.quoteLimit))
                )
                machine.handleDeliveryError(error, socket: 0, at: now)
            default:
                if let due = machine.nextDeadline {
                    now = max(now, due)
                    fire(&machine, at: now, &lastSent, &stampID)
                }
            }
            drain(&machine, at: now, &lastSent, &stampID)
            check(machine, now)
        }
    }

    private func fire<Machine: DatagramMachine>(
        _ machine: inout Machine,
        at now: MonotonicInstant,
        _ lastSent: inout [UInt8],
        _ stampID: inout UInt32
    ) {
        machine.handleTimeout(at: now)
        drain(&machine, at: now, &lastSent, &stampID)
        if let next = machine.nextDeadline, next <= now {
            fatalError("a timeout at \(now) left the deadline at \(next): a driver would spin")
        }
    }

    private func drain<Machine: DatagramMachine>(
        _ machine: inout Machine,
        at now: MonotonicInstant,
        _ lastSent: inout [UInt8],
        _ stampID: inout UInt32
    ) {
        var outputs = 0
        while let datagram = machine.pollTransmit(at: now) {
            lastSent = datagram.payload
            let sentAt = WallClockTime(nanosecondsSince1970: 1_800_000_000_000_000_000 + now.nanoseconds)
            machine.handleSendReport(
                .sent(datagram, socket: datagram.socket, sentAt: sentAt, stampID: stampID),
                at: now
            )
            stampID &+= 1
            outputs += 1
            if outputs > Self.outputsPerStepLimit { fatalError("one step gave over \(outputs) datagrams") }
        }
        while machine.pollEvent() != nil {
            outputs += 1
            if outputs > Self.outputsPerStepLimit { fatalError("one step gave over \(outputs) events") }
        }
    }
}
