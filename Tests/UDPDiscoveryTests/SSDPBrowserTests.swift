import Testing

@testable import UDPDiscovery

@Suite struct SSDPBrowserTests {
    static let second: UInt64 = 1_000_000_000

    func advertisement(
        _ usn: String = "uuid:1::upnp:rootdevice",
        target: String = "upnp:rootdevice",
        location: String? = "http://198.18.3.2/desc.xml",
        maximumAge: Int? = 1800
    ) -> SSDPAdvertisement {
        SSDPAdvertisement(uniqueServiceName: usn, target: target, location: location, maximumAge: maximumAge)
    }

    @Test func repeatsAreMergedAndAByebyeRemoves() {
        var browser = SSDPBrowser()
        let device = advertisement()
        #expect(browser.receive(.response(device), at: fakeTime(0)) == [.appeared(device)])
        // The same device again, by another search and by its announcement: nothing new.
        #expect(browser.receive(.response(device), at: fakeTime(Self.second)).isEmpty)
        #expect(browser.receive(.notify(device, .alive), at: fakeTime(2 * Self.second)).isEmpty)
        #expect(browser.advertisements == [device])
        // A byebye carries no location; it removes what was known, with its location.
        let goodbye = advertisement(location: nil, maximumAge: nil)
        #expect(browser.receive(.notify(goodbye, .byebye), at: fakeTime(3 * Self.second)) == [.removed(device)])
        #expect(browser.advertisements.isEmpty)
        #expect(browser.receive(.notify(goodbye, .byebye), at: fakeTime(4 * Self.second)).isEmpty)
    }

    @Test func maxAgeExpiresUnlessRefreshed() {
        var browser = SSDPBrowser()
        let device = advertisement(maximumAge: 100)
        _ = browser.receive(.response(device), at: fakeTime(0))
        #expect(browser.nextExpiry == fakeTime(100 * Self.second))
        // Refreshed at 60 s: it now lasts until 160 s.
        _ = browser.receive(.notify(device, .alive), at: fakeTime(60 * Self.second))
        #expect(browser.expire(now: fakeTime(159 * Self.second)).isEmpty)
        #expect(browser.expire(now: fakeTime(160 * Self.second)) == [.removed(device)])
        #expect(browser.nextExpiry == nil)
    }

    @Test("max-age=0 keeps a device for a second, never a deadline due the instant it is set")
    func zeroMaxAgeLastsASecond() {
        var browser = SSDPBrowser()
        let device = advertisement(maximumAge: 0)
        #expect(browser.receive(.response(device), at: fakeTime(5 * Self.second)) == [.appeared(device)])
        #expect(browser.nextExpiry == fakeTime(6 * Self.second))
        #expect(browser.expire(now: fakeTime(6 * Self.second)) == [.removed(device)])
    }

    @Test func aNewLocationIsReportedAsLeavingAndComingBack() {
        var browser = SSDPBrowser()
        let old = advertisement()
        var moved = old
        moved.location = "http://198.18.3.9/desc.xml"
        _ = browser.receive(.response(old), at: fakeTime(0))
        #expect(
            browser.receive(.notify(moved, .alive), at: fakeTime(Self.second)) == [.removed(old), .appeared(moved)]
        )
    }

    @Test func onlyTheTargetSoughtIsKept() {
        var browser = SSDPBrowser(target: "URN:schemas-upnp-org:device:MediaServer:1")
        let root = advertisement()
        let server = advertisement(
            "uuid:1::urn:schemas-upnp-org:device:MediaServer:1",
            target: "urn:schemas-upnp-org:device:MediaServer:1"
        )
        #expect(browser.receive(.notify(root, .alive), at: fakeTime(0)).isEmpty)
        #expect(browser.receive(.notify(server, .alive), at: fakeTime(0)) == [.appeared(server)])
        // Other control points' searches change nothing.
        #expect(browser.receive(.search(SSDPSearch()), at: fakeTime(0)).isEmpty)
    }

    @Test func anUpdateForAnUnknownDeviceIsNotAnAppearance() {
        var browser = SSDPBrowser()
        #expect(browser.receive(.notify(advertisement(location: nil), .update), at: fakeTime(0)).isEmpty)
    }

    @Test func aFloodOfForgedNamesStaysBoundedAndTheNewestStays() {
        var browser = SSDPBrowser(capacity: 64)
        for index in 0..<10_000 {
            _ = browser.receive(.response(advertisement("uuid:forged-\(index)")), at: fakeTime(UInt64(index)))
        }
        #expect(browser.advertisements.count <= 64)
        #expect(browser.evicted >= 10_000 - 64)
        let real = advertisement("uuid:real")
        #expect(browser.receive(.response(real), at: fakeTime(20_000)).contains(.appeared(real)))
        #expect(browser.advertisements.contains(real))
    }
}
