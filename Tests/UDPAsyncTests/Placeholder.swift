import Testing

@Test func asyncPlaceholder() { #expect(Bool(true)) }
