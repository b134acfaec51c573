import CTorch

/// Swift element types that map one-to-one onto a `DType`.
public protocol TensorElement: Sendable {
    static var dtype: DType { get }
    init()
}
extension Float: TensorElement { public static var dtype: DType { .float32 } }
extension Double: TensorElement { public static var dtype: DType { .float64 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Int8: TensorElement { public static var dtype: DType { .int8 } }
extension Int16: TensorElement { public static var dtype: DType { .int16 } }
extension Bool: TensorElement { public static var dtype: DType { .bool } }
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    extension Float16: TensorElement { public static var dtype: DType { .float16 } }
#endif

extension Tensor {
    /// A CPU tensor holding a copy of `values` in the given shape (default 1-D).
    public convenience init<T: TensorElement>(_ values: [T], shape: [Int]? = nil) {
        let shape = shape ?? [values.count]
        precondition(
            shape.reduce(1, *) == values.count,
            "Tensor(_:shape:): \(values.count) values do not fill shape \(shape)")
        let sizes = shape.map(Int64.init)
        let h = values.withUnsafeBytes { buf in
            ct_from_data(buf.baseAddress, buf.count, T.dtype.rawValue, sizes, Int64(sizes.count))
        }
        self.init(checking: h)
        _ = tracedConstant()
    }

    /// A 1-D tensor from Swift `Int`s, stored as int64.
    public convenience init(_ values: [Int], shape: [Int]? = nil) {
        self.init(values.map(Int64.init), shape: shape)
    }

    /// A 0-dim tensor.
    public convenience init<T: TensorElement>(scalar: T) {
        self.init([scalar], shape: [])
    }

    /// A CPU tensor from raw little-endian bytes. Throws when the byte count does not match.
    public convenience init(bytes: UnsafeRawBufferPointer, dtype: DType, shape: [Int]) throws {
        let sizes = shape.map(Int64.init)
        guard let h = ct_from_data(bytes.baseAddress, bytes.count, dtype.rawValue, sizes, Int64(sizes.count)) else {
            throw TorchError.invalidArgument(Torch.lastErrorMessage())
        }
        self.init(owning: h)
        _ = tracedConstant()
    }

    /// The elements in row-major order, converted to `T` (the tensor is copied to CPU and cast if needed).
    public func toArray<T: TensorElement>(_: T.Type = T.self) -> [T] {
        tracedRead()
        let src = dtype == T.dtype ? self : to(T.dtype)
        let n = src.count
        var out = [T](repeating: T(), count: n)
        guard n > 0 else { return out }
        let status = out.withUnsafeMutableBytes { ct_copy_to(src.handle, $0.baseAddress, $0.count) }
        Torch.check(status)
        return out
    }

    /// The contiguous little-endian bytes of the tensor (copied to CPU).
    public func bytes() -> [UInt8] {
        tracedRead()
        let n = count * dtype.byteSize
        var out = [UInt8](repeating: 0, count: n)
        guard n > 0 else { return out }
        let status = out.withUnsafeMutableBytes { ct_copy_to(handle, $0.baseAddress, $0.count) }
        Torch.check(status)
        return out
    }

    /// The single value of a one-element tensor as Double.
    public func item() -> Double {
        tracedRead()
        let v = ct_item_double(handle)
        if ct_last_error() != nil { Torch.fail(Torch.lastErrorMessage()) }
        return v
    }

    /// The single value of a one-element tensor as Int.
    public func itemInt() -> Int {
        tracedRead()
        let v = ct_item_int(handle)
        if ct_last_error() != nil { Torch.fail(Torch.lastErrorMessage()) }
        return Int(v)
    }

    /// Float values (any dtype converted), row-major.
    public var floats: [Float] { toArray(Float.self) }
    /// Int values (any dtype converted), row-major.
    public var ints: [Int] { toArray(Int64.self).map(Int.init) }
    /// Bool values, row-major.
    public var bools: [Bool] { toArray(Bool.self) }
}
