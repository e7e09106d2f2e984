import ArgumentParser
import UDPPatterns

/// A probability written `0.2` or `20%`, checked to lie in 0…1.
struct Probability: ExpressibleByArgument, CustomStringConvertible {
    var value: Double

    init(_ value: Double) { self.value = value }

    init?(argument: String) {
        let percent = argument.hasSuffix("%")
        guard let number = Double(percent ? String(argument.dropLast()) : argument), number.isFinite else {
            return nil
        }
        let value = percent ? number / 100 : number
        guard (0...1).contains(value) else { return nil }
        self.value = value
    }

    var description: String { NumberFormat.percent(value * 100) + "%" }
    static var defaultCompletionKind: CompletionKind { .default }
}
