/// Optimal assignment for rectangular cost matrices (minimum total cost), with the
/// semantics of `scipy.optimize.linear_sum_assignment`: every row is assigned when
/// rows ≤ columns (every column otherwise), results are ordered by row index, and the
/// shortest-augmenting-path algorithm (Crouse 2016, as scipy uses) picks the same
/// solution among equal-cost ties.
public enum LinearSumAssignment {
    /// A cost matrix that cannot be solved.
    public struct InvalidCost: Error, CustomStringConvertible, Equatable {
        public var row: Int
        public var column: Int
        public var value: Double

        public init(row: Int, column: Int, value: Double) {
            self.row = row
            self.column = column
            self.value = value
        }

        public var description: String {
            "cost matrix has a non-finite entry \(value) at prediction \(row), target \(column)"
        }
    }

    /// - Parameters:
    ///   - cost: row-major `rows × columns` costs (e.g. predictions × targets).
    /// - Returns: matched (row, column) index pairs, sorted by row.
    /// - Throws: `InvalidCost` naming the first NaN or infinite entry.
    public static func solve(cost: [Double], rows: Int, columns: Int) throws -> [(row: Int, column: Int)] {
        precondition(cost.count == rows * columns, "LinearSumAssignment: \(cost.count) costs for \(rows)x\(columns)")
        if let bad = cost.firstIndex(where: { !$0.isFinite }) {
            throw InvalidCost(row: bad / columns, column: bad % columns, value: cost[bad])
        }
        if rows == 0 || columns == 0 { return [] }
        let transpose = rows > columns
        let nr = transpose ? columns : rows, nc = transpose ? rows : columns
        var c = [Double](repeating: 0, count: nr * nc)
        for i in 0..<rows {
            for j in 0..<columns {
                if transpose { c[j * nc + i] = cost[i * columns + j] } else { c[i * nc + j] = cost[i * columns + j] }
            }
        }
        let col4row = solveWide(c, nr: nr, nc: nc)
        if transpose {
            // col4row maps each (original) column to its row; report sorted by row.
            return (0..<nr).map { (row: col4row[$0], column: $0) }.sorted { $0.row < $1.row }
        }
        return (0..<nr).map { (row: $0, column: col4row[$0]) }
    }

    /// Shortest augmenting path for nr ≤ nc. Returns the column of each row.
    private static func solveWide(_ cost: [Double], nr: Int, nc: Int) -> [Int] {
        var u = [Double](repeating: 0, count: nr), v = [Double](repeating: 0, count: nc)
        var shortest = [Double](repeating: 0, count: nc)
        var path = [Int](repeating: -1, count: nc)
        var col4row = [Int](repeating: -1, count: nr), row4col = [Int](repeating: -1, count: nc)
        var sr = [Bool](repeating: false, count: nr), sc = [Bool](repeating: false, count: nc)
        var remaining = [Int](repeating: 0, count: nc)
        for current in 0..<nr {
            var minVal = 0.0
            var numRemaining = nc
            for it in 0..<nc { remaining[it] = nc - it - 1 }
            for i in 0..<nr { sr[i] = false }
            for j in 0..<nc { sc[j] = false; shortest[j] = .infinity }
            var sink = -1
            var i = current
            while sink == -1 {
                var index = -1
                var lowest = Double.infinity
                sr[i] = true
                let rowBase = i * nc
                for it in 0..<numRemaining {
                    let j = remaining[it]
                    let r = minVal + cost[rowBase + j] - u[i] - v[j]
                    if r < shortest[j] {
                        path[j] = i
                        shortest[j] = r
                    }
                    // Among equal minima prefer a free column: it ends the search (scipy's rule).
                    if shortest[j] < lowest || (shortest[j] == lowest && row4col[j] == -1) {
                        lowest = shortest[j]
                        index = it
                    }
                }
                minVal = lowest
                let j = remaining[index]  // finite costs: always found
                if row4col[j] == -1 { sink = j } else { i = row4col[j] }
                sc[j] = true
                numRemaining -= 1
                remaining[index] = remaining[numRemaining]
            }
            u[current] += minVal
            for r in 0..<nr where sr[r] && r != current { u[r] += minVal - shortest[col4row[r]] }
            for j in 0..<nc where sc[j] { v[j] -= minVal - shortest[j] }
            var j = sink
            while true {
                let r = path[j]
                row4col[j] = r
                swap(&col4row[r], &j)
                if r == current { break }
            }
        }
        return col4row
    }
}
