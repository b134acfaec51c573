import TestSupport
import Testing
import Torch

/// Swift arrays in and out of every dtype, casts, dtype metadata and devices.
@Suite struct DTypeDeviceTests {
    static let floats: [Float] = [0, 1, -2.5, 3.25, 1000.5, -0.125]
    static let signed: [Int64] = [0, 1, -2, 3, 100, -7]

    /// `Tensor(swiftArray)` has the same bytes as `torch.tensor(values, dtype=...)` and
    /// `toArray` gives the values back.
    @Test func swiftArraysRoundTripEveryDType() throws {
        func roundTrip<T: TensorElement & Equatable>(_ values: [T], _ name: String) throws {
            let ref = try Ref.get("dtype.values.\(name)")
            let t = Tensor(values, shape: [2, 3])
            expectSame(t, ref, name)
            #expect(ref.toArray(T.self) == values, "\(name): toArray")
            #expect(t.dtype == T.dtype && t.dtype.byteSize == MemoryLayout<T>.size, "\(name)")
        }
        try roundTrip(Self.floats, "float32")
        try roundTrip(Self.floats.map(Double.init), "float64")
        try roundTrip(Self.floats.map(Float16.init), "float16")
        try roundTrip(Self.signed, "int64")
        try roundTrip(Self.signed.map(Int32.init), "int32")
        try roundTrip(Self.signed.map(Int16.init), "int16")
        try roundTrip(Self.signed.map(Int8.init), "int8")
        try roundTrip([0, 1, 2, 3, 200, 255] as [UInt8], "uint8")
        try roundTrip([true, false, true, true, false, false], "bool")
        // bfloat16 has no Swift type: it goes through Float (1000.5 rounds to 1000 in 8 bits).
        let bf = try Ref.get("dtype.values.bfloat16")
        expectSame(Tensor(Self.floats, shape: [2, 3]).to(.bfloat16), bf, "bfloat16")
        #expect(bf.floats == [0, 1, -2.5, 3.25, 1000, -0.125])
        #expect(bf.dtype.byteSize == 2)
    }

    @Test func intAndConvenienceAccessors() {
        let t = Tensor([3, -1, 4])  // Swift Int -> int64
        #expect(t.dtype == .int64 && t.ints == [3, -1, 4] && t.floats == [3, -1, 4])
        #expect(Tensor([1, 0, 2]).bools == [true, false, true])
        #expect(Tensor(scalar: Int64(7)).itemInt() == 7)
        // Non-contiguous tensors come out in logical row-major order.
        let m = Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3]).transpose(0, 1)
        #expect(!m.isContiguous && m.floats == [1, 4, 2, 5, 3, 6])
    }

    /// `src.to(dtype)` equals PyTorch's cast (truncation toward zero, nonzero -> true, rounding to half).
    @Test func castsMatchPyTorch() throws {
        let src = try Ref.get("dtype.cast.src")
        for dtype in DType.allCases {
            try check(src.to(dtype), "dtype.cast.\(dtype)", atol: 0, rtol: 0)
        }
        let ints = try Ref.get("dtype.cast_int.src")
        try check(ints.to(.float32), "dtype.cast_int.float32", atol: 0, rtol: 0)
        try check(ints.to(.bool), "dtype.cast_int.bool")
        try check(ints.to(.float16), "dtype.cast_int.float16", atol: 0, rtol: 0)
    }

    @Test func dtypeMetadata() {
        for dtype in DType.allCases {
            #expect(DType(name: dtype.description) == dtype)
            #expect(Tensor.zeros([3], dtype: dtype).dtype == dtype)
            #expect(Tensor.zeros([3], dtype: dtype).bytes().count == 3 * dtype.byteSize)
        }
        #expect(DType(name: "half") == .float16 && DType(name: "long") == .int64 && DType(name: "complex64") == nil)
        #expect(DType.allCases.filter(\.isFloatingPoint) == [.float32, .float16, .bfloat16, .float64])
    }

    @Test func devices() throws {
        #expect(Device("cpu") == .cpu && Device("cuda") == .cuda(0) && Device("cuda:2") == .cuda(2))
        #expect(Device("gpu") == nil && Device("cuda:-1") == nil)
        #expect(Device.cuda(1).description == "cuda:1" && Device.cpu.description == "cpu")
        let t = Tensor.ones([2])
        #expect(t.device == .cpu)
        #expect(t.to(.cpu).floats == [1, 1])
        if !Device.cudaAvailable {
            #expect(Device.cudaDeviceCount == 0)
            // Moving fails like any other operator: thrown inside Torch.catching, a trap outside.
            #expect(throws: TorchError.self) { _ = try Torch.catching { t.to(.cuda) } }
        } else {
            let g = t.to(.cuda)
            #expect(g.device == .cuda(0) && g.floats == [1, 1])
        }
    }
}

/// Half-precision arithmetic on CPU (the ops libtorch 1.13 implements there) against PyTorch.
@Suite struct HalfPrecisionTests {
    @Test func float16() throws {
        let h = try Ref.get("half.x").to(.float16)
        try check(h + h * 2.5, "half.f16_add", atol: 1e-3, rtol: 1e-3)
        try check(h.sum(dim: 1), "half.f16_sum", atol: 1e-2, rtol: 1e-3)
        try check(h.mean(), "half.f16_mean", atol: 1e-3, rtol: 1e-3)
        try check(Tensor.cat([h, h[0..<1]]), "half.f16_cat", atol: 0, rtol: 0)
        try check(Tensor.where(h .> 0, h, h * 2), "half.f16_where", atol: 0, rtol: 0)
    }

    @Test func bfloat16() throws {
        let b = try Ref.get("half.x").to(.bfloat16)
        try check(b + b * 2.5, "half.bf16_add", atol: 1e-2, rtol: 1e-2)
        try check(b.exp(), "half.bf16_exp", atol: 1e-2, rtol: 1e-2)
        try check(b.sum(dim: 1), "half.bf16_sum", atol: 2e-2, rtol: 1e-2)
        try check(b.relu(), "half.bf16_relu", atol: 0, rtol: 0)
        try check(b.gelu(), "half.bf16_gelu", atol: 1e-2, rtol: 1e-2)
        try check(b.sigmoid(), "half.bf16_sigmoid", atol: 1e-2, rtol: 1e-2)
        try check(b.softmax(dim: -1), "half.bf16_softmax", atol: 1e-2, rtol: 1e-2)
        try check(b.matmul(b.transpose(0, 1)), "half.bf16_mm", atol: 2e-2, rtol: 1e-2)
        try check(
            Functional.layerNorm(b, normalizedShape: [4], weight: nil, bias: nil), "half.bf16_layer_norm",
            atol: 2e-2, rtol: 1e-2)
        try check(
            Functional.conv2d(b.view(1, 1, 3, 4), weight: Ref.get("half.k").to(.bfloat16), padding: (1, 1)),
            "half.bf16_conv", atol: 2e-2, rtol: 1e-2)
    }
}
