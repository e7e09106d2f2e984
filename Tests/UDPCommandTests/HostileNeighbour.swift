import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

// The hostile neighbour of issue 22 (Python, stdlib only), run by HostileNeighbourTests; what reads and checks
// the output of the commands it floods is in HostileNeighbourOutput.swift.

/// The neighbour: `python3 -c neighbourScript MODE OWN_ADDRESS VICTIM_ADDRESS SECONDS RATE`, with MODE `mdns`
/// (answers to the services meta-query and instances), `ssdp` (NOTIFYs, responses to the victim's searches,
/// M-SEARCHes) or `forge` (spoofed DNS and NTP replies and ICMP errors racing the real server). It prints
/// `started`, sends at most SECONDS * RATE datagrams paced at RATE a second, and prints one JSON object of what
/// it sent by kind (`datagrams` in all) before it exits by itself.
private let neighbourScript = #"""
    import json, random, select, socket, struct, sys, time

    # A hostile neighbour, stdlib only: python3 -c SCRIPT MODE OWN_ADDRESS VICTIM_ADDRESS SECONDS RATE.
    # Sends at most SECONDS * RATE datagrams, paced at RATE a second, then prints one JSON line of what it sent and
    # exits: bounded in count and in time. Every datagram goes to the victim's address or to a multicast group with
    # TTL 255 (link-local groups never leave the link), from inside the test's own namespace, with multicast loop
    # off so that the real peer beside it is not flooded.
    mode, own, victim, seconds, rate = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
    deadline = time.monotonic() + seconds
    total = int(seconds * rate)
    sent = {}
    rng = random.Random(22)

    # Byte strings a terminal acts on: OSC retitle, clear screen, colour, UTF-8 C1 CSI, a raw C1 byte (invalid
    # UTF-8), BEL/BS/DEL, CR with a fake line, NUL.
    EVIL = [b"\x1b]0;pwned\x07", b"\x1b[2J\x1b[H", b"\x1b[31m", b"\xc2\x9b31m", b"\x9b", b"\x07\x08\x7f",
            b"\r+ eth0 fake", b"\x00nul", b"\x1bP+q\x1b\\"]


    def evil(n):
        return EVIL[n % len(EVIL)]


    def count(kind, n=1):
        sent[kind] = sent.get(kind, 0) + n


    def pace(i):
        # Datagram i leaves at start + i / rate: sleep until then (never past the deadline).
        wait = start + i / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        return time.monotonic() < deadline


    class Message:
        """A DNS message with name compression, as responders send it."""

        def __init__(self, flags=0x8400):
            self.body = bytearray()
            self.offsets = {}
            self.flags = flags
            self.answers = 0

        def name(self, labels, extra=0):
            # extra: rdata bytes before the name that are not in the body yet (SRV's priority, weight, port).
            out = bytearray()
            for i in range(len(labels)):
                suffix = tuple(l.lower() for l in labels[i:])
                if suffix in self.offsets:
                    return out + struct.pack(">H", 0xC000 | self.offsets[suffix])
                position = 12 + len(self.body) + extra + len(out)
                if position < 0x3FFF:
                    self.offsets[suffix] = position
                out += bytes([len(labels[i])]) + labels[i]
            return out + b"\0"

        def record(self, labels, rtype, rdata_fn, ttl=4500, flush=False):
            self.body += self.name(labels)
            self.body += struct.pack(">HHI", rtype, 0x8001 if flush else 1, ttl)
            length_at = len(self.body)
            self.body += b"\0\0"
            rdata = rdata_fn()
            self.body[length_at:length_at + 2] = struct.pack(">H", len(rdata))
            self.body += rdata
            self.answers += 1

        def rdata_name(self, labels):
            # Called while the record's length is a placeholder: the name starts right after it.
            return lambda: self.name(labels)

        def bytes(self):
            return struct.pack(">HHHHHH", 0, self.flags, 0, self.answers, 0, 0) + bytes(self.body)


    META = [b"_services", b"_dns-sd", b"_udp", b"local"]


    def mdns_datagram(i):
        kind = i % 10
        if kind == 9:
            return malformed_mdns(i // 10)
        m = Message()
        # Twelve new service types (100 000+ over the run), some with terminal escapes in the type's label.
        for k in range(12):
            n = i * 12 + k
            label = b"_t%d" % n if n % 3 else b"_e%d" % n + evil(n)
            m.record(META, 12, m.rdata_name([label[:63], b"_tcp", b"local"]))
        count("mdns_types", 12)
        if i % 10 == 0:
            m.record(META, 12, m.rdata_name([b"_http", b"_tcp", b"local"]))
        # Six instances with SRV, TXT and A: every other one of _http._tcp, a type every browser asks for, the rest
        # of a type announced two datagrams before (a browser asks for the instances of a type once it learns it).
        known = i - 2 if (i - 2) % 10 != 9 else i - 3
        for k in range(6):
            n = i * 6 + k
            service = [b"_t%d" % (known * 12 + 1), b"_tcp", b"local"]
            if n % 2 or known < 0:
                service = [b"_http", b"_tcp", b"local"]
            instance = [(b"forged " + evil(n) + b" %d" % n)[:63]] + service
            host = [(b"h" + evil(n + 1) + b"%d" % n)[:63], b"local"]
            m.record(service, 12, m.rdata_name(instance))

            def srv(host=host, n=n):
                return struct.pack(">HHH", 0, 0, 1024 + n % 60000) + m.name(host, extra=6)

            m.record(instance, 33, srv, ttl=120, flush=True)
            strings = [b"k=" + evil(n + 2), evil(n + 3) + b"=v", b"path=/" + evil(n)]
            txt = b"".join(bytes([len(s)]) + s for s in strings)
            m.record(instance, 16, lambda txt=txt: txt, flush=True)
            m.record(host, 1, lambda n=n: bytes([198, 19, (n >> 8) & 0xFF, n & 0xFF]), ttl=120, flush=True)
        count("mdns_instances", 6)
        count("mdns_good_datagrams")
        return m.bytes()


    def malformed_mdns(n):
        count("mdns_malformed")
        header = lambda an: struct.pack(">HHHHHH", 0, 0x8400, 0, an, 0, 0)
        shapes = [
            header(1) + b"\xc0\x0c" + struct.pack(">HHIH", 12, 1, 4500, 2) + b"\xc0\x0c",  # a pointer to itself
            header(1) + b"\x01a\xc0\x0e" + struct.pack(">HHIH", 12, 1, 4500, 2) + b"\xc0\x0c",  # a two-pointer loop
            header(1) + b"\x01a\xc0\x40" + struct.pack(">HHIH", 12, 1, 4500, 2) + b"\xc0\x0c",  # a forward pointer
            # An RDLENGTH past the end of the message.
            header(2) + b"\x02_x\x04_tcp\x05local\x00" + struct.pack(">HHIH", 12, 1, 4500, 200) + b"\x03abc",
            header(65535) + b"\x02_y\x04_tcp\x05local\x00" + struct.pack(">HHIH", 12, 1, 4500, 2) + b"\xc0\x0c",
            header(1) + b"\x3f" + b"a" * 10,  # a label running past the end
            header(3) + bytes(rng.getrandbits(8) for _ in range(60)),
            b"\x00\x00\x84",  # shorter than a header
            # A good record, then one whose name loops, then a good one: skip the bad record, keep the rest.
            header(3) + b"\x09_services\x07_dns-sd\x04_udp\x05local\x00" + struct.pack(">HHIH", 12, 1, 4500, 2)
            + b"\xc0\x0c" + b"\xc0\x30" + struct.pack(">HHIH", 12, 1, 4500, 2) + b"\xc0\x0c"
            + b"\xc0\x0c" + struct.pack(">HHIH", 12, 1, 4500, 9) + b"\x04_z%02d\xc0\x22" % (n % 100),
        ]
        return shapes[n % len(shapes)]


    def run_mdns():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("0.0.0.0", 5353))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(own))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        for i in range(total):
            if not pace(i):
                break
            datagram = mdns_datagram(i)
            s.sendto(datagram, ("224.0.0.251", 5353))
            count("datagrams")
            count("bytes", len(datagram))


    def ssdp_headers(n, start_line, headers):
        text = start_line + b"\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n"
        return text


    def ssdp_datagram(n, to_search):
        shape = n % 10
        if to_search and shape < 5:
            count("ssdp_responses")
            return ssdp_headers(n, b"HTTP/1.1 200 OK", [
                (b"CACHE-CONTROL", b"max-age=1800" + (evil(n) if n % 7 == 0 else b"")),
                (b"EXT", evil(n + 1)),
                (b"ST", b"urn:evil:" + evil(n) + b"%d" % n),
                (b"USN", b"uuid:" + evil(n + 2) + b"r%d::urn:evil" % n),
                (b"LOCATION", b"http://198.19.0.9/" + evil(n + 3) + b"%d.xml" % n),
                (b"SERVER", evil(n + 4) + b" Evil/1.0"),
            ])
        if shape == 7:
            count("ssdp_long_lines")
            return ssdp_headers(n, b"NOTIFY * HTTP/1.1", [
                (b"HOST", b"239.255.255.250:1900"), (b"NT", b"upnp:rootdevice"), (b"NTS", b"ssdp:alive"),
                (b"USN", b"uuid:long%d::upnp:rootdevice" % n), (b"LOCATION", b"http://198.19.0.9/" + b"A" * 8192),
            ])
        if shape == 8:
            count("ssdp_many_headers")
            return ssdp_headers(n, b"NOTIFY * HTTP/1.1", [(b"X-H%d" % k, evil(k)) for k in range(1000)] + [
                (b"NT", b"upnp:rootdevice"), (b"NTS", b"ssdp:alive"), (b"USN", b"uuid:many%d::upnp:rootdevice" % n),
            ])
        if shape == 9:
            count("ssdp_garbage")
            return bytes(rng.getrandbits(8) for _ in range(200)) + evil(n)
        if n // 2 % 2 == 0:
            # Well-formed and new each time: more devices than a browser's table holds.
            count("ssdp_notify_plain")
            return ssdp_headers(n, b"NOTIFY * HTTP/1.1", [
                (b"HOST", b"239.255.255.250:1900"), (b"CACHE-CONTROL", b"max-age=1800"), (b"NT", b"upnp:rootdevice"),
                (b"NTS", b"ssdp:alive"), (b"USN", b"uuid:plain-%d::upnp:rootdevice" % n),
                (b"LOCATION", b"http://198.19.0.9/%d.xml" % n)])
        count("ssdp_notify")
        return ssdp_headers(n, b"NOTIFY * HTTP/1.1", [
            (b"HOST", b"239.255.255.250:1900" + (evil(n) if n % 5 == 0 else b"")),
            (b"CACHE-CONTROL", b"max-age=1800"),
            (b"NT", b"urn:evil:" + evil(n) + b"%d" % n),
            (b"NTS", b"ssdp:alive" if n % 11 else b"ssdp:alive" + evil(n)),
            (b"USN", b"uuid:" + evil(n + 2) + b"n%d::urn:evil" % n),
            (b"LOCATION", b"http://198.19.0.9/" + evil(n + 3) + b"%d.xml" % n),
            (b"SERVER", evil(n + 4) + b" Evil/1.0"),
        ])


    def run_ssdp():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("0.0.0.0", 1900))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     socket.inet_aton("239.255.255.250") + socket.inet_aton(own))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(own))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        s.setblocking(False)
        searchers = []
        for i in range(total):
            if not pace(i):
                break
            # Learn the victim's search sockets from its M-SEARCH (what any host on the link sees), and answer them.
            for _ in range(64):
                try:
                    data, sender = s.recvfrom(65536)
                except BlockingIOError:
                    break
                if sender[0] == victim and data.startswith(b"M-SEARCH") and sender not in searchers:
                    searchers = (searchers + [sender])[-8:]
            to_search = bool(searchers) and i % 2 == 0
            datagram = ssdp_datagram(i, to_search)
            if to_search:
                destination = searchers[i // 2 % len(searchers)]
            elif i % 20 == 3:
                count("ssdp_msearch")
                datagram = ssdp_headers(i, b"M-SEARCH * HTTP/1.1", [
                    (b"HOST", b"239.255.255.250:1900"), (b"MAN", b'"ssdp:discover"'), (b"MX", b"1"),
                    (b"ST", b"ssdp:all"), (b"USER-AGENT", evil(i))])
                destination = ("239.255.255.250", 1900)
            else:
                destination = ("239.255.255.250", 1900)
            try:
                s.sendto(datagram, destination)
            except OSError as e:
                count("send_errors")
                continue
            count("datagrams")
            count("bytes", len(datagram))
        sent["searches_seen"] = len(searchers)


    def checksum(data):
        if len(data) % 2:
            data += b"\0"
        total_ = sum(struct.unpack("!%dH" % (len(data) // 2), data))
        while total_ >> 16:
            total_ = (total_ & 0xFFFF) + (total_ >> 16)
        return ~total_ & 0xFFFF


    def ip_header(source, destination, protocol, length):
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, rng.getrandbits(16), 0, 64, protocol, 0,
                           socket.inet_aton(source), socket.inet_aton(destination))


    def udp_packet(source, sport, destination, dport, payload):
        # UDP checksum 0: none, which IPv4 allows.
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        return ip_header(source, destination, 17, len(udp)) + udp


    def icmp_unreachable(server, client, cport, sport, quoted_payload):
        """Port unreachable 'from' the server, quoting client:cport -> server:sport with quoted_payload."""
        quote = ip_header(client, server, 17, 8 + len(quoted_payload)) + struct.pack(
            "!HHHH", cport, sport, 8 + len(quoted_payload), 0) + quoted_payload
        body = struct.pack("!BBHI", 3, 3, 0, 0) + quote
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        return ip_header(server, client, 1, len(body)) + body


    def forged_dns_reply(query, wrong_id):
        # The query's question, answered with an address of the neighbour's, under another id.
        question = query[12:]
        end = question.find(b"\0") + 5
        return struct.pack("!HHHHHH", wrong_id, 0x8580, 1, 1, 0, 0) + question[:end] + b"\xc0\x0c" + struct.pack(
            "!HHIH", 1, 1, 300, 4) + bytes([198, 19, 6, 66])


    def forged_ntp_reply(request):
        # A server reply whose origin is not the request's transmit timestamp, with a refid of control bytes.
        origin = bytes(b ^ 0x5A for b in request[40:48]) if len(request) >= 48 else b"\x01" * 8
        now = int((time.time() + 2208988800) * (1 << 32))
        header = struct.pack("!BBbbII4s", 0x24, 1, 6, -20, 0, 0, b"\x1b[2J")
        return header + struct.pack("!Q", now) + origin + struct.pack("!QQ", now, now)


    def fake_ntp_request():
        # A client request with a transmit timestamp of chance: what a quote looks like to a forger who cannot see.
        return b"\x23" + bytes(39) + rng.getrandbits(64).to_bytes(8, "big")


    def run_forge():
        # The real server is `own` (port 53 for DNS, 123 for NTP); this neighbour shares its host, sees the headers
        # of the victim's queries (as any host on the path of a hub or a mirrored port would), and forges from the
        # server's address: replies with the wrong id or origin, and port unreachables whose quote stops short of
        # what identifies the query or carries the wrong one.
        sniff = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        sniff.setblocking(False)
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)

        def send(packet, kind):
            try:
                raw.sendto(packet, (victim, 0))
            except OSError:
                count("send_errors")
                return
            count(kind)
            count("datagrams")

        ntp_ports = []
        seen = {"dns_queries_seen": 0, "ntp_requests_seen": 0}
        # The NTP client asks at a steady interval, on one socket: from the last two requests seen, the next is due
        # at a time the neighbour can tell, and a port unreachable queued just before it reaches that request's send
        # (on a connected socket the kernel reports it there). A burst from 2 ms before until 1 ms after, at most
        # 20 000 in all.
        last_request, burst, timed_left = None, None, 20000
        for i in range(total):
            # Between paced blind sends, answer each query seen at once (a race with the real server), and burst.
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                if burst and now >= burst[1]:
                    burst = None
                bursting = burst is not None and burst[0] <= now and timed_left > 0
                if bursting:
                    timed_left -= 1
                    send(icmp_unreachable(own, victim, ntp_ports[-1], 123, fake_ntp_request()), "icmp_ntp_timed")
                paced = start + i / rate - now
                if paced <= 0 and not bursting:
                    break
                timeout = 0.0 if bursting else max(0.0, min(paced, burst[0] - now) if burst else paced)
                ready, _, _ = select.select([sniff], [], [], timeout)
                if not ready:
                    continue
                for _ in range(64):
                    try:
                        packet = sniff.recv(65536)
                    except BlockingIOError:
                        break
                    ihl = (packet[0] & 0x0F) * 4
                    source = socket.inet_ntoa(packet[12:16])
                    if source != victim or len(packet) < ihl + 8:
                        continue
                    cport, dport = struct.unpack("!HH", packet[ihl:ihl + 4])
                    payload = packet[ihl + 8:]
                    if dport == 53 and len(payload) >= 12:
                        seen["dns_queries_seen"] += 1
                        query_id = struct.unpack("!H", payload[:2])[0]
                        wrong = (query_id + 1 + rng.getrandbits(15)) & 0xFFFF
                        send(icmp_unreachable(own, victim, cport, 53, b""), "icmp_dns_no_quote")
                        send(icmp_unreachable(own, victim, cport, 53, payload[:1]), "icmp_dns_one_byte")
                        send(icmp_unreachable(own, victim, cport, 53, struct.pack("!H", wrong) + payload[2:]),
                             "icmp_dns_wrong_id")
                        send(udp_packet(own, 53, victim, cport, forged_dns_reply(payload, wrong)), "dns_wrong_id")
                    elif dport == 123 and len(payload) >= 48:
                        seen["ntp_requests_seen"] += 1
                        if cport not in ntp_ports:
                            ntp_ports = (ntp_ports + [cport])[-4:]
                        wrong = payload[:40] + bytes(b ^ 0xA5 for b in payload[40:48]) + payload[48:]
                        send(icmp_unreachable(own, victim, cport, 123, wrong), "icmp_ntp_wrong_timestamp")
                        send(udp_packet(own, 123, victim, cport, forged_ntp_reply(payload)), "ntp_wrong_origin")
                        arrived = time.monotonic()
                        if last_request is not None and 0.02 < arrived - last_request < 2:
                            due = arrived + (arrived - last_request)
                            burst = (due - 0.002, due + 0.001)
                        last_request = arrived
            if time.monotonic() >= deadline:
                break
            # Blind, paced: forged replies and errors to the NTP socket seen (it lives for the whole run) and to
            # random ports where a DNS query's socket may be.
            # Half of them port unreachables to the NTP socket: one lands between two requests now and then, where
            # the kernel reports it to the next send on a connected socket.
            n = i % 8
            if n < 4 and ntp_ports:
                send(icmp_unreachable(own, victim, ntp_ports[-1], 123, fake_ntp_request()), "icmp_ntp_blind")
            elif n == 4 and ntp_ports:
                send(udp_packet(own, 123, victim, ntp_ports[-1], forged_ntp_reply(fake_ntp_request())), "ntp_blind")
            elif n < 7:
                port = rng.randrange(32768, 61000)
                send(icmp_unreachable(own, victim, port, 53, b""), "icmp_dns_blind")
            else:
                port = rng.randrange(32768, 61000)
                fake = struct.pack("!HHHHHH", rng.getrandbits(16), 0x0100, 1, 0, 0, 0)
                fake += b"\x01a\x07example\x04test\x00" + struct.pack("!HH", 1, 1)
                send(udp_packet(own, 53, victim, port, forged_dns_reply(fake, rng.getrandbits(16))), "dns_blind")
        sent.update(seen)


    start = time.monotonic()
    print("started", flush=True)
    {"mdns": run_mdns, "ssdp": run_ssdp, "forge": run_forge}[mode]()
    sent["seconds"] = round(time.monotonic() - start, 2)
    print(json.dumps(sent, sort_keys=True), flush=True)
    """#

/// Whether python3 runs here: the neighbour is a Python script (stdlib only).
let python3Installed: Bool = {
    let process = try? Spawned(["/usr/bin/env", "python3", "-c", "pass"])
    process?.closeStandardInput()
    return process?.wait().status == 0
}()

/// A running neighbour in namespace B of a ``NamespacePair``, flooding A; killed if it is still running when this
/// goes away (Spawned's deinit).
final class HostileNeighbour {
    enum Mode: String { case mdns, ssdp, forge }

    private let process: Spawned

    /// Starts the neighbour in `hosts.b`, from `source` (`hosts.addressB` by default), against `hosts.addressA`,
    /// and returns once it has started sending.
    init(_ mode: Mode, _ hosts: NamespacePair, from source: String? = nil, seconds: Double, rate: Int) throws {
        process = try Spawned([
            "/usr/sbin/ip", "netns", "exec", hosts.b, "/usr/bin/env", "python3", "-c", neighbourScript, mode.rawValue,
            source ?? hosts.addressB, hosts.addressA, "\(seconds)", "\(rate)",
        ])
        process.closeStandardInput()
        let first = process.readLine(timeout: .seconds(10))
        guard first == "started" else {
            throw NamespaceError(message: "the neighbour did not start: \(process.wait(timeout: .seconds(2)))")
        }
    }

    /// Waits for the neighbour to finish (it stops by itself) and returns its counts by kind.
    func finish(timeout: Duration = .seconds(30)) throws -> [String: Double] {
        let result = process.wait(timeout: timeout)
        let line = try #require(result.stdout.split(separator: "\n").last, "neighbour: \(result)")
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        let counts = try #require(object?.compactMapValues { ($0 as? NSNumber)?.doubleValue }, "neighbour: \(line)")
        #expect(result.status == 0, "neighbour: \(result.stderr)")
        return counts
    }
}
