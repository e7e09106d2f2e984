import NIOCore
import UDP

extension AsyncUDPSocket {
    /// Sends datagrams from the socket; any number of tasks may use it at once.
    ///
    /// A send returns when NIO has written the datagram to the socket, and so, like `sendto(2)`, promises
    /// nothing about delivery. While the kernel's send queue is full, sends wait (NIO's writability), so a fast
    /// producer is slowed rather than buffered without bound.
    public struct Outbound: Sendable {
        let writer: NIOAsyncChannelOutboundWriter<AddressedEnvelope<ByteBuffer>>
        let channel: any Channel

        /// Sends `buffer` to `recipient`.
        ///
        /// - Throws: `UDPError` with code `.messageTooLarge` for a payload over the protocol maximum (65507 bytes
        ///   to an IPv4 peer, 65527 to an IPv6 one), before anything is sent; `UDPError` with the errno of the
        ///   failed `sendmsg` (`EHOSTUNREACH`, `EPERM` from a firewall…); NIO's `ChannelError.ioOnClosedChannel`
        ///   once the socket is closed.
        public func send(_ buffer: ByteBuffer, to recipient: UDP.SocketAddress) async throws {
            try await send(OutboundDatagram(buffer, to: recipient))
        }

        /// Sends `bytes` to `recipient`, like the `ByteBuffer` overload.
        public func send(_ bytes: some Sequence<UInt8>, to recipient: UDP.SocketAddress) async throws {
            try await send(OutboundDatagram(ByteBuffer(bytes: bytes), to: recipient))
        }

        /// Sends one datagram, with its ECN bits or GSO segment size, reporting the kernel's error for it.
        public func send(_ datagram: OutboundDatagram) async throws {
            try datagram.validate()
            do {
                try await channel.writeAndFlush(datagram.envelope).get()
            } catch {
                throw Self.translate(error, recipient: datagram.recipient)
            }
        }

        /// Sends several datagrams with one write and one flush (`sendmmsg(2)` for up to 64 at a time), to any
        /// mix of recipients: the way to answer an ``InboundBatch``.
        ///
        /// Returns when NIO has taken the datagrams, not when they are written, and reports no per-datagram
        /// kernel error: NIO drops a datagram that fails with `EMSGSIZE` or `EHOSTUNREACH` and goes on with the
        /// rest (sizes over the protocol maximum are refused here first).
        ///
        /// - Throws: `UDPError` `.messageTooLarge` (nothing is sent then); NIO's errors once the socket is closed.
        public func send(contentsOf datagrams: sending some Collection<OutboundDatagram>) async throws {
            // A concrete array rather than a lazy map: NIO copies what it is given into a Deque anyway, and the
            // generic path costs runtime metadata lookups (one A/B run of example-async-echo: 4.64 against 4.77 µs
            // of server CPU per reply).
            var envelopes: [AddressedEnvelope<ByteBuffer>] = []
            envelopes.reserveCapacity(datagrams.count)
            for datagram in datagrams {
                try datagram.validate()
                envelopes.append(datagram.envelope)
            }
            try await writer.write(contentsOf: envelopes)
        }

        /// NIO reports a failed datagram with its own errors; say it in this library's terms where one fits.
        static func translate(_ error: any Error, recipient: UDP.SocketAddress) -> any Error {
            switch error {
            case let error as IOError:
                return UDPError(.send, errno: Errno(rawValue: error.errnoCode), address: recipient)
            case ChannelError.writeMessageTooLarge:
                return UDPError(.send, errno: .messageTooLong, address: recipient)
            case ChannelError.writeHostUnreachable:
                return UDPError(.send, errno: .hostUnreachable, address: recipient)
            default:
                return error
            }
        }
    }
}
