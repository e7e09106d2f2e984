// The async layer on SwiftNIO; see issue 4.
