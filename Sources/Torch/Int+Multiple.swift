extension Int {
    /// The smallest multiple of `divisor` (at least 1) not below this value (padded sizes of
    /// batches and windows).
    public func roundedUp(toMultipleOf divisor: Int) -> Int {
        precondition(divisor >= 1, "roundedUp: divisor \(divisor) below 1")
        return (self + divisor - 1) / divisor * divisor
    }
}
