/*
 * The kernels behind the dispatch table: one list per kernel family, and everything
 * else generated from the lists.
 *
 * A kernel is one line in its family's list.  From the lists come: the table type
 * (one struct per dtype), the declarations of each ISA's symbols, each ISA's table
 * (csrc/config/<isa>.c), the names the binding exports to Python (_C.KERNELS), the C
 * test driver's loops and bounds, and the C benchmark's rows.
 *
 * Symbols are nnk_<dt>_<symbol>__<isa>, dt = f32 | f64, e.g. nnk_f32_vtanh__avx2; each
 * family's source (csrc/<family>/<family>.c) is compiled once per ISA and lists what it
 * exports.
 */
#ifndef NNK_KERNELS_H
#define NNK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "nnk.h"

/* ---- Signatures, one per family, in terms of the element type T --------- */
#define NNK_SIG_MAP(T) (size_t n, const T *x, T *y)
#define NNK_SIG_GRAD(T) (size_t n, const T *u, const T *dy, T *dx)
#define NNK_SIG_PMAP(T) (size_t n, const T *x, T *y, T a)
#define NNK_SIG_PGRAD(T) (size_t n, const T *u, const T *dy, T *dx, T a)
#define NNK_SIG_ROWS(T) (size_t rows, size_t n, const T *x, T *y)
#define NNK_SIG_ROWS_GRAD(T) (size_t rows, size_t n, const T *y, const T *dy, T *dx)
/* gemv's `whole`: the rows of the matrix a call takes part of (a thread's share, a block),
 * by which the kernel judges whether the matrix streams from memory or from a cache. */
#define NNK_SIG_GEMV(T)                                                                   \
  (size_t rows, size_t n, size_t nx, T alpha, const T *a, size_t lda, const T *x,         \
   size_t ldx, T beta, T *y, size_t ldy, size_t whole)
#define NNK_SIG_LOSS(T) (size_t n, const T *y, const T *t, T *each)
#define NNK_SIG_LOSS_GRAD(T) (size_t n, const T *y, const T *t, T scale, T *dy)
/* The optimiser updates' options, bits of their last argument: NNK_STEP_MAXIMIZE for
 * every one (the update climbs the objective, -g for g: torch's maximize=True), and the
 * kernel's own, NNK_SGD_NESTEROV or NNK_ADAM_DECOUPLED (AdamW's decoupled decay).
 * sgd_step's dampening scales g' into the momentum (the caller passes 0 on the first
 * step, when torch sets the buffer to g' whole); adam_step's vmax, AMSGrad's running
 * maximum of v, is NULL for plain Adam. */
#define NNK_STEP_MAXIMIZE 2
#define NNK_SGD_NESTEROV 1
#define NNK_ADAM_DECOUPLED 1
#define NNK_SIG_SGD(T)                                                                    \
  (size_t n, T *p, const T *g, T *v, T lr, T mu, T dampening, T wd, int options)
#define NNK_SIG_ADAM(T)                                                                   \
  (size_t n, T *p, const T *g, T *m, T *v, T *vmax, T lr, T b1, T b2, T eps, T c1, T c2,    \
   T wd, int options)
#define NNK_SIG_AXPY(T) (size_t n, T a, const T *x, T *y)
#define NNK_SIG_RMSPROP(T)                                                                \
  (size_t n, T *p, const T *g, T *v, T *gavg, T *buf, T lr, T alpha, T eps, T wd, T mu,     \
   int options)
#define NNK_SIG_ADAGRAD(T)                                                                \
  (size_t n, T *p, const T *g, T *sum, T lr, T eps, T wd, int options)
#define NNK_SIG_LAYERNORM(T)                                                              \
  (size_t rows, size_t n, const T *x, const T *gamma, const T *beta, T eps, T *y, T *mean, \
   T *rstd)
#define NNK_SIG_LAYERNORM_GRAD(T)                                                         \
  (size_t rows, size_t n, const T *x, const T *gamma, const T *mean, const T *rstd,       \
   const T *dy, T *dx, T *dgamma, T *dbeta)
#define NNK_SIG_ATTENTION(T)                                                              \
  (size_t lo, size_t hi, size_t H, size_t len, size_t first, size_t D, const T *q,        \
   const T *k, const T *v, size_t ld, size_t bs, T scale, T *o, size_t ldo, size_t bso,   \
   T *lse, T *scratch)
#define NNK_SIG_ATTENTION_GRAD(T)                                                         \
  (size_t lo, size_t hi, size_t H, size_t len, size_t D, const T *q, const T *k,          \
   const T *v, size_t ld, const T *o, const T *dout, size_t ldo, const T *lse, T scale,   \
   T *dq, T *dk, T *dv, T *scratch)
#define NNK_SIG_CROSS_ENTROPY(T)                                                          \
  (size_t rows, size_t n, const T *x, const int64_t *labels, int64_t ignore, T scale,     \
   T *loss, T *dx)

/* ---- The lists ------------------------------------------------------------
 * Maps y = f(x), y may alias x.  X(ENUM, name, ulp, lo, hi, ...): `ulp` bounds an ISA
 * against the scalar oracle over the test domain [lo, hi] (the C driver adds signed
 * zeros, infinities, NaN, denormals and the overflow edges).  Symbol: v<name>.
 * Stability choices of each formula: csrc/vmath/vmath_impl.h. */
#define NNK_MAP_LIST(X, ...)                                                              \
  X(RELU, relu, 0, -9, 9, __VA_ARGS__)                                                    \
  X(EXP, exp, 2, -110, 100, __VA_ARGS__) /* crosses f32 under- and overflow */            \
  X(LOG, log, 2, 0, 1e6, __VA_ARGS__)                                                     \
  X(TANH, tanh, 2, -12, 12, __VA_ARGS__)                                                  \
  X(SIGMOID, sigmoid, 4, -120, 120, __VA_ARGS__)                                          \
  X(GELU, gelu, 8, -9, 9, __VA_ARGS__)           /* x Phi(x), Phi through erfc (u15) */   \
  X(GELU_TANH, gelu_tanh, 8, -9, 9, __VA_ARGS__) /* the tanh approximation */

/* Gradients dx = f'(u) dy (dx may alias dy or u).  u is the input x or the output y,
 * whichever the derivative is cheapest from: tanh and sigmoid take y (1 - y^2, y(1 - y)),
 * the others x.  X(ENUM, name, ulp, lo, hi, ...), [lo, hi] the domain of u; a result
 * within `ulp`, or within a few roundings of the terms' size, passes. */
#define NNK_GRAD_LIST(X, ...)                                                             \
  X(RELU_GRAD, relu_grad, 0, -9, 9, __VA_ARGS__)                                          \
  X(TANH_GRAD, tanh_grad, 4, -1, 1, __VA_ARGS__)                                          \
  X(SIGMOID_GRAD, sigmoid_grad, 4, 0, 1, __VA_ARGS__)                                     \
  X(GELU_GRAD, gelu_grad, 4, -9, 9, __VA_ARGS__)                                          \
  X(GELU_TANH_GRAD, gelu_tanh_grad, 4, -9, 9, __VA_ARGS__)

/* Maps and gradients with one parameter a (leaky ReLU's negative slope). */
#define NNK_PMAP_LIST(X, ...) X(LEAKY_RELU, leaky_relu, 0, -5, 5, __VA_ARGS__)
#define NNK_PGRAD_LIST(X, ...) X(LEAKY_RELU_GRAD, leaky_relu_grad, 0, -9, 9, __VA_ARGS__)

/* Row reductions over `rows` contiguous rows of n values (row r at x + r n): y like x,
 * or one value per row when per_row.  All go through the row maximum first, so no
 * finite input overflows.  X(ENUM, name, per_row, ...); symbol: <name>_rows. */
#define NNK_ROWS_LIST(X, ...)                                                             \
  X(SOFTMAX, softmax, 0, __VA_ARGS__)                                                     \
  X(LOG_SOFTMAX, log_softmax, 0, __VA_ARGS__)                                             \
  X(LOGSUMEXP, logsumexp, 1, __VA_ARGS__)

/* Their gradients from the output y (dx may alias dy): softmax dx = y (dy - sum(dy y)),
 * log-softmax dx = dy - exp(y) sum(dy).  X(ENUM, name, ...); symbol: <name>_rows. */
#define NNK_ROWS_GRAD_LIST(X, ...)                                                        \
  X(SOFTMAX_GRAD, softmax_grad, __VA_ARGS__)                                              \
  X(LOG_SOFTMAX_GRAD, log_softmax_grad, __VA_ARGS__)

/* Products of a matrix with nx <= 4 vectors: `rows` rows of a (row r at a + r lda, n
 * contiguous values), vector v at x + v ldx (contiguous), beta == 0 never reading y:
 * what GEMM runs when m or n is 1 (dot products, W x, x W) or n is at most 4 (skinny
 * products).  X(ENUM, name, ...); symbol: <name>.
 *   gemv_dots   y[r ldy + v] = alpha (a_r . x_v) + beta y[r ldy + v], r < rows, x_v of n
 *   gemv_axpys  y_v = alpha sum_r x_v[r] a_r + beta y_v, y_v = y + v ldy (n values) */
#define NNK_GEMV_LIST(X, ...)                                                             \
  X(GEMV_DOTS, gemv_dots, __VA_ARGS__)                                                    \
  X(GEMV_AXPYS, gemv_axpys, __VA_ARGS__)

/* Pointwise losses: sum of l(y, t) (each l stored when each != NULL), and
 * dy = scale dl/dy.  X(ENUM, name, lo, hi, ...): [lo, hi] the domain of y; targets are
 * probabilities.  Symbols: loss_<name>, loss_<name>_grad.  Formulas: csrc/loss/loss_impl.h. */
#define NNK_LOSS_LIST(X, ...)                                                             \
  X(MSE, mse, -8, 8, __VA_ARGS__)                                                         \
  X(MAE, mae, -8, 8, __VA_ARGS__)                                                         \
  X(BCE, bce, 0, 1, __VA_ARGS__)                                                          \
  X(BCE_LOGITS, bce_logits, -8, 8, __VA_ARGS__)

/* Optimiser updates, each its own signature: X(name, SIGNATURE, ...).  In place on the
 * parameter and its state; formulas in csrc/optim/optim_impl.h. */
#define NNK_STEP_LIST(X, ...)                                                             \
  X(sgd_step, NNK_SIG_SGD, __VA_ARGS__)                                                   \
  X(adam_step, NNK_SIG_ADAM, __VA_ARGS__)                                                 \
  X(rmsprop_step, NNK_SIG_RMSPROP, __VA_ARGS__)                                           \
  X(adagrad_step, NNK_SIG_ADAGRAD, __VA_ARGS__)                                           \
  X(axpy, NNK_SIG_AXPY, __VA_ARGS__) /* y += a x */

/* Layers' row kernels, each its own signature (rows of n contiguous values, row r at
 * x + r n): X(name, SIGNATURE, ...).  Formulas: csrc/norm/norm_impl.h (LayerNorm),
 * csrc/softmax/softmax_impl.h (cross-entropy).
 *   layernorm       y = (x - mean) rstd gamma + beta per row, rstd = 1/sqrt(var + eps)
 *                   (biased variance, as PyTorch); gamma, beta, mean, rstd may be NULL
 *   layernorm_grad  dx from dy (may alias dy); dgamma += sum dy xhat, dbeta += sum dy
 *                   over the rows (each NULL to skip)
 *   cross_entropy   loss[r] = logsumexp(x_r) - x_r[labels[r]], and when dx != NULL
 *                   dx_r = scale (softmax(x_r) - onehot(labels[r])) (dx may alias x);
 *                   a row labelled `ignore` gives 0 and 0 */
#define NNK_ROW_LAYER_LIST(X, ...)                                                        \
  X(layernorm, NNK_SIG_LAYERNORM, __VA_ARGS__)                                            \
  X(layernorm_grad, NNK_SIG_LAYERNORM_GRAD, __VA_ARGS__)                                  \
  X(cross_entropy, NNK_SIG_CROSS_ENTROPY, __VA_ARGS__)

/* Causal self-attention over (batch, head) items lo..hi-1 (item = b H + h) of sequences
 * of len rows; row t of batch b at (b len + t) ld (q, k, v, dq, dk, dv) or ldo (o, dout),
 * head h's D values at h D in the row; lse (B H len), scratch NNK_ATTENTION_SCRATCH
 * values.  X(name, SIGNATURE, ...).  Formulas: csrc/attention/attention_impl.h.
 *   attention       o = softmax(scale q k^T, causal) v, and each row's log-sum-exp, for
 *                   the query rows first..len-1 only (a key/value cache's new rows): batch
 *                   b's rows start at b bs (q, k, v) and b bso (o: row i at (i - first)
 *                   ldo), lse at item (len - first) + i - first (NULL: not kept)
 *   attention_grad  dq, dk, dv (written, not accumulated) from dout, recomputing the
 *                   probabilities from lse, all rows */
/* Backward keeps the p and ds rows of this many query rows to update dk and dv together:
 * their loads and stores fall this-fold, and the rows (2 x 32 x len values) stay within a
 * 256 KiB L2 up to len = 1024 in float32 (512 in float64).  Measured on Zen 3, (16, 64, 3x128) float32, 4 heads: 8
 * rows 1.82 ms, 16 1.73, 32 1.65, 64 1.74 (one row at a time: 2.16). */
#define NNK_ATTENTION_GRAD_ROWS 32
/* Scratch values per call (csrc/attention/attention_impl.h's layout, for any vector width
 * up to 16 and register tiles of up to 8 rows): forward, a tile's scores, the keys
 * transposed and the rows' sums ((9 + D) rows of len rounded up), the values padded to
 * whole vectors and a tile's output rows; backward, a block's p and ds rows and the keys
 * and values transposed, then q, k, dout, dk and dv padded and a tile's dq rows. */
#define NNK_ATTENTION_SCRATCH(len, D, grad)                                               \
  ((grad) ? 2 * (NNK_ATTENTION_GRAD_ROWS + (D)) * ((len) + 16) + (5 * (len) + 8) * ((D) + 16) \
          : (9 + (D)) * ((len) + 16) + ((len) + 8) * ((D) + 16))
#define NNK_ATTENTION_LIST(X, ...)                                                        \
  X(attention, NNK_SIG_ATTENTION, __VA_ARGS__)                                            \
  X(attention_grad, NNK_SIG_ATTENTION_GRAD, __VA_ARGS__)

/* ---- Enums and names, from the lists -------------------------------------- */
#define NNK_ENUM_(E, name, ...) NNK_##E,
#define NNK_NAME_(E, name, ...) #name,
typedef enum { NNK_MAP_LIST(NNK_ENUM_, ) NNK_MAP_COUNT } nnk_map_op;
typedef enum { NNK_GRAD_LIST(NNK_ENUM_, ) NNK_GRAD_COUNT } nnk_grad_op;
typedef enum { NNK_PMAP_LIST(NNK_ENUM_, ) NNK_PMAP_COUNT } nnk_pmap_op;
typedef enum { NNK_PGRAD_LIST(NNK_ENUM_, ) NNK_PGRAD_COUNT } nnk_pgrad_op;
typedef enum { NNK_ROWS_LIST(NNK_ENUM_, ) NNK_ROWS_COUNT } nnk_rows_op;
typedef enum { NNK_ROWS_GRAD_LIST(NNK_ENUM_, ) NNK_ROWS_GRAD_COUNT } nnk_rows_grad_op;
typedef enum { NNK_GEMV_LIST(NNK_ENUM_, ) NNK_GEMV_COUNT } nnk_gemv_op;
typedef enum { NNK_LOSS_LIST(NNK_ENUM_, ) NNK_LOSS_COUNT } nnk_loss_op;

/* ---- GEMM ----------------------------------------------------------------- */

/* Lines of memory a tile (packed or direct) asks for into L2 as its k steps run, one
 * every `every` steps while `left` remain (NULL: none): bytes 0..last of rows `ld` apart
 * from `row`, line `line` of the current row next, `lines` a row.  The tile advances
 * it, so the tiles of a run share the asking out among them (gemm_impl.h's
 * streamed_member: the next group's B). */
typedef struct {
  const char *row;
  ptrdiff_t ld;
  size_t last, lines, line, left, every;
} nnk_gemm_ahead;

/* One line of `ah` asked for, its state advanced. */
static inline void nnk_gemm_ask(nnk_gemm_ahead *ah)
{
  if (!ah->left) return;
  const size_t off = 64 * ah->line; /* the row's last byte for its last line */
  __builtin_prefetch(ah->row + (off < ah->last ? off : ah->last), 0, 2); /* into L2 */
  if (--ah->left && ++ah->line == ah->lines) ah->line = 0, ah->row += ah->ld;
}

/* A packed microkernel computes one MR x NR tile: C[0:MR, 0:NR] = alpha (A_panel @
 * B_panel) + beta C + bias, the panels packed (A: kc columns of MR values, B: kc rows of
 * NR), C at row stride rs_c and unit column stride, bias a row of the tile's columns
 * added to each of its rows (NULL: none; the sum alpha A B + beta C rounded, then the
 * bias added).  A direct tile reads A and B unpacked (rows at rs_a and rs_b, unit column
 * stride) for small problems: mb <= MR rows, nb columns.  Unless direct_any_width, B
 * holds NR columns whatever nb (those past nb zero: a packed, padded panel) and the
 * tile stores NR columns (a private tile where nb < NR), but may compute only a
 * vector's width where nb fits in one.  beta == 0 never reads C. */
#define NNK_SIG_GEMM_UKERNEL(T)                                                           \
  (size_t kc, T alpha, const T *a, const T *b, T beta, T *c, ptrdiff_t rs_c, const T *bias, \
   nnk_gemm_ahead *ahead)
/* A packed tile of mb <= MR rows and nb <= NR columns, not both whole (A's panel
 * zero-padded to MR rows, B's to NR columns, as the microkernel's): rows mb..MR-1 are
 * neither computed nor stored; columns past nb not stored, and not computed where a
 * vector's width of them is left.  nb < NR only where direct_any_width. */
#define NNK_SIG_GEMM_EDGE(T)                                                              \
  (size_t mb, size_t nb, size_t kc, T alpha, const T *a, const T *b, T beta, T *c,        \
   ptrdiff_t rs_c, const T *bias)
#define NNK_SIG_GEMM_DIRECT(T)                                                            \
  (size_t mb, size_t nb, size_t kc, T alpha, const T *a, ptrdiff_t rs_a, const T *b,      \
   ptrdiff_t rs_b, T beta, T *c, ptrdiff_t rs_c, const T *bias, nnk_gemm_ahead *ahead)
/* Packing an operand that lies across its panels (A's rows or B's columns contiguous):
 * r rows of kc contiguous values at stride ld -> dst[p width + i] = row i's value p,
 * rows r..width-1 zero (csrc/gemm/pack.c). */
#define NNK_SIG_GEMM_PACK(T)                                                              \
  (size_t r, size_t kc, const T *src, ptrdiff_t ld, size_t width, T *dst)

/* A CPU's GEMM, BLIS-style: a microkernel, its tile and the block sizes (MC, NC
 * multiples of MR, NR), and the sizes (m n k) at which the paths change.  ukernel ==
 * NULL: no blocked path, the scalar reference runs. */
#define NNK_GEMM_CONFIG_FIELDS(T)                                                         \
  size_t mr, nr, mc, kc, nc;                                                              \
  size_t a_block; /* elements an A block may take (MC KC at most) where a product's k   \
                   * may take a KC of its own; 0: KC is a bound (gemm_impl.h)       */   \
  size_t kc_c_in_l2, c_in_l2, k_c_in_l2; /* KC where C's m n values take c_in_l2    \
                               * bytes or fewer and k is k_c_in_l2 or more: the L1      \
                               * model's (csrc/gemm/blocking.c)                      */ \
  size_t l1_way; /* bytes of L1 one way holds (size / ways): addresses that far apart    \
                  * share a set (from the CPU's caches, as the blocks)                */ \
  size_t l3;     /* bytes of L3 (0: none known)                                     */   \
  const char *blocks_rule; /* the rule that sized MC, KC, NC (csrc/gemm/blocking.c)  */   \
  void(*ukernel) NNK_SIG_GEMM_UKERNEL(T);                                                 \
  void(*edge) NNK_SIG_GEMM_EDGE(T); /* NULL: edge rows as a whole tile, merged      */   \
  void(*direct) NNK_SIG_GEMM_DIRECT(T);                                                   \
  void(*pack) NNK_SIG_GEMM_PACK(T); /* NULL: the driver packs element by element   */   \
  bool direct_any_width; /* direct takes nb < NR (masks): no edge packing or merging */   \
  double small_mnk;      /* up to here the reference loops (set-up costs more)      */   \
  double direct_mnk;     /* up to here (and k <= KC) direct tiles, no packing       */   \
  double threads_mnk;    /* from here threads pay for their start-up                */   \
  double threads_mv;     /* the same for matrix-vector products (matrix elements)   */
typedef struct { NNK_GEMM_CONFIG_FIELDS(float) } nnk_f32_gemm_config;
typedef struct { NNK_GEMM_CONFIG_FIELDS(double) } nnk_f64_gemm_config;

/* The largest tile any ISA uses: edge tiles are computed into a buffer this big. */
#define NNK_GEMM_MAX_MR 8
#define NNK_GEMM_MAX_NR 32

/* ---- The table: one struct of kernels per dtype ---------------------------- */
/* (These three serve every list of named kernels with their own signatures.) */
#define NNK_STEP_FIELD_(name, SIG, T) void(*name) SIG(T);
#define NNK_DTYPE_KERNELS(T, P)                                                           \
  typedef struct {                                                                        \
    void(*map[NNK_MAP_COUNT]) NNK_SIG_MAP(T);                                             \
    void(*grad[NNK_GRAD_COUNT]) NNK_SIG_GRAD(T);                                          \
    /* the maps and gradients with non-temporal stores, for outputs larger than the      \
     * last cache (threads/maps.c); NULL where the ISA has none (scalar, NEON)   */        \
    void(*map_nt[NNK_MAP_COUNT]) NNK_SIG_MAP(T);                                          \
    void(*grad_nt[NNK_GRAD_COUNT]) NNK_SIG_GRAD(T);                                       \
    void(*pmap[NNK_PMAP_COUNT]) NNK_SIG_PMAP(T);                                          \
    void(*pgrad[NNK_PGRAD_COUNT]) NNK_SIG_PGRAD(T);                                       \
    void(*rows[NNK_ROWS_COUNT]) NNK_SIG_ROWS(T);                                          \
    void(*rows_grad[NNK_ROWS_GRAD_COUNT]) NNK_SIG_ROWS_GRAD(T);                           \
    void(*gemv[NNK_GEMV_COUNT]) NNK_SIG_GEMV(T);                                          \
    T(*loss[NNK_LOSS_COUNT]) NNK_SIG_LOSS(T);                                             \
    void(*loss_grad[NNK_LOSS_COUNT]) NNK_SIG_LOSS_GRAD(T);                                \
    NNK_STEP_LIST(NNK_STEP_FIELD_, T)                                                     \
    NNK_ROW_LAYER_LIST(NNK_STEP_FIELD_, T)                                                \
    NNK_ATTENTION_LIST(NNK_STEP_FIELD_, T)                                                \
    nnk_##P##_gemm_config gemm;                                                           \
  } nnk_##P##_kernels;
NNK_DTYPE_KERNELS(float, f32)
NNK_DTYPE_KERNELS(double, f64)

typedef struct {
  nnk_isa isa;
  nnk_f32_kernels f32;
  nnk_f64_kernels f64;
} nnk_kernel_table;

/* The table of an ISA compiled into this build (NULL if not compiled in); the
 * current one.  Callers of nnk_kernels() get a table that stays valid forever. */
const nnk_kernel_table *nnk_kernels_for(nnk_isa isa);
const nnk_kernel_table *nnk_kernels(void);

/* ---- One ISA's symbols and table, from the lists (used by csrc/config/) ----- */
#define NNK_DECL_MAP_(E, name, u, lo, hi, P, T, isa) void nnk_##P##_v##name##__##isa NNK_SIG_MAP(T);
#define NNK_DECL_GRAD_(E, name, u, lo, hi, P, T, isa) void nnk_##P##_v##name##__##isa NNK_SIG_GRAD(T);
#define NNK_DECL_MAP_NT_(E, name, u, lo, hi, P, T, isa) void nnk_##P##_v##name##_nt__##isa NNK_SIG_MAP(T);
#define NNK_DECL_GRAD_NT_(E, name, u, lo, hi, P, T, isa) void nnk_##P##_v##name##_nt__##isa NNK_SIG_GRAD(T);
#define NNK_DECL_PMAP_(E, name, u, lo, hi, P, T, isa) void nnk_##P##_v##name##__##isa NNK_SIG_PMAP(T);
#define NNK_DECL_PGRAD_(E, name, u, lo, hi, P, T, isa) void nnk_##P##_v##name##__##isa NNK_SIG_PGRAD(T);
#define NNK_DECL_ROWS_(E, name, per_row, P, T, isa) void nnk_##P##_##name##_rows__##isa NNK_SIG_ROWS(T);
#define NNK_DECL_ROWS_GRAD_(E, name, P, T, isa) void nnk_##P##_##name##_rows__##isa NNK_SIG_ROWS_GRAD(T);
#define NNK_DECL_GEMV_(E, name, P, T, isa) void nnk_##P##_##name##__##isa NNK_SIG_GEMV(T);
#define NNK_DECL_LOSS_(E, name, lo, hi, P, T, isa)                                        \
  T nnk_##P##_loss_##name##__##isa NNK_SIG_LOSS(T);                                        \
  void nnk_##P##_loss_##name##_grad__##isa NNK_SIG_LOSS_GRAD(T);
#define NNK_DECL_STEP_(name, SIG, P, T, isa) void nnk_##P##_##name##__##isa SIG(T);
#define NNK_DECLARE_DTYPE_KERNELS_(P, T, isa)                                             \
  NNK_MAP_LIST(NNK_DECL_MAP_, P, T, isa)                                                  \
  NNK_GRAD_LIST(NNK_DECL_GRAD_, P, T, isa)                                                \
  NNK_MAP_LIST(NNK_DECL_MAP_NT_, P, T, isa)                                               \
  NNK_GRAD_LIST(NNK_DECL_GRAD_NT_, P, T, isa)                                             \
  NNK_PMAP_LIST(NNK_DECL_PMAP_, P, T, isa)                                                \
  NNK_PGRAD_LIST(NNK_DECL_PGRAD_, P, T, isa)                                              \
  NNK_ROWS_LIST(NNK_DECL_ROWS_, P, T, isa)                                                \
  NNK_ROWS_GRAD_LIST(NNK_DECL_ROWS_GRAD_, P, T, isa)                                      \
  NNK_GEMV_LIST(NNK_DECL_GEMV_, P, T, isa)                                                \
  NNK_LOSS_LIST(NNK_DECL_LOSS_, P, T, isa)                                                \
  NNK_STEP_LIST(NNK_DECL_STEP_, P, T, isa)                                                \
  NNK_ROW_LAYER_LIST(NNK_DECL_STEP_, P, T, isa)                                           \
  NNK_ATTENTION_LIST(NNK_DECL_STEP_, P, T, isa)
#define NNK_DECLARE_ISA_KERNELS(isa)                                                      \
  NNK_DECLARE_DTYPE_KERNELS_(f32, float, isa)                                             \
  NNK_DECLARE_DTYPE_KERNELS_(f64, double, isa)

#define NNK_AT_MAP_(E, name, u, lo, hi, P, isa) [NNK_##E] = nnk_##P##_v##name##__##isa,
#define NNK_AT_MAP_NT_(E, name, u, lo, hi, P, isa) [NNK_##E] = nnk_##P##_v##name##_nt__##isa,
#define NNK_AT_ROWS_(E, name, per_row, P, isa) [NNK_##E] = nnk_##P##_##name##_rows__##isa,
#define NNK_AT_ROWS_GRAD_(E, name, P, isa) [NNK_##E] = nnk_##P##_##name##_rows__##isa,
#define NNK_AT_GEMV_(E, name, P, isa) [NNK_##E] = nnk_##P##_##name##__##isa,
#define NNK_AT_LOSS_(E, name, lo, hi, P, isa) [NNK_##E] = nnk_##P##_loss_##name##__##isa,
#define NNK_AT_LOSS_GRAD_(E, name, lo, hi, P, isa) [NNK_##E] = nnk_##P##_loss_##name##_grad__##isa,
#define NNK_AT_STEP_(name, SIG, P, isa) .name = nnk_##P##_##name##__##isa,
/* The initializer of one dtype's kernels (all but .gemm) on one ISA. */
#define NNK_DTYPE_TABLE(P, isa)                                                           \
  NNK_STEP_LIST(NNK_AT_STEP_, P, isa)                                                     \
  NNK_ROW_LAYER_LIST(NNK_AT_STEP_, P, isa)                                                \
  NNK_ATTENTION_LIST(NNK_AT_STEP_, P, isa)                                                \
  .map = {NNK_MAP_LIST(NNK_AT_MAP_, P, isa)},                                             \
  .grad = {NNK_GRAD_LIST(NNK_AT_MAP_, P, isa)},                                           \
  .pmap = {NNK_PMAP_LIST(NNK_AT_MAP_, P, isa)},                                           \
  .pgrad = {NNK_PGRAD_LIST(NNK_AT_MAP_, P, isa)},                                         \
  .rows = {NNK_ROWS_LIST(NNK_AT_ROWS_, P, isa)},                                          \
  .rows_grad = {NNK_ROWS_GRAD_LIST(NNK_AT_ROWS_GRAD_, P, isa)},                           \
  .gemv = {NNK_GEMV_LIST(NNK_AT_GEMV_, P, isa)},                                          \
  .loss = {NNK_LOSS_LIST(NNK_AT_LOSS_, P, isa)},                                          \
  .loss_grad = {NNK_LOSS_LIST(NNK_AT_LOSS_GRAD_, P, isa)}

/* The non-temporal maps and gradients of an ISA that has them (its layer defines
 * NNK_STREAM_STORES), beside NNK_DTYPE_TABLE. */
#define NNK_DTYPE_TABLE_NT(P, isa)                                                        \
  .map_nt = {NNK_MAP_LIST(NNK_AT_MAP_NT_, P, isa)},                                       \
  .grad_nt = {NNK_GRAD_LIST(NNK_AT_MAP_NT_, P, isa)}

/* The scalar reference GEMM (the oracle), strided like nnk_sgemm_strided. */
#define NNK_SIG_GEMM_REF(T)                                                               \
  (size_t m, size_t n, size_t k, T alpha, const T *a, ptrdiff_t rs_a, ptrdiff_t cs_a,     \
   const T *b, ptrdiff_t rs_b, ptrdiff_t cs_b, T beta, T *c, ptrdiff_t rs_c, ptrdiff_t cs_c)
void nnk_f32_gemm_ref__scalar NNK_SIG_GEMM_REF(float);
void nnk_f64_gemm_ref__scalar NNK_SIG_GEMM_REF(double);

#endif /* NNK_KERNELS_H */
