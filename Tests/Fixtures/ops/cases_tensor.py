"""Creation, random numbers, dtypes, promotion and elementwise math."""
import math

import torch
import torch.nn.functional as F

from refs import gen, put, put_all, rand, randn


# ---------------------------------------------------------------- creation, random
def creation():
    put("creation.arange_int", torch.arange(2, 17, 3))
    put("creation.arange_end", torch.arange(5))
    put("creation.arange_float", torch.arange(0.5, 4.0, 0.5))
    put("creation.linspace", torch.linspace(-1, 1, 7))
    put("creation.linspace_f64", torch.linspace(0, 1, 5, dtype=torch.float64))
    put("creation.full", torch.full((2, 3), 2.5))
    put("creation.full_int32", torch.full((2, 2), 7, dtype=torch.int32))
    put("creation.eye", torch.eye(3))
    put("creation.randn_seed42", torch.randn(3, 5, generator=gen(42)))       # < 16 values: scalar path
    put("creation.randn_seed42_big", torch.randn(4, 8, generator=gen(42)))   # >= 16 values: vector path
    put("creation.randn_f64_seed42", torch.randn(20, dtype=torch.float64, generator=gen(42)))
    put("creation.rand_seed7", torch.rand(4, 3, generator=gen(7)))
    put("creation.randint_seed3", torch.randint(0, 10, (6,), generator=gen(3)))
    put("creation.randint_i32_seed3", torch.randint(-5, 5, (2, 4), generator=gen(3), dtype=torch.int32))
    put("creation.randperm_seed5", torch.randperm(8, generator=gen(5)))
    put("creation.normal_seed11", torch.empty(5).normal_(2.0, 0.5, generator=gen(11)))
    put("creation.uniform_seed11", torch.empty(5).uniform_(-1, 1, generator=gen(11)))
    p = rand(10)
    put("creation.bernoulli.p", p)
    put("creation.bernoulli_seed9", torch.bernoulli(p, generator=gen(9)))
    # randn twice from one generator: the second draw continues the stream
    g = gen(1)
    torch.randn(6, generator=g)
    put("creation.randn_seed1_second", torch.randn(6, generator=g))
    # F.dropout draws from the default generator; the Swift side passes Generator(seed: 123)
    x = randn(4, 6)
    put("creation.dropout.x", x)
    torch.manual_seed(123)
    put("creation.dropout_p03_seed123", F.dropout(x, 0.3, training=True))


# ---------------------------------------------------------------- dtypes, promotion
DTYPES = {
    "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
    "float64": torch.float64, "int64": torch.int64, "int32": torch.int32, "uint8": torch.uint8,
    "bool": torch.bool, "int8": torch.int8, "int16": torch.int16,
}


def dtypes():
    floats = [0.0, 1.0, -2.5, 3.25, 1000.5, -0.125]
    signed = [0, 1, -2, 3, 100, -7]
    for name, dt in DTYPES.items():
        if dt.is_floating_point:
            v = floats
        elif dt == torch.uint8:
            v = [0, 1, 2, 3, 200, 255]
        elif dt == torch.bool:
            v = [True, False, True, True, False, False]
        else:
            v = signed
        put(f"dtype.values.{name}", torch.tensor(v, dtype=dt).reshape(2, 3))
    src = torch.tensor([0.0, 0.5, 1.7, 2.6, 100.25, 126.9])
    put("dtype.cast.src", src)
    for name, dt in DTYPES.items():
        put(f"dtype.cast.{name}", src.to(dt))
    ints = torch.tensor([-3, 0, 5])
    put("dtype.cast_int.src", ints)
    put("dtype.cast_int.float32", ints.to(torch.float32))
    put("dtype.cast_int.bool", ints.to(torch.bool))
    put("dtype.cast_int.float16", ints.to(torch.float16))


def half_precision():
    """Ops that libtorch 1.13 implements on CPU for float16 (few) and bfloat16 (most)."""
    x, k = randn(3, 4), randn(2, 1, 3, 3)
    put_all("half", x=x, k=k)
    h = x.half()
    put("half.f16_add", h + h * 2.5)
    put("half.f16_sum", h.sum(1))
    put("half.f16_mean", h.mean())
    put("half.f16_cat", torch.cat([h, h[:1]]))
    put("half.f16_where", torch.where(h > 0, h, h * 2))
    b = x.bfloat16()
    put("half.bf16_add", b + b * 2.5)
    put("half.bf16_exp", b.exp())
    put("half.bf16_sum", b.sum(1))
    put("half.bf16_relu", F.relu(b))
    put("half.bf16_gelu", F.gelu(b))
    put("half.bf16_sigmoid", torch.sigmoid(b))
    put("half.bf16_softmax", b.softmax(-1))
    put("half.bf16_mm", b @ b.t())
    put("half.bf16_layer_norm", F.layer_norm(b, (4,)))
    put("half.bf16_conv", F.conv2d(b.view(1, 1, 3, 4), k.bfloat16(), padding=1))


def promotion():
    i64 = torch.tensor([1, 2, 3])
    i32 = torch.tensor([1, 2, 3], dtype=torch.int32)
    u8 = torch.tensor([250, 3], dtype=torch.uint8)
    f16 = torch.tensor([1.5, -2.0], dtype=torch.float16)
    bf16 = torch.tensor([1.5, -2.0], dtype=torch.bfloat16)
    f32 = torch.tensor([1.5, 2.5])
    f64 = torch.tensor([1.5, 2.5], dtype=torch.float64)
    b = torch.tensor([True, False])
    put("promo.i64_plus_float", i64 + 2.5)
    put("promo.i32_times_int", i32 * 2)
    put("promo.u8_plus_int", u8 + 10)
    put("promo.f16_times_float", f16 * 2.5)
    put("promo.bf16_plus_float", bf16 + 0.25)
    put("promo.bool_plus_int", b + 1)
    put("promo.i64_div_int", i64 / 2)
    put("promo.f32_plus_f64_0d", f32 + torch.tensor(1.25, dtype=torch.float64))
    put("promo.f32_plus_f64_1d", f32 + torch.tensor([1.25], dtype=torch.float64))
    put("promo.i32_plus_i64", i32 + i64)
    put("promo.u8_plus_i8", u8 + torch.tensor([1, -1], dtype=torch.int8))
    put("promo.f64_times_float", f64 * 0.1)
    put("promo.f16_plus_f32", f16 + f32)
    put("promo.int_rsub_i32", 10 - i32)
    put("promo.float_rdiv_i64", 3 / i64)
    put("promo.i64_pow_int", i64 ** 2)
    put("promo.i64_eq_float", i64 == 2.0)
    put("promo.i32_lt_float", i32 < 2.5)
    put("promo.i64_mul_bool_tensor", i64[:2] * b)
    n = torch.tensor([-7, 7, -8])
    put("promo.floor_divide", torch.div(n, 2, rounding_mode="floor"))
    put("promo.trunc_divide", torch.div(n, 2, rounding_mode="trunc"))
    put("promo.remainder_int", n % 3)
    put("promo.remainder_float", torch.tensor([-7.5, 7.5]) % 2)


# ---------------------------------------------------------------- arithmetic and math
def arithmetic():
    a, b, c = randn(3, 4), randn(4), randn(2, 1, 4)
    pos = rand(3, 4) + 0.1
    d = b.abs() + 0.5
    put_all("arith", a=a, b=b, c=c, pos=pos, d=d)
    put("arith.add", a + b)
    put("arith.sub", a - b)
    put("arith.mul", a * b)
    put("arith.div", a / d)
    put("arith.broadcast", a + c)
    put("arith.pow", pos ** b)
    put("arith.pow_float", pos ** 2.5)
    put("arith.pow_int", a ** 2)
    put("arith.maximum", torch.maximum(a, b))
    put("arith.minimum", torch.minimum(a, b))
    put("arith.atan2", torch.atan2(a, b))
    put("arith.eq", a == a.round())
    put("arith.ne", a != b)
    put("arith.lt", a < b)
    put("arith.le", a <= b)
    put("arith.gt", a > b)
    put("arith.ge", a >= 0.0)
    put("arith.add_s", a + 2)
    put("arith.sub_s", a - 0.5)
    put("arith.mul_s", a * 3)
    put("arith.div_s", a / 4)
    put("arith.radd", 1.5 + a)
    put("arith.rsub", 2 - a)
    put("arith.rmul", 2 * a)
    put("arith.rdiv", 3 / pos)
    put("arith.neg", -a)
    for name in ["abs", "exp", "sin", "cos", "tanh", "floor", "ceil", "trunc", "sign", "expm1", "erf", "atan",
                 "square"]:
        put(f"arith.{name}", getattr(torch, name)(a))
    for name in ["log", "sqrt", "rsqrt", "reciprocal", "log1p", "log2"]:
        put(f"arith.{name}", getattr(torch, name)(pos))
    halves = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6])
    put("arith.round.x", halves)
    put("arith.round", torch.round(halves))
    put("arith.clamp", a.clamp(-0.5, 0.5))
    put("arith.clamp_min", a.clamp(min=0))
    put("arith.clamp_max", a.clamp(max=0.2))
    put("arith.lerp", torch.lerp(a, b.expand(3, 4), 0.3))
    m1, m2 = a > 0, b > 0
    put("arith.and", m1 & m2)
    put("arith.or", m1 | m2)
    put("arith.xor", m1 ^ m2)
    put("arith.not", ~m1)
    special = torch.tensor([1.0, math.nan, math.inf, -math.inf])
    put("arith.special", special)
    put("arith.isnan", special.isnan())
    put("arith.isinf", special.isinf())
    put("arith.isfinite", special.isfinite())
    put("arith.add_alpha_", a.clone().add_(b, alpha=0.5))
    put("arith.addcmul_", a.clone().addcmul_(pos, b, value=0.3))
    put("arith.addcdiv_", a.clone().addcdiv_(b, pos, value=0.3))
    put("arith.mul_inplace", a.clone().mul_(b))
    put("arith.masked_fill_", a.clone().masked_fill_(a > 0.5, -1.0))
    put("arith.bitwise_not", ~torch.tensor([0, 5, -3], dtype=torch.int32))
    # DETR's util.misc.inverse_sigmoid (eps 1e-5), including values outside [0, 1]
    p = torch.tensor([0.0, 1e-7, 0.25, 0.5, 0.9, 1.0, 1.2, -0.1])
    pc = p.clamp(min=0, max=1)
    put("arith.inverse_sigmoid.x", p)
    put("arith.inverse_sigmoid", torch.log(pc.clamp(min=1e-5) / (1 - pc).clamp(min=1e-5)))
