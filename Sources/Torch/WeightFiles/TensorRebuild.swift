/// A storage named by a pickle persistent id `('storage', torch.FloatStorage, key, location, numel)`.
struct StorageRef {
    /// Record key: `archive/data/<key>` in the zip format, a section in the legacy format.
    var key: String
    var dtype: DType
    /// First element of this storage in its key's record (non-zero only for legacy storage views).
    var offset: Int
    /// Number of elements.
    var numel: Int

    /// Elements of the record this storage needs: `offset + numel`, nil on overflow.
    var recordElements: Int? {
        let (end, overflow) = offset.addingReportingOverflow(numel)
        return overflow ? nil : end
    }
}

/// The arguments of `torch._utils._rebuild_tensor_v2`: a strided view of a storage.
struct TensorSpec {
    var storage: StorageRef
    /// Element type of the tensor (the storage's, except for `_rebuild_tensor_v3`).
    var dtype: DType
    var offset: Int
    var size: [Int]
    var stride: [Int]

    /// The largest rank we accept; libtorch kernels stop well below it.
    static let maxRank = 64
    /// The largest view that reads more elements than its storage holds (stride 0, `expand`).
    static let maxRepeatedViewBytes = 1 << 30

    /// Checks that every element of the view lies inside the storage; returns the element count.
    ///
    /// - Returns: the number of elements of the view.
    /// - Throws: a description of the violation (the caller adds file and tensor context).
    func validate() throws -> Int {
        guard size.count == stride.count else {
            throw RebuildFailure("size \(size) and stride \(stride) differ in rank")
        }
        guard size.count <= Self.maxRank else { throw RebuildFailure("rank \(size.count) exceeds \(Self.maxRank)") }
        guard offset >= 0 else { throw RebuildFailure("negative storage offset \(offset)") }
        guard size.allSatisfy({ $0 >= 0 }) else { throw RebuildFailure("negative size in \(size)") }
        guard stride.allSatisfy({ $0 >= 0 }) else { throw RebuildFailure("negative stride in \(stride)") }
        guard dtype == storage.dtype || storage.offset == 0 else {
            throw RebuildFailure("a \(dtype) view of a \(storage.dtype) storage view is not supported")
        }
        let available = try storageElements()
        var count = 1
        var last = offset  // index of the view's last element
        for (n, s) in zip(size, stride) {
            let (c, o1) = count.multipliedReportingOverflow(by: n)
            guard !o1 else { throw RebuildFailure("size \(size) overflows") }
            count = c
            guard n > 0 else { continue }
            let (step, o2) = (n - 1).multipliedReportingOverflow(by: s)
            let (l, o3) = last.addingReportingOverflow(step)
            guard !o2, !o3 else { throw RebuildFailure("size \(size) with stride \(stride) overflows") }
            last = l
        }
        // Zero strides let a view repeat elements; materialising it must not allocate without bound.
        if count > available, count > Self.maxRepeatedViewBytes / dtype.byteSize {
            throw RebuildFailure(
                """
                view of size \(size) repeats its storage of \(available) elements beyond \
                \(Self.maxRepeatedViewBytes >> 20) MiB
                """
            )
        }
        if count == 0 {
            guard offset <= available else {
                throw RebuildFailure("storage offset \(offset) lies outside its storage of \(available) elements")
            }
        } else if last >= available {
            throw RebuildFailure(
                """
                view (offset \(offset), size \(size), stride \(stride)) reads element \(last) of a storage of \
                \(available) elements
                """
            )
        }
        return count
    }

    /// Elements of `dtype` the storage holds.
    func storageElements() throws -> Int {
        if dtype == storage.dtype { return storage.numel }
        let (bytes, overflow) = storage.numel.multipliedReportingOverflow(by: storage.dtype.byteSize)
        guard !overflow else { throw RebuildFailure("storage size overflows") }
        return bytes / dtype.byteSize
    }
}

/// Why a tensor cannot be rebuilt from its storage.
struct RebuildFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The storage records of one file, and the tensors rebuilt from them.
///
/// Two tensors naming the same storage key (tied weights, views) are rebuilt from one shared
/// 1-D storage tensor, as PyTorch does.
final class StorageTable {
    /// Bytes of each storage key (borrowed from the mapped file; valid during the load).
    private let records: [String: UnsafeRawBufferPointer]
    private var storages: [String: Tensor] = [:]

    init(records: [String: UnsafeRawBufferPointer]) {
        self.records = records
    }

    /// Builds the contiguous tensor a `_rebuild_tensor_v2` call describes.
    func tensor(for spec: TensorSpec) throws -> Tensor {
        _ = try spec.validate()
        let base = try storage(spec.storage, as: spec.dtype)
        // Offsets are relative to the record; a legacy storage view starts inside it.
        let (offset, overflow) = spec.offset.addingReportingOverflow(
            spec.dtype == spec.storage.dtype ? spec.storage.offset : 0)
        guard !overflow else { throw RebuildFailure("storage offset overflows") }
        do {
            return try Torch.catching {
                base.asStrided(spec.size, strides: spec.stride, offset: offset).contiguous()
            }
        } catch {
            throw RebuildFailure("\(error)")
        }
    }

    /// The whole record of `ref` as a 1-D tensor of `dtype`.
    private func storage(_ ref: StorageRef, as dtype: DType) throws -> Tensor {
        let cacheKey = "\(ref.key)\u{0}\(dtype)"
        if let cached = storages[cacheKey] { return cached }
        guard let bytes = records[ref.key] else { throw RebuildFailure("storage \(ref.key) is missing") }
        guard let elements = ref.recordElements,
            case let (needed, overflow) = elements.multipliedReportingOverflow(by: ref.dtype.byteSize),
            !overflow, needed <= bytes.count
        else {
            throw RebuildFailure(
                "storage \(ref.key) has \(bytes.count) bytes, fewer than its \(ref.numel) \(ref.dtype) elements need")
        }
        let count = bytes.count / dtype.byteSize
        let slice = UnsafeRawBufferPointer(rebasing: bytes[0..<(count * dtype.byteSize)])
        let tensor: Tensor
        do {
            tensor = try Tensor(bytes: slice, dtype: dtype, shape: [count])
        } catch {
            throw RebuildFailure("storage \(ref.key): \(error)")
        }
        storages[cacheKey] = tensor
        return tensor
    }
}
