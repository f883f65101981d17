import Testing
@testable import OvercommitSupport

/// Console and report figures: binary units by size, three significant digits.
@Suite struct HumanUnitsTests {
    @Test func threeSignificantDigitsWithoutTrailingZeros() {
        #expect(HumanUnits.significant(1.8418) == "1.84")
        #expect(HumanUnits.significant(27.583) == "27.6")
        #expect(HumanUnits.significant(140.86) == "141")
        #expect(HumanUnits.significant(2.0) == "2")
        #expect(HumanUnits.significant(1.50) == "1.5")
        #expect(HumanUnits.significant(0.0123456) == "0.0123")
        #expect(HumanUnits.significant(7_875_719) == "7875719")
        #expect(HumanUnits.significant(0) == "0")
        #expect(HumanUnits.significant(-3.14159) == "-3.14")
        #expect(HumanUnits.significant(.infinity) == "inf")
    }

    @Test func memoryInTheLargestUnitItReaches() {
        #expect(HumanUnits.memory(kilobytes: 0) == "0B")
        #expect(HumanUnits.memory(kilobytes: 4) == "4KiB")
        #expect(HumanUnits.memory(kilobytes: 565_248) == "552MiB")
        #expect(HumanUnits.memory(kilobytes: 2 * 1024 * 1024) == "2GiB")
        #expect(HumanUnits.memory(kilobytes: 524_288 * 1024) == "512GiB")  // not "524288.0MiB"
        #expect(HumanUnits.memory(kilobytes: 1_532_340) == "1.46GiB")
        #expect(HumanUnits.memory(kilobytes: 1_046_528) == "1022MiB")  // under 1 GiB stays in MiB
        #expect(HumanUnits.memory(kilobytes: 3 * 1024 * 1024 * 1024) == "3TiB")
        #expect(HumanUnits.memory(kilobytes: 89_907, separator: " ") == "87.8 MiB")
    }

    @Test func durationsInSecondsDownToNanoseconds() {
        #expect(HumanUnits.duration(seconds: 20) == "20s")
        #expect(HumanUnits.duration(seconds: 3.15) == "3.15s")
        #expect(HumanUnits.duration(seconds: 0.0301) == "30.1ms")
        #expect(HumanUnits.duration(seconds: 2.7583e-6) == "2.76us")
        #expect(HumanUnits.duration(seconds: 184.18e-9) == "184ns")
        #expect(HumanUnits.duration(seconds: 0) == "0s")
    }
}
