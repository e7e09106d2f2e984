import Testing

@testable import UDPDiscovery

@Suite struct SSDPMessageTests {
    func parse(_ text: String) throws(SSDPError) -> SSDPMessage { try SSDPMessage(parsing: Array(text.utf8)) }

    @Test func aSearchAsDevicesSendIt() throws {
        let message = try parse(
            "M-SEARCH * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\nMan: \"ssdp:discover\"\r\nMX: 3\r\nST: upnp:rootdevice\r\n\r\n"
        )
        #expect(message == .search(SSDPSearch(target: "upnp:rootdevice", maximumWait: 3)))
        #expect(try SSDPMessage(parsing: message.encoded) == message)
    }

    @Test func aResponseWithLooseFormatting() throws {
        // Lower-case names, spaces around values, bare \n, extra headers, a body after the blank line.
        let text = """
            HTTP/1.1 200 OK
            cache-control:  max-age = 1800 , no-cache
            location: http://198.18.3.2:49152/desc.xml
            server: Linux/6.1 UPnP/1.1 MiniUPnPd/2.3
            st: urn:schemas-upnp-org:device:InternetGatewayDevice:1
            usn:uuid:1234::urn:schemas-upnp-org:device:InternetGatewayDevice:1
            EXT:
            BOOTID.UPNP.ORG: 7

            ignored body
            """
        let expected = SSDPAdvertisement(
            uniqueServiceName: "uuid:1234::urn:schemas-upnp-org:device:InternetGatewayDevice:1",
            target: "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
            location: "http://198.18.3.2:49152/desc.xml",
            server: "Linux/6.1 UPnP/1.1 MiniUPnPd/2.3",
            maximumAge: 1800
        )
        let message = try parse(text)
        #expect(message == .response(expected))
        #expect(try SSDPMessage(parsing: message.encoded) == message)
    }

    @Test func aliveAndByebye() throws {
        let alive = try parse(
            "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=100\r\nLOCATION: http://x/d.xml\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nUSN: uuid:a::upnp:rootdevice\r\n\r\n"
        )
        guard case .notify(let advertisement, .alive) = alive else {
            Issue.record("\(alive)")
            return
        }
        #expect(advertisement.maximumAge == 100 && advertisement.target == "upnp:rootdevice")
        let byebye = try parse(
            "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:byebye\r\nUSN: uuid:a::upnp:rootdevice\r\n\r\n"
        )
        #expect(
            byebye
                == .notify(
                    SSDPAdvertisement(uniqueServiceName: "uuid:a::upnp:rootdevice", target: "upnp:rootdevice"),
                    .byebye
                )
        )
        #expect(try SSDPMessage(parsing: byebye.encoded) == byebye)
    }

    @Test func whatIsNotSSDPIsRefusedWithItsReason() {
        #expect(throws: SSDPError.notText) { try SSDPMessage(parsing: [0xFF, 0xFE, 0x0A]) }
        #expect(throws: SSDPError.badStartLine("GET / HTTP/1.1")) { try parse("GET / HTTP/1.1\r\n\r\n") }
        #expect(throws: SSDPError.missingHeader("MAN")) { try parse("M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n") }
        #expect(throws: SSDPError.missingHeader("LOCATION")) {
            try parse("HTTP/1.1 200 OK\r\nST: a\r\nUSN: b\r\n\r\n")
        }
        #expect(throws: SSDPError.badHeader("MX")) {
            try parse("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nMX: -1\r\nST: a\r\n\r\n")
        }
        #expect(throws: SSDPError.badHeader("CACHE-CONTROL")) {
            try parse("HTTP/1.1 200 OK\r\nST: a\r\nUSN: b\r\nLOCATION: c\r\nCACHE-CONTROL: max-age=soon\r\n\r\n")
        }
        let many = "NOTIFY * HTTP/1.1\r\n" + String(repeating: "X: y\r\n", count: 100) + "\r\n"
        #expect(throws: SSDPError.tooManyHeaders) { try parse(many) }
        #expect(throws: SSDPError.lineTooLong) {
            try parse("HTTP/1.1 200 OK\r\nST: " + String(repeating: "a", count: 3_000) + "\r\n\r\n")
        }
    }
}
