import Graphics
import Testing

/// Nice tick values and their labels, against values worked out by hand.
struct TicksTests {
    @Test func niceSteps() {
        // The closest by ratio: 0.23 is 1.15 × 0.2 but 0.46 × 0.5.
        #expect(Ticks.niceStep(0.23) == 0.2)
        #expect(Ticks.niceStep(0.2) == 0.2)
        #expect(Ticks.niceStep(0.4) == 0.5)
        #expect(Ticks.niceStep(3) == 2)
        #expect(Ticks.niceStep(3.5) == 5)
        #expect(Ticks.niceStep(8) == 10)
        #expect(Ticks.niceStep(0.0007) == 0.0005)
        #expect(Ticks.niceStep(1200) == 1000)
    }

    @Test func ticksCoverTheRangeAtMultiplesOfTheStep() {
        let unit = Ticks(covering: 0...1, count: 5)
        #expect(unit.step == 0.2)
        #expect(unit.values == [0, 0.2, 0.4, 0.6, 0.8, 1])
        // 0.3 is 0.3, not 3 × 0.1 = 0.30000000000000004.
        #expect(Ticks(covering: 0.25...0.75, count: 5).values == [0.3, 0.4, 0.5, 0.6, 0.7])
        #expect(Ticks(covering: -3...7, count: 5).values == [-2, 0, 2, 4, 6])
        #expect(Ticks.niceRange(0.13...0.87) == 0...1)
        #expect(Ticks.niceRange(12...97, count: 4) == 0...100)
        // A single value gets a window around it.
        #expect(Ticks.niceRange(5...5) == 4.4...5.6)
    }

    @Test func labels() {
        #expect(Ticks.label(0.4, step: 0.2) == "0.4")
        #expect(Ticks.label(0.25, step: 0.05) == "0.25")
        #expect(Ticks.label(250, step: 50) == "250")
        #expect(Ticks.label(20000, step: 5000) == "20k")
        #expect(Ticks.label(1500, step: 500) == "1500")
        #expect(Ticks.label(2e-5, step: 1e-5) == "2e-5")
        #expect(Ticks.label(1.5e-4, step: 5e-5) == "1.5e-4")
        #expect(Ticks.label(1e-4, step: 5e-5) == "1e-4")
        #expect(Ticks.label(0, step: 5e-5) == "0")
        #expect(Ticks.label(6e-4, step: 2e-4) == "0.0006")
    }
}
