import Testing

@testable import UDPDiscovery

@Suite struct SSDPBrowserBoundsTests {
    let second: UInt64 = 1_000_000_000

    /// A forged advertisement with a 2 KB `LOCATION`, the most a line may carry.
    func forged(_ index: Int) -> SSDPMessage {
        .notify(
            SSDPAdvertisement(
                uniqueServiceName: "uuid:forged-\(index)",
                target: "upnp:rootdevice",
                location: "http://198.18.0.66/" + String(repeating: "a", count: 2_000),
                maximumAge: 1_800
            ),
            .alive
        )
    }

    @Test func theTableIsBoundedInBytesAndPushesOutTheLeastRecentlyHeard() {
        var browser = SSDPBrowser(capacity: 1_024, maximumBytes: 50_000)
        let real = SSDPAdvertisement(
            uniqueServiceName: "uuid:real::upnp:rootdevice",
            target: "upnp:rootdevice",
            location: "http://198.18.0.2/d.xml"
        )
        _ = browser.receive(.response(real), at: fakeTime(0))
        for index in 0..<500 {
            _ = browser.receive(forged(index), at: fakeTime(UInt64(index + 1) * second))
            #expect(browser.bytes <= 50_000)
        }
        // About 2.1 KB each: 23 fit, and a new one pushes out an eighth of the table, never all of it.
        #expect((18...23).contains(browser.advertisements.count))
        #expect(browser.evicted == 501 - browser.advertisements.count)
        #expect(browser.bytes == browser.advertisements.reduce(0) { $0 + SSDPBrowser.size(of: $1) })
    }

    @Test func anAdvertisementLargerThanTheWholeTableIsRefused() {
        var browser = SSDPBrowser(maximumBytes: 1_000)
        #expect(browser.receive(forged(1), at: fakeTime(0)).isEmpty)
        #expect(browser.refused == 1 && browser.bytes == 0)
    }

    @Test func aByebyeAndAnExpiryGiveTheirBytesBack() {
        var browser = SSDPBrowser()
        _ = browser.receive(forged(1), at: fakeTime(0))
        _ = browser.receive(forged(2), at: fakeTime(0))
        guard case .notify(let first, _) = forged(1) else { return }
        _ = browser.receive(.notify(first, .byebye), at: fakeTime(second))
        #expect(browser.bytes == SSDPBrowser.size(of: browser.advertisements[0]))
        _ = browser.expire(now: fakeTime(1_801 * second))
        #expect(browser.bytes == 0 && browser.advertisements.isEmpty)
    }
}
