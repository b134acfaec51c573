/// numpy's float64 `add.reduce` (`np.sum`, `np.mean`): pairwise summation with 8-way
/// unrolled blocks of up to 128 values, so the summary means are bit-identical to
/// pycocotools' `np.mean(s[s > -1])`, not just close.
enum PairwiseSum {
    static func sum(_ values: [Double]) -> Double {
        values.withUnsafeBufferPointer { sum($0.baseAddress!, values.count) }
    }

    private static func sum(_ a: UnsafePointer<Double>, _ n: Int) -> Double {
        if n < 8 {
            var result = -0.0
            for i in 0..<n { result += a[i] }
            return result
        }
        if n <= 128 {
            var r = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])
            var i = 8
            while i < n - n % 8 {
                r.0 += a[i]; r.1 += a[i + 1]; r.2 += a[i + 2]; r.3 += a[i + 3]
                r.4 += a[i + 4]; r.5 += a[i + 5]; r.6 += a[i + 6]; r.7 += a[i + 7]
                i += 8
            }
            var result = ((r.0 + r.1) + (r.2 + r.3)) + ((r.4 + r.5) + (r.6 + r.7))
            while i < n {
                result += a[i]
                i += 1
            }
            return result
        }
        var half = n / 2
        half -= half % 8
        return sum(a, half) + sum(a + half, n - half)
    }
}
