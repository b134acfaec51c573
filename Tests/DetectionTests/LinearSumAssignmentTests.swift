import Detection
import Foundation
import TestSupport
import Testing

@Suite struct LinearSumAssignmentTests {
    struct Case: Decodable { var rows: Int; var cols: Int; var cost: [Double]; var row: [Int]; var col: [Int] }
    struct File: Decodable { var cases: [Case] }

    /// Same indices as scipy, including integer matrices full of ties.
    @Test func matchesScipy() throws {
        let file = try JSONDecoder().decode(
            File.self, from: Data(contentsOf: TestSupport.localFixture("matching/cases.json")))
        #expect(file.cases.count >= 30)
        for (n, c) in file.cases.enumerated() {
            let r = try LinearSumAssignment.solve(cost: c.cost, rows: c.rows, columns: c.cols)
            #expect(r.map(\.row) == c.row, "case \(n) rows")
            #expect(r.map(\.column) == c.col, "case \(n) cols")
        }
    }

    @Test func optimalOnSmallExhaustive() throws {
        var state: UInt64 = 99
        func rnd() -> Double { state = state &* 6364136223846793005 &+ 1; return Double(state >> 40) / Double(1 << 24) }
        func perms(_ n: Int) -> [[Int]] {
            n == 0
                ? [[]]
                : perms(n - 1).flatMap { p in
                    (0...p.count).map {
                        var q = p; q.insert(n - 1, at: $0); return q
                    }
                }
        }
        for _ in 0..<50 {
            let n = 5
            let cost = (0..<(n * n)).map { _ in rnd() }
            let best = perms(n).map { p in (0..<n).reduce(0.0) { $0 + cost[$1 * n + p[$1]] } }.min()!
            let r = try LinearSumAssignment.solve(cost: cost, rows: n, columns: n)
            let total = r.reduce(0.0) { $0 + cost[$1.row * n + $1.column] }
            #expect(abs(total - best) < 1e-12)
        }
    }

    @Test func nonFiniteCostsAreNamed() {
        #expect(throws: LinearSumAssignment.InvalidCost(row: 1, column: 0, value: .infinity)) {
            try LinearSumAssignment.solve(cost: [0, 1, .infinity, 2], rows: 2, columns: 2)
        }
        do {
            _ = try LinearSumAssignment.solve(cost: [0, .nan], rows: 1, columns: 2)
        } catch {
            #expect("\(error)".contains("prediction 0") && "\(error)".contains("target 1"))
        }
    }
}
