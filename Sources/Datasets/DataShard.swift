/// One process's share of data-parallel training: every global batch (the batch one process
/// would train on with `count` times the per-process batch size) is cut into `count` contiguous
/// parts whose sizes differ by at most one, and part `rank` is this process's. The processes
/// together see exactly the single process's batches, so gradients averaged over them reproduce
/// its step.
public struct DataShard: Sendable, Equatable {
    public let rank: Int
    public let count: Int

    public init(rank: Int, count: Int) throws {
        guard count >= 1, rank >= 0, rank < count else {
            throw TrainingDataError(
                .invalidArgument, file: nil, "shard \(rank) does not exist among \(count) shards")
        }
        self.rank = rank
        self.count = count
    }

    /// This shard's part of `batch`: empty when the batch has fewer elements than there are
    /// shards and this one comes after them.
    public func part<T>(of batch: [T]) -> ArraySlice<T> {
        let base = batch.count / count, extra = batch.count % count
        let start = rank * base + Swift.min(rank, extra)
        return batch[start..<(start + base + (rank < extra ? 1 : 0))]
    }
}
