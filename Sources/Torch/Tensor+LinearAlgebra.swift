import CTorch

extension Tensor {
    /// `torch.matmul` (broadcasting batched matrix product).
    public func matmul(_ other: Tensor) -> Tensor {
        Tensor(checking: ct_matmul(handle, other.handle)).traced(.matmul, [self, other])
    }
    /// Batched matrix product of [B, n, m] and [B, m, p].
    public func bmm(_ other: Tensor) -> Tensor {
        Tensor(checking: ct_bmm(handle, other.handle)).traced(.bmm, [self, other])
    }
    /// beta * self + alpha * (a @ b), batched.
    public func baddbmm(_ a: Tensor, _ b: Tensor, beta: Double = 1, alpha: Double = 1) -> Tensor {
        Tensor(checking: ct_baddbmm(handle, a.handle, b.handle, beta, alpha))
            .traced(.baddbmm(beta: beta, alpha: alpha), [self, a, b])
    }
    /// Pairwise p-norm distances between rows: [.., P, M] x [.., R, M] -> [.., P, R].
    public func cdist(_ other: Tensor, p: Double = 2) -> Tensor {
        Tensor(checking: ct_cdist(handle, other.handle, p)).traced(.cdist(p: p), [self, other])
    }

    /// x @ weight.T + bias. x [.., in], weight [out, in], bias [out].
    ///
    /// Where no input needs a gradient (inference) a float32 CPU product runs through oneDNN's
    /// inner product, which is faster than MKL's sgemm on these machines; the values agree to
    /// float32 rounding. `relu` applies ReLU to the result (inside the same kernel there). Under
    /// autocast an inference product reads the weights' kept copies (`autocastOperand()`).
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, relu: Bool = false) -> Tensor {
        let (w, b) = (weight.autocastOperand(), bias?.autocastOperand())
        let y = withExtendedLifetime((w, b)) {
            relu ? ct_linear_relu(x.handle, w.handle, b?.handle) : ct_linear(x.handle, w.handle, b?.handle)
        }
        return Tensor(checking: y).traced(.linear(activation: relu ? "relu" : nil), [x, weight, bias])
    }

    /// GELU (exact erf form) of x @ weight.T + bias, fused into the product where no input needs a
    /// gradient; values agree with `linear(...).gelu()` to float32 rounding.
    public static func linearGELU(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let (w, b) = (weight.autocastOperand(), bias?.autocastOperand())
        return Tensor(checking: withExtendedLifetime((w, b)) { ct_linear_gelu(x.handle, w.handle, b?.handle) })
            .traced(.linear(activation: "gelu"), [x, weight, bias])
    }

    public static func einsum(_ equation: String, _ tensors: [Tensor]) -> Tensor {
        let hs: [ct_tensor?] = tensors.map { $0.handle }
        return withExtendedLifetime(tensors) {
            Tensor(checking: ct_einsum(equation, hs, Int64(hs.count))).traced(.einsum(equation), tensors)
        }
    }
}

infix operator • : MultiplicationPrecedence
extension Tensor {
    /// Matrix product (`a • b` = `a.matmul(b)`).
    public static func • (a: Tensor, b: Tensor) -> Tensor { a.matmul(b) }
}
