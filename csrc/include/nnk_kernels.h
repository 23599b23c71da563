/*
 * The kernels behind the dispatch table: their signatures, one table type, and the
 * per-ISA symbols.  Names follow <operation>_<dtype>_<tile>__<isa>.
 *
 * This is the one list every layer reads: dispatch fills a table per ISA from it,
 * the C test driver walks the tables to compare each ISA with scalar, and the
 * benchmarks time each entry.  Adding a kernel = one enum entry + one name + its files.
 */
#ifndef NNK_KERNELS_H
#define NNK_KERNELS_H

#include <stddef.h>

#include "nnk.h"

/* ---- Elementwise maps y = f(x) (y may alias x) ------------------------
 * X(ENUM, name, arg): the list every layer expands. */
#define NNK_VUNARY_LIST(X, arg)                                                      \
  X(RELU, relu, arg)                                                                 \
  X(EXP, exp, arg)                                                                   \
  X(LOG, log, arg)                                                                   \
  X(TANH, tanh, arg)                                                                 \
  X(SIGMOID, sigmoid, arg)                                                           \
  X(GELU, gelu, arg)           /* x * Phi(x), Phi through erf */                     \
  X(GELU_TANH, gelu_tanh, arg) /* the tanh approximation */

/* ---- Gradients dx = f'(.) * dy (dx may alias dy or u) -------------------
 * u is the input x or the output y, whichever the derivative is cheapest from:
 * relu, gelu, gelu_tanh take x; tanh and sigmoid take y (1 - y^2, y(1 - y)). */
#define NNK_VGRAD_LIST(X, arg)                                                       \
  X(RELU_GRAD, relu_grad, arg)                                                       \
  X(TANH_GRAD, tanh_grad, arg)                                                       \
  X(SIGMOID_GRAD, sigmoid_grad, arg)                                                 \
  X(GELU_GRAD, gelu_grad, arg)                                                       \
  X(GELU_TANH_GRAD, gelu_tanh_grad, arg)

#define NNK_ENUM_ENTRY_(E, name, arg) NNK_V##E,
#define NNK_NAME_ENTRY_(E, name, arg) #name,
typedef enum { NNK_VUNARY_LIST(NNK_ENUM_ENTRY_, ) NNK_VUNARY_COUNT } nnk_vunary_op;
typedef enum { NNK_VGRAD_LIST(NNK_ENUM_ENTRY_, ) NNK_VGRAD_COUNT } nnk_vgrad_op;
/* Names in enum order, as the binding and the tests know them. */
#define NNK_VUNARY_NAMES {NNK_VUNARY_LIST(NNK_NAME_ENTRY_, )}
#define NNK_VGRAD_NAMES {NNK_VGRAD_LIST(NNK_NAME_ENTRY_, )}

typedef void (*nnk_f32_vunary_fn)(size_t n, const float *x, float *y);
typedef void (*nnk_f64_vunary_fn)(size_t n, const double *x, double *y);
typedef void (*nnk_f32_vgrad_fn)(size_t n, const float *u, const float *dy, float *dx);
typedef void (*nnk_f64_vgrad_fn)(size_t n, const double *u, const double *dy, double *dx);

/* Declarations of one ISA's elementwise kernels, from the lists. */
#define NNK_DECL_VUNARY_(E, name, isa)                                               \
  void nnk_f32_v##name##__##isa(size_t n, const float *x, float *y);                 \
  void nnk_f64_v##name##__##isa(size_t n, const double *x, double *y);
#define NNK_DECL_VGRAD_(E, name, isa)                                                \
  void nnk_f32_v##name##__##isa(size_t n, const float *u, const float *dy, float *dx); \
  void nnk_f64_v##name##__##isa(size_t n, const double *u, const double *dy, double *dx);
#define NNK_DECL_LOSS_(E, name, isa)                                                 \
  float nnk_f32_loss_##name##__##isa(size_t n, const float *y, const float *t, float *each); \
  double nnk_f64_loss_##name##__##isa(size_t n, const double *y, const double *t,    \
                                      double *each);                                 \
  void nnk_f32_loss_##name##_grad__##isa(size_t n, const float *y, const float *t,   \
                                         float scale, float *dy);                    \
  void nnk_f64_loss_##name##_grad__##isa(size_t n, const double *y, const double *t, \
                                         double scale, double *dy);
#define NNK_DECLARE_ISA_KERNELS(isa)                                                 \
  NNK_VUNARY_LIST(NNK_DECL_VUNARY_, isa)                                             \
  NNK_LOSS_LIST(NNK_DECL_LOSS_, isa)                                                 \
  void nnk_f32_sgd_step__##isa(size_t n, float *p, const float *g, float *v, float lr, \
                               float mu, float wd, int nesterov);                    \
  void nnk_f64_sgd_step__##isa(size_t n, double *p, const double *g, double *v,      \
                               double lr, double mu, double wd, int nesterov);       \
  void nnk_f32_adam_step__##isa(size_t n, float *p, const float *g, float *m, float *v, \
                                float lr, float b1, float b2, float eps, float c1,   \
                                float c2, float wd);                                 \
  void nnk_f64_adam_step__##isa(size_t n, double *p, const double *g, double *m,     \
                                double *v, double lr, double b1, double b2,          \
                                double eps, double c1, double c2, double wd);        \
  void nnk_f32_axpy__##isa(size_t n, float a, const float *x, float *y);             \
  void nnk_f64_axpy__##isa(size_t n, double a, const double *x, double *y);          \
  NNK_VGRAD_LIST(NNK_DECL_VGRAD_, isa)                                               \
  void nnk_f32_vleaky_relu__##isa(size_t n, const float *x, float *y, float slope);  \
  void nnk_f64_vleaky_relu__##isa(size_t n, const double *x, double *y, double slope); \
  void nnk_f32_vleaky_relu_grad__##isa(size_t n, const float *x, const float *dy,    \
                                       float *dx, float slope);                      \
  void nnk_f64_vleaky_relu_grad__##isa(size_t n, const double *x, const double *dy,  \
                                       double *dx, double slope);                    \
  void nnk_f32_softmax_rows__##isa(size_t rows, size_t n, const float *x, float *y);  \
  void nnk_f64_softmax_rows__##isa(size_t rows, size_t n, const double *x, double *y); \
  void nnk_f32_log_softmax_rows__##isa(size_t rows, size_t n, const float *x, float *y); \
  void nnk_f64_log_softmax_rows__##isa(size_t rows, size_t n, const double *x,       \
                                       double *y);                                   \
  void nnk_f32_logsumexp_rows__##isa(size_t rows, size_t n, const float *x, float *out); \
  void nnk_f64_logsumexp_rows__##isa(size_t rows, size_t n, const double *x, double *out);

/* ---- Pointwise losses: sum of l(y, t) (each l stored when each != NULL), and
 * dy = scale * dl/dy.  See csrc/loss/loss_impl.h for the formulas. */
#define NNK_LOSS_LIST(X, arg)                                                        \
  X(MSE, mse, arg)                                                                   \
  X(MAE, mae, arg)                                                                   \
  X(BCE, bce, arg)                                                                   \
  X(BCE_LOGITS, bce_logits, arg)
#define NNK_LOSS_ENUM_(E, name, arg) NNK_LOSS_##E,
typedef enum { NNK_LOSS_LIST(NNK_LOSS_ENUM_, ) NNK_LOSS_COUNT } nnk_loss_op;
#define NNK_LOSS_NAMES {NNK_LOSS_LIST(NNK_NAME_ENTRY_, )}
typedef float (*nnk_f32_loss_fn)(size_t n, const float *y, const float *t, float *each);
typedef double (*nnk_f64_loss_fn)(size_t n, const double *y, const double *t, double *each);
typedef void (*nnk_f32_loss_grad_fn)(size_t n, const float *y, const float *t, float scale,
                                     float *dy);
typedef void (*nnk_f64_loss_grad_fn)(size_t n, const double *y, const double *t, double scale,
                                     double *dy);

/* ---- Optimiser updates (csrc/optim/optim_impl.h) ---------------------- */
typedef void (*nnk_f32_sgd_fn)(size_t n, float *p, const float *g, float *v, float lr, float mu,
                               float wd, int nesterov);
typedef void (*nnk_f64_sgd_fn)(size_t n, double *p, const double *g, double *v, double lr,
                               double mu, double wd, int nesterov);
typedef void (*nnk_f32_adam_fn)(size_t n, float *p, const float *g, float *m, float *v, float lr,
                                float b1, float b2, float eps, float c1, float c2, float wd);
typedef void (*nnk_f64_adam_fn)(size_t n, double *p, const double *g, double *m, double *v,
                                double lr, double b1, double b2, double eps, double c1,
                                double c2, double wd);
typedef void (*nnk_f32_axpy_fn)(size_t n, float a, const float *x, float *y);
typedef void (*nnk_f64_axpy_fn)(size_t n, double a, const double *x, double *y);

/* Leaky ReLU and its gradient carry a parameter, the negative slope. */
typedef void (*nnk_f32_vleaky_fn)(size_t n, const float *x, float *y, float slope);
typedef void (*nnk_f64_vleaky_fn)(size_t n, const double *x, double *y, double slope);
typedef void (*nnk_f32_vleaky_grad_fn)(size_t n, const float *x, const float *dy, float *dx,
                                       float slope);
typedef void (*nnk_f64_vleaky_grad_fn)(size_t n, const double *x, const double *dy, double *dx,
                                       double slope);

/* ---- Row reductions over contiguous rows of length n --------------------
 * For each of `rows` rows (row r at x + r*n): the log-sum-exp (out[r]), and softmax /
 * log-softmax written to y (same layout; y may alias x).  All go through the row
 * maximum first, so no finite input overflows; a row of all -inf gives NaN. */
typedef void (*nnk_f32_rows_fn)(size_t rows, size_t n, const float *x, float *y);
typedef void (*nnk_f64_rows_fn)(size_t rows, size_t n, const double *x, double *y);
typedef void (*nnk_f32_lse_fn)(size_t rows, size_t n, const float *x, float *out);
typedef void (*nnk_f64_lse_fn)(size_t rows, size_t n, const double *x, double *out);

/* ---- GEMM microkernels --------------------------------------------------
 * One MR×NR tile: C[0:MR, 0:NR] = alpha * (A_panel @ B_panel) + beta * C, where the
 * panels are packed (A: kc columns of MR contiguous values, B: kc rows of NR) and
 * C has row stride rs_c and unit column stride.  beta == 0 must not read C. */
typedef void (*nnk_f32_gemm_ukernel_fn)(size_t kc, float alpha, const float *a, const float *b,
                                        float beta, float *c, ptrdiff_t rs_c);
typedef void (*nnk_f64_gemm_ukernel_fn)(size_t kc, double alpha, const double *a,
                                        const double *b, double beta, double *c,
                                        ptrdiff_t rs_c);

/* A direct (unpacked) tile for small problems: mb <= MR rows of A at a + i*rs_a with
 * unit column stride, B rows at stride rs_b; only mb rows and nb columns of C are
 * stored, only nb columns of B read.  nb is NR unless the config says direct_any_width.
 * beta == 0 must not read C. */
typedef void (*nnk_f32_gemm_direct_fn)(size_t mb, size_t nb, size_t kc, float alpha,
                                       const float *a, ptrdiff_t rs_a, const float *b,
                                       ptrdiff_t rs_b, float beta, float *c, ptrdiff_t rs_c);
typedef void (*nnk_f64_gemm_direct_fn)(size_t mb, size_t nb, size_t kc, double alpha,
                                       const double *a, ptrdiff_t rs_a, const double *b,
                                       ptrdiff_t rs_b, double beta, double *c, ptrdiff_t rs_c);

/* A CPU's GEMM, BLIS-style: a microkernel and five block sizes (MC, NC multiples of
 * MR, NR).  ukernel == NULL means "no blocked path": use the scalar reference.
 * direct (may be NULL) is the same tile without packing, for small problems. */
typedef struct {
  size_t mr, nr, mc, kc, nc;
  nnk_f32_gemm_ukernel_fn ukernel;
  nnk_f32_gemm_direct_fn direct;
  bool direct_any_width; /* direct takes nb < NR (masks): no edge packing or merging */
} nnk_f32_gemm_config;
typedef struct {
  size_t mr, nr, mc, kc, nc;
  nnk_f64_gemm_ukernel_fn ukernel;
  nnk_f64_gemm_direct_fn direct;
  bool direct_any_width;
} nnk_f64_gemm_config;

/* ---- The table -------------------------------------------------------- */
typedef struct {
  nnk_isa isa;
  nnk_f32_vunary_fn f32_vunary[NNK_VUNARY_COUNT];
  nnk_f64_vunary_fn f64_vunary[NNK_VUNARY_COUNT];
  nnk_f32_vgrad_fn f32_vgrad[NNK_VGRAD_COUNT];
  nnk_f64_vgrad_fn f64_vgrad[NNK_VGRAD_COUNT];
  nnk_f32_vleaky_fn f32_vleaky_relu;
  nnk_f64_vleaky_fn f64_vleaky_relu;
  nnk_f32_vleaky_grad_fn f32_vleaky_relu_grad;
  nnk_f64_vleaky_grad_fn f64_vleaky_relu_grad;
  nnk_f32_rows_fn f32_softmax_rows, f32_log_softmax_rows;
  nnk_f64_rows_fn f64_softmax_rows, f64_log_softmax_rows;
  nnk_f32_lse_fn f32_logsumexp_rows;
  nnk_f64_lse_fn f64_logsumexp_rows;
  nnk_f32_loss_fn f32_loss[NNK_LOSS_COUNT];
  nnk_f64_loss_fn f64_loss[NNK_LOSS_COUNT];
  nnk_f32_loss_grad_fn f32_loss_grad[NNK_LOSS_COUNT];
  nnk_f64_loss_grad_fn f64_loss_grad[NNK_LOSS_COUNT];
  nnk_f32_sgd_fn f32_sgd_step;
  nnk_f64_sgd_fn f64_sgd_step;
  nnk_f32_adam_fn f32_adam_step;
  nnk_f64_adam_fn f64_adam_step;
  nnk_f32_axpy_fn f32_axpy;
  nnk_f64_axpy_fn f64_axpy;
  nnk_f32_gemm_config f32_gemm;
  nnk_f64_gemm_config f64_gemm;
} nnk_kernel_table;

/* The table of an ISA compiled into this build (NULL if not compiled in); the
 * current one.  Callers of nnk_kernels() get a table that stays valid forever. */
const nnk_kernel_table *nnk_kernels_for(nnk_isa isa);
const nnk_kernel_table *nnk_kernels(void);

/* The scalar reference GEMM (the oracle), strided like nnk_sgemm_strided. */
void nnk_f32_gemm_ref__scalar(size_t m, size_t n, size_t k, float alpha, const float *a,
                              ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,
                              ptrdiff_t cs_b, float beta, float *c, ptrdiff_t rs_c,
                              ptrdiff_t cs_c);
void nnk_f64_gemm_ref__scalar(size_t m, size_t n, size_t k, double alpha, const double *a,
                              ptrdiff_t rs_a, ptrdiff_t cs_a, const double *b, ptrdiff_t rs_b,
                              ptrdiff_t cs_b, double beta, double *c, ptrdiff_t rs_c,
                              ptrdiff_t cs_c);

#endif /* NNK_KERNELS_H */
