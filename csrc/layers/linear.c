/* The fully connected layer on top of GEMM, as XNNPACK's fully-connected operator is:
 * one call per layer and direction instead of three to five.  On a small network a
 * training step is nothing but such calls, so their number is its cost. */
#include <stdlib.h>

#include "../gemm/gemm.h"
#include "linear.h"
#include "nnk_kernels.h"

/* db (+)= the column sums of g (n x out) as the product 1^T g: a vector-matrix product,
 * whose threads split the columns, each summed over the rows in order as one thread
 * sums it.  Row by row (axpy into db) it was one thread's work in a threaded backward:
 * GPT's 1024 x 512 bias gradients (two threads, Zen 4). */
#define DEFINE_COLUMN_SUMS(T, P, GEMM)                                                     \
  static nnk_status nnk_##P##_column_sums(size_t n, size_t out, const T *g, T *db, bool add) \
  {                                                                                       \
    T *ones = malloc((n ? n : 1) * sizeof(T));                                            \
    if (!ones) return NNK_ENOMEM;                                                         \
    for (size_t r = 0; r < n; r++) ones[r] = 1;                                           \
    nnk_status st = GEMM(false, false, 1, out, n, 1, ones, n ? n : 1, g, out, add ? 1 : 0, db, out); \
    free(ones);                                                                           \
    return st;                                                                            \
  }
DEFINE_COLUMN_SUMS(float, f32, nnk_sgemm)
DEFINE_COLUMN_SUMS(double, f64, nnk_dgemm)

#define DEFINE_LINEAR(T, P, GEMM)                                                          \
  nnk_status nnk_##P##_linear_forward(size_t n, size_t in, size_t out, const T *x,         \
                                      const T *w, const T *b, T *y)                       \
  {                                                                                       \
    return nnk_##P##_gemm_bias(false, true, n, out, in, 1, x, in, w, in, 0, y, out, b);    \
  }                                                                                       \
                                                                                          \
  nnk_status nnk_##P##_linear_backward(size_t n, size_t in, size_t out, const T *x,        \
                                       const T *w, const T *g, T *dw, T *db, T *dx,        \
                                       bool add)                                          \
  {                                                                                       \
    nnk_status st = dw ? GEMM(true, false, out, in, n, 1, g, out, x, in, add ? 1 : 0, dw, in) \
                       : NNK_OK;                                                          \
    if (st == NNK_OK && db) st = nnk_##P##_column_sums(n, out, g, db, add);                \
    if (st == NNK_OK && dx) st = GEMM(false, false, n, in, out, 1, g, out, w, in, 0, dx, in); \
    return st;                                                                            \
  }

DEFINE_LINEAR(float, f32, nnk_sgemm)
DEFINE_LINEAR(double, f64, nnk_dgemm)
