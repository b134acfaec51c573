/*
 * ctorch.h — the plain C interface of swift-detr's libtorch shim.
 *
 * Rules of the boundary:
 *  - Tensors are opaque handles (ct_tensor). Every function that returns a
 *    handle returns a new, owned handle; the caller frees it with ct_free.
 *  - No C++ exception crosses this boundary. A failing call returns NULL
 *    (or -1 / 0 for functions that return counts/flags) and stores the
 *    libtorch message in a thread-local slot read by ct_last_error().
 *  - It is compiled as C++20 against libtorch 2.x (2.13.0 by default: scripts/fetch_libtorch.sh).
 */
#ifndef CTORCH_H
#define CTORCH_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_tensor_s *ct_tensor;
typedef struct ct_generator_s *ct_generator;

/* dtype codes (stable, ours; not at::ScalarType values) */
enum {
  CT_FLOAT32 = 0, CT_FLOAT16 = 1, CT_BFLOAT16 = 2, CT_FLOAT64 = 3,
  CT_INT64 = 4, CT_INT32 = 5, CT_UINT8 = 6, CT_BOOL = 7, CT_INT8 = 8, CT_INT16 = 9
};
/* device type codes */
enum { CT_CPU = 0, CT_CUDA = 1 };

/* A scalar argument: integral when is_int != 0 (uses i), else floating (uses d). */
typedef struct { double d; int64_t i; int32_t is_int; } ct_scalar;

/* ---- runtime ---------------------------------------------------------- */
const char *ct_last_error(void);          /* NULL when the last call succeeded */
void ct_clear_error(void);
/* Error-capture scopes (thread-local) used by Swift's Torch.catching { }: inside one,
   Swift records the first failure instead of trapping. */
void ct_capture_begin(void);
const char *ct_capture_end(void);          /* first recorded message or NULL; valid until next begin */
int32_t ct_capture_depth(void);
void ct_capture_record(const char *msg);   /* keeps only the first message of the scope */
/* Process-wide: keep freed memory in the C heap for reuse instead of returning it to the system
   (glibc: no mmap for large blocks, no trimming, one arena), unless MALLOC_* variables say
   otherwise. Returns how many settings were applied (0 where the C library is not glibc). */
int32_t ct_keep_freed_memory(void);
int32_t ct_release_free_memory(void);
/* This process gets SIGTERM when its parent (which must be parent_pid) exits; raised at once
   when the parent is already gone. Linux only: -1 elsewhere. */
int32_t ct_exit_with_parent(int32_t parent_pid);
void ct_set_num_threads(int32_t n);
int32_t ct_get_num_threads(void);
void ct_manual_seed(uint64_t seed);
bool ct_cuda_available(void);
/* The linked libtorch's own description (at::show_config(): version, BLAS, oneDNN, OpenMP, CPU
   capability, build settings), the CPU capability its kernels dispatch to ("AVX512", "AVX2",
   "DEFAULT"...), and the TORCH_VERSION of the headers the shim was compiled against. The strings
   stay valid for the life of the process. */
const char *ct_engine_config(void);
const char *ct_engine_cpu_capability(void);
/* The CPU as libtorch's cpuinfo sees it: the names of the instruction-set features it has
   ("avx512_bf16", "amx_tile", ...) separated by spaces, a newline, and the CPU's name; "" when
   unknown. */
const char *ct_engine_cpu_features(void);
const char *ct_engine_compiled_version(void);

// Operator profiler (libtorch's Kineto profiler, CPU). start: false with the error set when one
// is already running. stop: one line per (operator, input shapes) with tab-separated fields
// name, shapes ("" unless recorded; inputs separated by ';', dimensions by 'x'), calls, total ns,
// self ns (total minus nested operators); the text lives until the next stop. Writes a Chrome
// trace to trace_path unless it is NULL or empty. NULL with the error set on failure.
bool ct_profiler_start(bool record_shapes);
const char *ct_profiler_stop(const char *trace_path);
int32_t ct_cuda_device_count(void);
uint32_t ct_crc32(uint32_t crc, const void *data, size_t n);
void ct_sha256(const void *data, size_t n, uint8_t out[32]);

/* ---- lifetime and metadata -------------------------------------------- */
void ct_free(ct_tensor t);
ct_tensor ct_shallow_clone(ct_tensor t);  /* new handle, same storage + autograd identity */
ct_tensor ct_undefined(void);
bool ct_defined(ct_tensor t);
int64_t ct_dim(ct_tensor t);
int64_t ct_size(ct_tensor t, int64_t dim);
int64_t ct_stride(ct_tensor t, int64_t dim);
void ct_sizes(ct_tensor t, int64_t *out);   /* out has ct_dim(t) slots */
void ct_strides(ct_tensor t, int64_t *out);
int64_t ct_numel(ct_tensor t);
int32_t ct_dtype(ct_tensor t);
int32_t ct_device_type(ct_tensor t);
int32_t ct_device_index(ct_tensor t);
bool ct_is_contiguous(ct_tensor t);
int64_t ct_storage_offset(ct_tensor t);
int64_t ct_element_size(ct_tensor t);
const char *ct_describe(ct_tensor t);       /* thread-local string, valid until next call */

/* ---- data in and out -------------------------------------------------- */
/* Copies `nbytes` of raw little-endian data into a new contiguous CPU tensor. */
ct_tensor ct_from_data(const void *data, size_t nbytes, int32_t dtype, const int64_t *sizes, int64_t ndim);
/* Copies the tensor (any device/layout) as contiguous CPU bytes into dst (nbytes must match). */
int32_t ct_copy_to(ct_tensor t, void *dst, size_t nbytes);
double ct_item_double(ct_tensor t);
int64_t ct_item_int(ct_tensor t);

/* ---- creation ------------------------------------------------------------- */
ct_tensor ct_zeros(const int64_t *sizes, int64_t ndim, int32_t dtype, int32_t dev, int32_t dev_index);
ct_tensor ct_ones(const int64_t *sizes, int64_t ndim, int32_t dtype, int32_t dev, int32_t dev_index);
ct_tensor ct_full(const int64_t *sizes, int64_t ndim, ct_scalar v, int32_t dtype, int32_t dev, int32_t dev_index);
ct_tensor ct_empty(const int64_t *sizes, int64_t ndim, int32_t dtype, int32_t dev, int32_t dev_index);
ct_tensor ct_arange(ct_scalar start, ct_scalar end, ct_scalar step, int32_t dtype, int32_t dev, int32_t dev_index);
ct_tensor ct_linspace(double start, double end, int64_t steps, int32_t dtype, int32_t dev, int32_t dev_index);
ct_tensor ct_eye(int64_t n, int32_t dtype, int32_t dev, int32_t dev_index);
ct_tensor ct_zeros_like(ct_tensor t);
ct_tensor ct_ones_like(ct_tensor t);
ct_tensor ct_full_like(ct_tensor t, ct_scalar v);

/* random (gen may be NULL: the global default generator) */
ct_generator ct_generator_new(uint64_t seed);
void ct_generator_free(ct_generator g);
void ct_generator_set_seed(ct_generator g, uint64_t seed);
ct_tensor ct_generator_get_state(ct_generator g);            /* uint8 tensor */
int32_t ct_generator_set_state(ct_generator g, ct_tensor state);
ct_tensor ct_randn(const int64_t *sizes, int64_t ndim, ct_generator g, int32_t dtype, int32_t dev, int32_t dev_index);
ct_tensor ct_rand(const int64_t *sizes, int64_t ndim, ct_generator g, int32_t dtype, int32_t dev, int32_t dev_index);
ct_tensor ct_randint(int64_t low, int64_t high, const int64_t *sizes, int64_t ndim, ct_generator g, int32_t dtype, int32_t dev, int32_t dev_index);
ct_tensor ct_randperm(int64_t n, ct_generator g, int32_t dev, int32_t dev_index);
ct_tensor ct_bernoulli(ct_tensor probs, ct_generator g);
ct_tensor ct_uniform_(ct_tensor t, double from, double to, ct_generator g);   /* in place, returns t */
ct_tensor ct_normal_(ct_tensor t, double mean, double std, ct_generator g);   /* in place, returns t */

/* ---- conversion ------------------------------------------------------- */
ct_tensor ct_to_dtype(ct_tensor t, int32_t dtype);
ct_tensor ct_to_device(ct_tensor t, int32_t dev, int32_t dev_index);
ct_tensor ct_contiguous(ct_tensor t);
/* Memory formats of 4-D tensors: CT_CONTIGUOUS (NCHW) or CT_CHANNELS_LAST (NHWC strides). */
enum { CT_CONTIGUOUS = 0, CT_CHANNELS_LAST = 1 };
ct_tensor ct_contiguous_format(ct_tensor t, int32_t format);
bool ct_is_contiguous_format(ct_tensor t, int32_t format);
/* The tensor's version counter: increases with every in-place change (copy_, optimizer steps). */
int64_t ct_version(ct_tensor t);
ct_tensor ct_clone(ct_tensor t);

/* ---- elementwise: binary ops selected by code ------------------------- */
enum {
  CT_ADD = 0, CT_SUB, CT_MUL, CT_DIV, CT_POW, CT_REMAINDER, CT_FLOOR_DIVIDE,
  CT_MAXIMUM, CT_MINIMUM, CT_EQ, CT_NE, CT_LT, CT_LE, CT_GT, CT_GE,
  CT_LOGICAL_AND, CT_LOGICAL_OR, CT_LOGICAL_XOR, CT_ATAN2, CT_DIV_TRUNC, CT_DIV_FLOOR
};
ct_tensor ct_binary(int32_t op, ct_tensor a, ct_tensor b);
ct_tensor ct_binary_scalar(int32_t op, ct_tensor a, ct_scalar b);
ct_tensor ct_scalar_binary(int32_t op, ct_scalar a, ct_tensor b);   /* a (op) b with a scalar left side */

enum {
  CT_NEG = 0, CT_ABS, CT_EXP, CT_LOG, CT_SQRT, CT_RSQRT, CT_SIN, CT_COS, CT_TANH, CT_SIGMOID,
  CT_RELU, CT_SILU, CT_GELU, CT_GELU_TANH, CT_FLOOR, CT_CEIL, CT_ROUND, CT_SIGN, CT_LOGICAL_NOT,
  CT_RECIPROCAL, CT_LOG1P, CT_EXPM1, CT_ISNAN, CT_ISINF, CT_ISFINITE, CT_SQUARE, CT_TRUNC,
  CT_ATAN, CT_LOG2, CT_BITWISE_NOT, CT_HARDSIGMOID, CT_ERF
};
ct_tensor ct_unary(int32_t op, ct_tensor a);
ct_tensor ct_clamp(ct_tensor a, bool has_min, double min, bool has_max, double max);
ct_tensor ct_leaky_relu(ct_tensor a, double slope);
ct_tensor ct_where(ct_tensor cond, ct_tensor a, ct_tensor b);
ct_tensor ct_masked_fill(ct_tensor t, ct_tensor mask, ct_scalar v);
ct_tensor ct_lerp(ct_tensor a, ct_tensor b, double w);

/* in place (return a new handle to the same tensor) */
ct_tensor ct_inplace_binary(int32_t op, ct_tensor a, ct_tensor b);        /* ADD SUB MUL DIV only */
ct_tensor ct_inplace_binary_scalar(int32_t op, ct_tensor a, ct_scalar b);
ct_tensor ct_add_scaled_(ct_tensor a, ct_tensor b, double alpha);         /* a += alpha*b */
ct_tensor ct_addcmul_(ct_tensor a, ct_tensor b, ct_tensor c, double value);
ct_tensor ct_relu_(ct_tensor a);
/* a + value·b·c (broadcast) in one pass, out of place. */
ct_tensor ct_addcmul(ct_tensor a, ct_tensor b, ct_tensor c, double value);
ct_tensor ct_addcdiv_(ct_tensor a, ct_tensor b, ct_tensor c, double value);
ct_tensor ct_copy_(ct_tensor dst, ct_tensor src);
ct_tensor ct_fill_(ct_tensor t, ct_scalar v);
ct_tensor ct_zero_(ct_tensor t);
ct_tensor ct_masked_fill_(ct_tensor t, ct_tensor mask, ct_scalar v);
ct_tensor ct_clamp_(ct_tensor a, bool has_min, double min, bool has_max, double max);

/* ---- reductions ------------------------------------------------------- */
enum { CT_SUM = 0, CT_MEAN, CT_PROD, CT_AMAX, CT_AMIN, CT_ANY, CT_ALL, CT_NORM2, CT_LOGSUMEXP, CT_NANSUM };
/* dims == NULL / ndims == 0 reduces everything (keepdim then keeps every dim as size 1);
   negative dims count from the end. */
ct_tensor ct_reduce(int32_t op, ct_tensor t, const int64_t *dims, int64_t ndims, bool keepdim);
/* divisor N - correction (0: population, 1: Bessel), as torch.var(correction=) */
ct_tensor ct_var(ct_tensor t, const int64_t *dims, int64_t ndims, int64_t correction, bool keepdim);
ct_tensor ct_std(ct_tensor t, const int64_t *dims, int64_t ndims, int64_t correction, bool keepdim);
/* max/min along dim: values and indices */
int32_t ct_max_dim(ct_tensor t, int64_t dim, bool keepdim, ct_tensor *values, ct_tensor *indices);
int32_t ct_min_dim(ct_tensor t, int64_t dim, bool keepdim, ct_tensor *values, ct_tensor *indices);
ct_tensor ct_argmax(ct_tensor t, int64_t dim, bool has_dim, bool keepdim);
ct_tensor ct_argmin(ct_tensor t, int64_t dim, bool has_dim, bool keepdim);
ct_tensor ct_cumsum(ct_tensor t, int64_t dim);
ct_tensor ct_cumprod(ct_tensor t, int64_t dim);
int32_t ct_topk(ct_tensor t, int64_t k, int64_t dim, bool largest, bool sorted, ct_tensor *values, ct_tensor *indices);
int32_t ct_sort(ct_tensor t, int64_t dim, bool descending, bool stable, ct_tensor *values, ct_tensor *indices);
ct_tensor ct_argsort(ct_tensor t, int64_t dim, bool descending, bool stable);

/* ---- shape ------------------------------------------------------------ */
ct_tensor ct_view(ct_tensor t, const int64_t *sizes, int64_t ndim);
ct_tensor ct_reshape(ct_tensor t, const int64_t *sizes, int64_t ndim);
ct_tensor ct_permute(ct_tensor t, const int64_t *dims, int64_t ndim);
ct_tensor ct_transpose(ct_tensor t, int64_t d0, int64_t d1);
ct_tensor ct_flatten(ct_tensor t, int64_t start, int64_t end);
ct_tensor ct_unflatten(ct_tensor t, int64_t dim, const int64_t *sizes, int64_t ndim);
ct_tensor ct_expand(ct_tensor t, const int64_t *sizes, int64_t ndim);
ct_tensor ct_repeat(ct_tensor t, const int64_t *repeats, int64_t ndim);
ct_tensor ct_repeat_interleave(ct_tensor t, int64_t repeats, int64_t dim);
ct_tensor ct_squeeze(ct_tensor t, int64_t dim, bool all);
ct_tensor ct_unsqueeze(ct_tensor t, int64_t dim);
ct_tensor ct_as_strided(ct_tensor t, const int64_t *sizes, const int64_t *strides, int64_t ndim, int64_t offset);
ct_tensor ct_flip(ct_tensor t, const int64_t *dims, int64_t ndim);
ct_tensor ct_roll(ct_tensor t, int64_t shift, int64_t dim);
ct_tensor ct_cat(const ct_tensor *ts, int64_t n, int64_t dim);
ct_tensor ct_stack(const ct_tensor *ts, int64_t n, int64_t dim);
/* Lists: returns the number of tensors written to *out (malloc'd, free with ct_free_list). -1 on error. */
int64_t ct_split(ct_tensor t, int64_t split_size, int64_t dim, ct_tensor **out);
int64_t ct_split_sizes(ct_tensor t, const int64_t *sizes, int64_t n, int64_t dim, ct_tensor **out);
int64_t ct_chunk(ct_tensor t, int64_t chunks, int64_t dim, ct_tensor **out);
int64_t ct_unbind(ct_tensor t, int64_t dim, ct_tensor **out);
void ct_free_list(ct_tensor *list);
ct_tensor ct_meshgrid_ij(ct_tensor a, ct_tensor b, ct_tensor *second);  /* returns first grid */
ct_tensor ct_tril(ct_tensor t, int64_t diagonal);
ct_tensor ct_triu(ct_tensor t, int64_t diagonal);

/* ---- indexing ---------------------------------------------------------- */
ct_tensor ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step);
ct_tensor ct_select(ct_tensor t, int64_t dim, int64_t index);
ct_tensor ct_narrow(ct_tensor t, int64_t dim, int64_t start, int64_t length);
ct_tensor ct_index_select(ct_tensor t, int64_t dim, ct_tensor index);
ct_tensor ct_gather(ct_tensor t, int64_t dim, ct_tensor index);
ct_tensor ct_scatter(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src);
ct_tensor ct_scatter_add(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src);
ct_tensor ct_scatter_(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src);
ct_tensor ct_masked_select(ct_tensor t, ct_tensor mask);
ct_tensor ct_nonzero(ct_tensor t);
/* Advanced indexing t[idx0, idx1, ...]; a NULL entry means ':' for that dim. */
ct_tensor ct_index(ct_tensor t, const ct_tensor *indices, int64_t n);
ct_tensor ct_index_put(ct_tensor t, const ct_tensor *indices, int64_t n, ct_tensor values, bool accumulate);
ct_tensor ct_index_put_(ct_tensor t, const ct_tensor *indices, int64_t n, ct_tensor values, bool accumulate);
ct_tensor ct_index_add(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src);

/* ---- linear algebra --------------------------------------------------- */
ct_tensor ct_matmul(ct_tensor a, ct_tensor b);
ct_tensor ct_bmm(ct_tensor a, ct_tensor b);
/* x wᵀ + b (b nullable). Where no input needs a gradient on CPU (float32) it runs through
   oneDNN's inner product (faster than MKL's sgemm on these shapes); set CTORCH_ONEDNN_LINEAR=0
   to keep at::linear everywhere. ct_linear_relu also applies ReLU (fused on that path). */
ct_tensor ct_linear(ct_tensor x, ct_tensor w, ct_tensor b /* nullable */);
ct_tensor ct_linear_relu(ct_tensor x, ct_tensor w, ct_tensor b /* nullable */);
/* GELU (exact erf form) of the product, fused on the oneDNN path. */
ct_tensor ct_linear_gelu(ct_tensor x, ct_tensor w, ct_tensor b /* nullable */);
ct_tensor ct_baddbmm(ct_tensor self, ct_tensor a, ct_tensor b, double beta, double alpha);
ct_tensor ct_cdist(ct_tensor a, ct_tensor b, double p);
ct_tensor ct_einsum(const char *equation, const ct_tensor *ts, int64_t n);

/* ---- neural network functions ----------------------------------------- */
ct_tensor ct_softmax(ct_tensor t, int64_t dim);
/* softmax(q kᵀ·scale + mask) v (at::scaled_dot_product_attention: a fused kernel where one
   applies), no dropout. q [..., L, E], k [..., S, E], v [..., S, Ev]; mask NULL, bool
   (true = may attend) or float (added), broadcastable to [..., L, S]. */
ct_tensor ct_scaled_dot_product_attention(ct_tensor q, ct_tensor k, ct_tensor v, ct_tensor mask, double scale);
ct_tensor ct_log_softmax(ct_tensor t, int64_t dim);
ct_tensor ct_conv2d(ct_tensor x, ct_tensor w, ct_tensor b /* nullable */,
                    int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t groups);
/* relu?(conv2d(x) + other?): one oneDNN convolution with the addition and ReLU inside it for
   float32 CPU inputs outside autocast where no input needs a gradient, else the three
   operations (other added to the convolution's output). With other_in_place the fused path
   writes the result into `other` and returns it (other must be a scratch tensor). */
ct_tensor ct_conv2d_pointwise(ct_tensor x, ct_tensor w, ct_tensor b /* nullable */, int64_t sh, int64_t sw,
                              int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t groups,
                              ct_tensor other /* nullable */, bool other_in_place, bool relu);
ct_tensor ct_max_pool2d(ct_tensor x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                        int64_t dh, int64_t dw, bool ceil_mode);
ct_tensor ct_avg_pool2d(ct_tensor x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph, int64_t pw);
ct_tensor ct_adaptive_avg_pool2d(ct_tensor x, int64_t oh, int64_t ow);
/* mode: 0 nearest, 1 bilinear, 2 bilinear antialiased, 3 bicubic */
ct_tensor ct_interpolate(ct_tensor x, int64_t oh, int64_t ow, int32_t mode, bool align_corners);
/* mode 0 bilinear / 1 nearest, padding 0 zeros / 1 border / 2 reflection */
ct_tensor ct_grid_sample(ct_tensor x, ct_tensor grid, int32_t mode, int32_t padding, bool align_corners);
ct_tensor ct_layer_norm(ct_tensor x, const int64_t *shape, int64_t ndim, ct_tensor w, ct_tensor b, double eps);
ct_tensor ct_group_norm(ct_tensor x, int64_t groups, ct_tensor w, ct_tensor b, double eps);
/* running_mean/var nullable; updated in place when training */
ct_tensor ct_batch_norm(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor running_mean, ct_tensor running_var,
                        bool training, double momentum, double eps);
/* Dropout scaled like F.dropout. torch_stream: the mask is torch's bernoulli_ stream of the
   generator (identical to PyTorch for the same seed, slow on CPU); otherwise a counter-based
   stream seeded by one draw from the generator, computed in parallel (CPU float tensors). */
ct_tensor ct_dropout(ct_tensor x, double p, bool training, ct_generator g, bool torch_stream);
ct_tensor ct_embedding(ct_tensor weight, ct_tensor indices);
ct_tensor ct_one_hot(ct_tensor t, int64_t num_classes);
ct_tensor ct_pad(ct_tensor x, const int64_t *pads, int64_t n, double value);  /* constant mode, F.pad order */
ct_tensor ct_pixel_shuffle(ct_tensor x, int64_t factor);

/* losses: reduction 0 none, 1 mean, 2 sum */
ct_tensor ct_bce_with_logits(ct_tensor x, ct_tensor target, ct_tensor weight /* nullable */, int32_t reduction);
ct_tensor ct_bce(ct_tensor x, ct_tensor target, ct_tensor weight /* nullable */, int32_t reduction);
ct_tensor ct_l1_loss(ct_tensor x, ct_tensor target, int32_t reduction);
ct_tensor ct_mse_loss(ct_tensor x, ct_tensor target, int32_t reduction);
ct_tensor ct_smooth_l1_loss(ct_tensor x, ct_tensor target, int32_t reduction, double beta);
ct_tensor ct_cross_entropy(ct_tensor x, ct_tensor target, ct_tensor weight /* nullable */, int32_t reduction, int64_t ignore_index);

/* ---- autograd --------------------------------------------------------- */
ct_tensor ct_set_requires_grad(ct_tensor t, bool flag);   /* in place; returns new handle */
bool ct_requires_grad(ct_tensor t);
bool ct_is_leaf(ct_tensor t);
ct_tensor ct_grad(ct_tensor t);                     /* undefined tensor when none */
int32_t ct_set_grad(ct_tensor t, ct_tensor g);      /* g may be NULL (clears) */
int32_t ct_backward(ct_tensor t, ct_tensor grad /* nullable */, bool retain_graph);
/* grads of outputs w.r.t inputs (autograd.grad); out receives n_inputs handles */
int32_t ct_autograd_grad(const ct_tensor *outputs, int64_t n_out, const ct_tensor *grad_outputs,
                         const ct_tensor *inputs, int64_t n_in, bool create_graph, ct_tensor *out);
ct_tensor ct_detach(ct_tensor t);
bool ct_set_grad_enabled(bool enabled);             /* returns previous */
bool ct_is_grad_enabled(void);

/* Activation checkpointing: a segment of the forward pass whose intermediate tensors are not kept
   for the backward pass but computed again there. run(context, inputs, n_inputs, recompute,
   outputs, n_outputs) computes the segment from its inputs, writing n_outputs new handles (which
   the shim frees), and returns 0, or -1 with the error set; the inputs it gets are new handles
   it owns (cut from their graph). It runs once here (recompute false), recording a graph that is
   dropped as soon as it returns (so layers take the same paths as in the recomputation), and
   once more in the backward pass with this call's autocast state (recompute true), where the
   result is differentiated with respect to the inputs that require a gradient and to `parameters` (the
   tensors the segment reads besides its inputs). release(context) is called when the graph no
   longer needs the segment (at once when nothing requires a gradient). */
typedef int32_t (*ct_segment_run)(void *context, const ct_tensor *inputs, int32_t n_inputs, bool recompute,
                                  ct_tensor *outputs, int32_t n_outputs);
int32_t ct_checkpoint(ct_segment_run run, void *context, void (*release)(void *), const ct_tensor *inputs,
                      int32_t n_inputs, const ct_tensor *parameters, int32_t n_parameters, ct_tensor *outputs,
                      int32_t n_outputs);

/* ---- multi-scale deformable attention ---- */
/* Fused CPU kernel (float32/float64) with its own backward (grads for value, locations and
   weights; differentiable once). value [B, S, H, D], spatial_shapes [L, 2] int64 (H_l, W_l),
   level_start_index [L] int64, sampling_locations [B, Q, H, L, P, 2] (x, y in [0, 1]),
   attention_weights [B, Q, H, L, P] -> [B, Q, H*D]. Same result as grid_sample (bilinear,
   zero padding, align_corners=False) on 2*loc-1. Non-CPU tensors are an error. */
ct_tensor ct_ms_deform_attn(ct_tensor value, ct_tensor spatial_shapes, ct_tensor level_start_index,
                            ct_tensor sampling_locations, ct_tensor attention_weights);
/* The same on CUDA tensors (float32/float64), with the kernels of cuda/msda_cuda.cu; those are in
   the shim only when it was built with nvcc (the GPU bundle's build-shim.sh): otherwise
   ct_ms_deform_attn_cuda_available() is false and the call fails with that message. */
bool ct_ms_deform_attn_cuda_available(void);
ct_tensor ct_ms_deform_attn_cuda(ct_tensor value, ct_tensor spatial_shapes, ct_tensor level_start_index,
                                 ct_tensor sampling_locations, ct_tensor attention_weights);

/* ---- automatic mixed precision (autocast), state of the calling thread ---- */
/* device_type: 0 CPU, 1 CUDA. Enabling sets the lower-precision dtype (CT_BFLOAT16 or
   CT_FLOAT16) that autocast-listed ops (matmul, linear, conv, ...) run in; returns -1 (error
   set) for a dtype libtorch refuses. */
int32_t ct_autocast_set(int32_t device_type, bool enabled, int32_t dtype);
bool ct_autocast_enabled(int32_t device_type);
int32_t ct_autocast_dtype(int32_t device_type);
/* Nesting of autocast regions; leaving the outermost clears autocast's cache of cast weights. */
int32_t ct_autocast_enter(void);
void ct_autocast_exit(void);

/* ---- data-parallel communication (c10d) --------------------------------------------------------
   A process group of `world` ranks meeting at a TCPStore. Collectives block until every rank has
   joined them; each fails after the group's timeout, or at once when a peer's connection closes,
   with a message that names this rank and the ranks that stopped (those whose heartbeat, kept in
   the store by a thread of each rank, no longer advances, and the failure they posted). After a
   failure the group refuses further collectives. */
typedef struct ct_dist_s *ct_dist;
typedef struct ct_store_server_s *ct_store_server;
enum { CT_DIST_GLOO = 0, CT_DIST_NCCL = 1 };
enum { CT_REDUCE_SUM = 0, CT_REDUCE_MAX = 1, CT_REDUCE_MIN = 2 };

/* A store with no rank: a launcher hosting the rendezvous of its workers. port 0: a free port,
   which ct_store_server_port tells. */
ct_store_server ct_store_server_new(int32_t port, int64_t timeout_ms);
int32_t ct_store_server_port(ct_store_server s);
void ct_store_server_free(ct_store_server s);

/* Joins the group at host:port (rank 0 hosts the store there when host_store is true, otherwise
   every rank connects to an existing one). CT_DIST_GLOO binds to network `interface` when it is
   not empty, else to the address of `bind_host` when not empty, else to the address this
   machine's hostname resolves to. CT_DIST_NCCL uses CUDA device `device_index` (only in a shim
   built with CTORCH_WITH_NCCL). At a store someone else hosts (a launcher's, which outlives its
   workers across restarts and so may hold a dead group's keys), the ranks first agree on a
   generation number no earlier group there used, and every key of the group starts with it.
   NULL with the error set when the rendezvous fails or times out. */
ct_dist ct_dist_new(int32_t backend, const char *host, int32_t port, int32_t rank, int32_t world, bool host_store,
                    const char *interface, const char *bind_host, int32_t device_index, int64_t timeout_ms);
int32_t ct_dist_rank(ct_dist d);
int32_t ct_dist_world(ct_dist d);
/* In place on a contiguous tensor (on the group's device). */
int32_t ct_dist_all_reduce(ct_dist d, ct_tensor t, int32_t op);
int32_t ct_dist_broadcast(ct_dist d, ct_tensor t, int32_t root);
int32_t ct_dist_barrier(ct_dist d);
/* Every rank's n bytes in rank order: *out (free with ct_dist_free_bytes) holds them back to
   back, sizes (world entries) their lengths. */
int32_t ct_dist_all_gather_bytes(ct_dist d, const void *data, int64_t n, uint8_t **out, int64_t *sizes);
void ct_dist_free_bytes(uint8_t *p);
/* Σ over ranks that autograd differentiates: the backward pass all-reduces the gradient too (the
   gradient of the ranks' summed objectives). Collectives run in forward order, then in the
   backward pass's order, so every rank must build the same graph of them. */
ct_tensor ct_dist_all_reduce_differentiable(ct_dist d, ct_tensor t);
/* Posts this rank's failure for the other ranks' messages (best effort). */
void ct_dist_report_failure(ct_dist d, const char *message);
bool ct_dist_failed(ct_dist d);
/* Leaves the group. A failed group's backend is abandoned, not destroyed (destroying it would
   wait for work stuck on a hung peer): free it only on the way out of the process. */
void ct_dist_free(ct_dist d);

#ifdef __cplusplus
}
#endif
#endif
