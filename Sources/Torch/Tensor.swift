import CTorch

/// An n-dimensional array backed by a libtorch tensor.
///
/// A `Tensor` owns exactly one shim handle and frees it in `deinit`. Operations
/// return new tensors; views (`view`, `slice`, `transpose`, ...) share storage
/// with their source as in PyTorch. `shallowCopy()` makes a second owner of the
/// same tensor (same storage and autograd identity) explicitly.
///
/// Failing operations are programmer errors and trap with libtorch's message,
/// unless they run inside `Torch.catching { }`, which turns the first failure
/// into a thrown `TorchError.libtorch`.
public final class Tensor: @unchecked Sendable {
    @usableFromInline let handle: ct_tensor
    /// The recording (its `generation`) and value that `traceIndex` refers to.
    var traceGeneration: Int32 = 0
    var traceIndex: Int32 = -1
    /// This tensor's copy in autocast's dtype, when it is a weight (`autocastOperand()`).
    var autocastCopy: AutocastCopy?

    /// Takes ownership of a shim handle.
    @usableFromInline init(owning handle: ct_tensor) {
        self.handle = handle
        if let trace = OperationTrace.active { setTraceID(Tensor.poisoned, in: trace) }
    }

    deinit { ct_free(handle) }

    /// A second owner of the same tensor (same storage, same autograd node).
    public func shallowCopy() -> Tensor {
        Tensor(checking: ct_shallow_clone(handle)).traced(.identity, [self], view: true)
    }

    // MARK: metadata

    /// Number of dimensions.
    public var rank: Int { Swift.max(Int(ct_dim(handle)), 0) }

    /// Sizes of each dimension.
    public var shape: [Int] {
        let n = rank
        guard n > 0 else { return [] }
        var out = [Int64](repeating: 0, count: n)
        ct_sizes(handle, &out)
        return out.map(Int.init)
    }

    /// Strides of each dimension, in elements.
    public var strides: [Int] {
        let n = rank
        guard n > 0 else { return [] }
        var out = [Int64](repeating: 0, count: n)
        ct_strides(handle, &out)
        return out.map(Int.init)
    }

    /// Size of dimension `dim` (negative counts from the end).
    public func size(_ dim: Int) -> Int {
        let s = shape
        return s[dim < 0 ? dim + s.count : dim]
    }

    public var count: Int { Swift.max(Int(ct_numel(handle)), 0) }
    public var dtype: DType { DType(rawValue: ct_dtype(handle)) ?? .float32 }
    public var device: Device { Device(code: ct_device_type(handle), index: ct_device_index(handle)) }
    public var isContiguous: Bool { ct_is_contiguous(handle) }
    /// False for the placeholder produced by a failed op inside `Torch.catching`.
    public var isDefined: Bool { ct_defined(handle) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        guard isDefined else { return "Tensor(undefined)" }
        return ct_describe(handle).map { String(cString: $0) } ?? "Tensor(\(shape), \(dtype))"
    }
}

// MARK: - error plumbing

extension Tensor {
    /// Wraps a returned handle, or handles the failure (trap, or record inside `Torch.catching`).
    @usableFromInline convenience init(checking h: ct_tensor?) {
        if let h {
            self.init(owning: h)
        } else {
            Torch.fail(Torch.lastErrorMessage())
            self.init(owning: ct_undefined())
        }
    }
}

/// Global runtime controls and error handling of the engine.
public enum Torch {
    /// Runs `body`; the first libtorch failure inside it is thrown as `TorchError.libtorch`
    /// instead of trapping. Operations after a failure receive undefined tensors and fail
    /// quietly, so `body` should be a short sequence of tensor operations.
    public static func catching<T>(_ body: () throws -> T) throws -> T {
        ct_capture_begin()
        let result: T
        do {
            result = try body()
        } catch {
            _ = ct_capture_end()
            throw error
        }
        if let msg = ct_capture_end() {
            throw TorchError.libtorch(String(cString: msg))
        }
        return result
    }

    @usableFromInline static func lastErrorMessage() -> String {
        ct_last_error().map { String(cString: $0) } ?? "unknown libtorch error"
    }

    /// Records a failure inside a `catching` scope, traps otherwise.
    @usableFromInline static func fail(_ message: String) {
        if ct_capture_depth() > 0 {
            ct_capture_record(message)
        } else {
            fatalError("libtorch: \(message)")
        }
    }

    /// Checks an Int32 status (0 = success) returned by the shim.
    @usableFromInline static func check(_ status: Int32) {
        if status != 0 { fail(lastErrorMessage()) }
    }

    /// libtorch's intra-op thread count (set to the core count at start;
    /// `CTORCH_NUM_THREADS` overrides).
    public static var numThreads: Int {
        get { Int(ct_get_num_threads()) }
        set { ct_set_num_threads(Int32(newValue)) }
    }

    /// Keeps freed tensor memory in the C heap for reuse instead of returning it to the system
    /// (process-wide, glibc). A forward pass allocates and frees the same large blocks every
    /// time; returned blocks cost page faults when touched again (measured in
    /// Benchmarks/detectors/RESULTS.md). Peak resident memory grows a little. The `detr` tool calls this at start; applications embedding the library may.
    /// `MALLOC_MMAP_MAX_`, `MALLOC_TRIM_THRESHOLD_` and `MALLOC_ARENA_MAX` in the environment win.
    /// - Returns: whether any setting was applied.
    @discardableResult public static func keepFreedMemory() -> Bool { ct_keep_freed_memory() > 0 }

    /// Returns the C heap's free memory to the system (glibc `malloc_trim`): for a long-running
    /// process after work that needed much more memory than usual (a very large image), which
    /// `keepFreedMemory` would otherwise keep for good. Takes the heap's lock for a few
    /// milliseconds. - Returns: whether memory was released.
    @discardableResult public static func releaseFreedMemory() -> Bool { ct_release_free_memory() > 0 }

    /// Seeds libtorch's global generator.
    public static func manualSeed(_ seed: UInt64) { ct_manual_seed(seed) }

    /// CRC-32 (zip polynomial) of a byte buffer, continuing from `crc`.
    public static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        ct_crc32(crc, bytes.baseAddress, bytes.count)
    }

    /// SHA-256 digest of a byte buffer.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        ct_sha256(bytes.baseAddress, bytes.count, &out)
        return out
    }
}
