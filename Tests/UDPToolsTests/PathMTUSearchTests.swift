import Testing
import UDP
import UDPTools

// The search alone, against a pretend path: which sizes it probes, and what it concludes.
@Suite struct PathMTUSearchTests {
    /// A path that carries payloads up to `fits` and answers larger ones as `larger` says.
    private func search(
        _ family: AddressFamily,
        _ range: ClosedRange<Int>,
        fits: Int,
        larger: (Int) -> PathMTUSearch.Outcome
    ) -> (PathMTUSearch, [Int]) {
        var search = PathMTUSearch(family: family, range: range)
        var probed: [Int] = []
        while let size = search.nextSize, probed.count < 200 {
            probed.append(size)
            search.record(size: size, outcome: size <= fits ? .echoed : larger(size))
        }
        return (search, probed)
    }

    private let router = IPAddress("198.18.1.1")!

    @Test func aPacketTooBigJumpsStraightToTheSizeItNames() {
        let (search, probed) = search(.inet, 548...1472, fits: 1372) { _ in .tooBig(mtu: 1400, from: router) }
        #expect(probed == [548, 1472, 1372])
        let result = search.result
        #expect(result?.udpPayload == 1372 && result?.ipMTU == 1400)
        #expect(result?.ptbFrom == router && result?.blackHole == false && result?.probes == 3)
        #expect(result?.description == "udp payload 1372 bytes = ip mtu 1400 (ipv4), 3 probes, ptb from 198.18.1.1")
    }

    @Test func losesAloneFindTheSameSizeAndSayBlackHole() {
        let (search, probed) = search(.inet6, 1232...1452, fits: 1352) { _ in .lost }
        let result = search.result
        #expect(result?.udpPayload == 1352 && result?.ipMTU == 1400)
        #expect(result?.blackHole == true && result?.ptbFrom == nil)
        // Each size judged too big was tried three times first.
        let tooBig = Set(probed.filter { $0 > 1352 })
        for size in tooBig { #expect(probed.filter { $0 == size }.count == PathMTUSearch.maximumTries) }
        #expect(probed.count == result?.probes)
    }

    @Test func aPacketTooBigNamingAnMTUAboveTheProbeIsNotBelievedForItsNumber() {
        // Nonsense MTUs (larger than the probe, or below what already fitted) leave a plain binary search.
        let (search, _) = search(.inet, 548...1472, fits: 1000) { size in .tooBig(mtu: size + 500, from: router) }
        #expect(search.result?.udpPayload == 1000)
        #expect(search.result?.blackHole == false)
    }

    @Test func nothingComingBackIsAFailureNotAnAnswer() {
        var search = PathMTUSearch(family: .inet, range: 548...1472)
        for _ in 0..<PathMTUSearch.maximumTries { search.record(size: search.nextSize!, outcome: .lost) }
        #expect(search.nextSize == nil && search.result == nil)
        #expect(search.failure == .nothingCameBack(size: 548, tries: 3))
    }

    @Test func theSmallestSizeTooBigIsAFailure() {
        var search = PathMTUSearch(family: .inet, range: 1400...1472)
        search.record(size: 1400, outcome: .tooBig(mtu: 1280, from: router))
        #expect(search.failure == .smallestTooBig(size: 1400, mtu: 1280))
        #expect(search.failure?.description == "even 1400 bytes are too big (ip mtu 1280): lower --min")
    }

    @Test(arguments: [548, 549, 1000, 1471, 1472])
    func everyPathMTUInTheRangeIsFound(_ fits: Int) {
        let (search, _) = search(.inet, 548...1472, fits: fits) { _ in .lost }
        #expect(search.result?.udpPayload == fits)
        #expect(search.result?.blackHole == (fits < 1472))
    }
}
