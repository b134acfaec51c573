import CTorch

/// The arithmetic precision of forward passes: float32, or mixed precision with libtorch's
/// autocast, where the ops autocast lists (matmul, linear, convolution, bmm, ...) run in bfloat16
/// or float16 and the rest in float32. Parameters stay float32 either way (master weights).
public enum Precision: String, Sendable, CaseIterable, CustomStringConvertible {
    case fp32, bf16, fp16

    /// The dtype autocast runs its listed ops in; nil for fp32 (no autocast).
    public var autocastDType: DType? {
        switch self {
        case .fp32: nil
        case .bf16: .bfloat16
        case .fp16: .float16
        }
    }

    public var description: String { rawValue }
}

/// Runs `body` with autocast on for `device`'s type in `precision` (for `.fp32`, `body` as it is),
/// on the calling thread, and restores the previous autocast state afterwards. Nested regions
/// share autocast's cache of cast weights, which the outermost one clears when it ends.
public func withAutocast<T>(_ precision: Precision, device: Device, _ body: () throws -> T) rethrows -> T {
    guard let dtype = precision.autocastDType else { return try body() }
    let type = device.code.0
    let wasEnabled = ct_autocast_enabled(type)
    let previous = ct_autocast_dtype(type)
    _ = ct_autocast_enter()
    ct_autocast_set(type, true, dtype.rawValue)
    defer {
        ct_autocast_set(type, wasEnabled, previous)
        ct_autocast_exit()
    }
    return try body()
}

/// Runs `body` with autocast off on every device type (a float32 region inside a mixed-precision
/// forward), restoring the previous state afterwards.
public func withoutAutocast<T>(_ body: () throws -> T) rethrows -> T {
    let states = [Int32(0), 1].map { ($0, ct_autocast_enabled($0), ct_autocast_dtype($0)) }
    guard states.contains(where: { $0.1 }) else { return try body() }
    for (type, _, dtype) in states { ct_autocast_set(type, false, dtype) }
    defer { for (type, enabled, dtype) in states { ct_autocast_set(type, enabled, dtype) } }
    return try body()
}

/// Whether autocast is on for `device`'s type on the calling thread.
public func autocastEnabled(on device: Device = .cpu) -> Bool { ct_autocast_enabled(device.code.0) }
