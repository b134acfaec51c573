import CTorch

extension Tensor {
    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        let s = shape.map(Int64.init), d = device.code
        return Tensor(checking: ct_zeros(s, Int64(s.count), dtype.rawValue, d.0, d.1)).traced(.full(.int(0)), [])
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        let s = shape.map(Int64.init), d = device.code
        return Tensor(checking: ct_ones(s, Int64(s.count), dtype.rawValue, d.0, d.1)).traced(.full(.int(1)), [])
    }

    public static func full(
        _ shape: [Int], _ value: some TensorScalar, dtype: DType = .float32,
        device: Device = .cpu
    ) -> Tensor {
        let s = shape.map(Int64.init), d = device.code
        return Tensor(checking: ct_full(s, Int64(s.count), value.ctScalar, dtype.rawValue, d.0, d.1))
            .traced(.full(TracedScalar(value.ctScalar)), [])
    }

    /// Uninitialised memory (contents are arbitrary).
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        let s = shape.map(Int64.init), d = device.code
        return Tensor(checking: ct_empty(s, Int64(s.count), dtype.rawValue, d.0, d.1)).traced(.unsupported("empty"), [])
    }

    /// Values in `[start, end)` by `step` (int64 by default, as `torch.arange` with integers).
    public static func arange(
        _ start: Int = 0, _ end: Int, step: Int = 1, dtype: DType = .int64,
        device: Device = .cpu
    ) -> Tensor {
        let d = device.code
        return Tensor(checking: ct_arange(start.ctScalar, end.ctScalar, step.ctScalar, dtype.rawValue, d.0, d.1))
            .tracedConstant()
    }

    /// Values `0..<end` (`torch.arange(end)`).
    public static func arange(_ end: Int, dtype: DType = .int64, device: Device = .cpu) -> Tensor {
        arange(0, end, dtype: dtype, device: device)
    }

    /// Floating `arange` (`torch.arange(0.5, 4.0, 0.5)`).
    public static func arange(
        from start: Double, to end: Double, step: Double = 1, dtype: DType = .float32,
        device: Device = .cpu
    ) -> Tensor {
        let d = device.code
        return Tensor(checking: ct_arange(start.ctScalar, end.ctScalar, step.ctScalar, dtype.rawValue, d.0, d.1))
            .tracedConstant()
    }

    public static func linspace(
        _ start: Double, _ end: Double, steps: Int, dtype: DType = .float32,
        device: Device = .cpu
    ) -> Tensor {
        let d = device.code
        return Tensor(checking: ct_linspace(start, end, Int64(steps), dtype.rawValue, d.0, d.1)).tracedConstant()
    }

    public static func eye(_ n: Int, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        let d = device.code
        return Tensor(checking: ct_eye(Int64(n), dtype.rawValue, d.0, d.1)).tracedConstant()
    }

    /// Standard normal samples.
    public static func randn(
        _ shape: [Int], generator: Generator? = nil, dtype: DType = .float32,
        device: Device = .cpu
    ) -> Tensor {
        sampled(ct_randn, "randn", shape, generator, dtype, device)
    }

    /// Uniform samples in [0, 1).
    public static func rand(
        _ shape: [Int], generator: Generator? = nil, dtype: DType = .float32,
        device: Device = .cpu
    ) -> Tensor {
        sampled(ct_rand, "rand", shape, generator, dtype, device)
    }

    /// Samples of a shim sampler (shape, generator, dtype, device) that a recording cannot hold.
    private static func sampled(
        _ sampler: (UnsafePointer<Int64>?, Int64, ct_generator?, Int32, Int32, Int32) -> ct_tensor?, _ name: String,
        _ shape: [Int], _ generator: Generator?, _ dtype: DType, _ device: Device
    ) -> Tensor {
        let s = shape.map(Int64.init), d = device.code
        return Tensor(checking: sampler(s, Int64(s.count), generator?.handle, dtype.rawValue, d.0, d.1))
            .traced(.unsupported(name), [])
    }

    /// Integers uniform in [low, high).
    public static func randint(
        _ low: Int, _ high: Int, _ shape: [Int], generator: Generator? = nil,
        dtype: DType = .int64, device: Device = .cpu
    ) -> Tensor {
        let s = shape.map(Int64.init), d = device.code
        return Tensor(
            checking: ct_randint(
                Int64(low), Int64(high), s, Int64(s.count), generator?.handle,
                dtype.rawValue, d.0, d.1)
        ).traced(.unsupported("randint"), [])
    }

    /// A random permutation of 0..<n (int64).
    public static func randperm(_ n: Int, generator: Generator? = nil, device: Device = .cpu) -> Tensor {
        let d = device.code
        return Tensor(checking: ct_randperm(Int64(n), generator?.handle, d.0, d.1)).traced(.unsupported("randperm"), [])
    }

    /// Bernoulli draws with probabilities `self`.
    public func bernoulli(generator: Generator? = nil) -> Tensor {
        Tensor(checking: ct_bernoulli(handle, generator?.handle)).traced(.unsupported("bernoulli"), [self])
    }

    /// Fills in place with uniform samples in [from, to).
    @discardableResult
    public func uniform_(_ from: Double, _ to: Double, generator: Generator? = nil) -> Tensor {
        Tensor(checking: ct_uniform_(handle, from, to, generator?.handle))
            .tracedInPlace(.unsupported("uniform_"), on: self, [self])
    }

    /// Fills in place with normal samples.
    @discardableResult
    public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) -> Tensor {
        Tensor(checking: ct_normal_(handle, mean, std, generator?.handle))
            .tracedInPlace(.unsupported("normal_"), on: self, [self])
    }

    public func zerosLike() -> Tensor { Tensor(checking: ct_zeros_like(handle)).traced(.full(.int(0)), []) }
    public func onesLike() -> Tensor { Tensor(checking: ct_ones_like(handle)).traced(.full(.int(1)), []) }
    public func fullLike(_ value: some TensorScalar) -> Tensor {
        Tensor(checking: ct_full_like(handle, value.ctScalar)).traced(.full(TracedScalar(value.ctScalar)), [])
    }

    // MARK: conversion

    public func to(_ dtype: DType) -> Tensor {
        Tensor(checking: ct_to_dtype(handle, dtype.rawValue)).traced(.cast(dtype), [self], view: self.dtype == dtype)
    }

    /// Moves to a device. Fails like any other operator (a trap with libtorch's message, or a
    /// thrown `TorchError` inside `Torch.catching`) when the device is not available; tools check
    /// availability once, where the model is built (`ParameterStore(dtype:device:)` throws).
    public func to(_ device: Device) -> Tensor {
        let d = device.code
        return Tensor(checking: ct_to_device(handle, d.0, d.1)).traced(.identity, [self], view: self.device == device)
    }

    public func contiguous() -> Tensor {
        Tensor(checking: ct_contiguous(handle)).traced(.identity, [self], view: isContiguous)
    }
    /// A copy with its own storage (keeps autograd history, like `torch.clone`).
    public func clone() -> Tensor { Tensor(checking: ct_clone(handle)).traced(.identity, [self]) }
}
