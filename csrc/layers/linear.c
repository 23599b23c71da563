/* The fully connected layer on top of GEMM, as XNNPACK's fully-connected operator is:
 * one call per layer and direction instead of three to five.  On a small network a
 * training step is nothing but such calls, so their number is its cost. */
#include <string.h>

#include "../gemm/gemm.h"
#include "linear.h"
#include "nnk_kernels.h"

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
    nnk_status st = GEMM(true, false, out, in, n, 1, g, out, x, in, add ? 1 : 0, dw, in);  \
    if (st == NNK_OK && db) {                                                              \
      const nnk_kernel_table *k = nnk_kernels();                                          \
      if (!add) memset(db, 0, out * sizeof(T));                                            \
      for (size_t r = 0; r < n; r++) k->P.axpy(out, 1, g + r * out, db);                 \
    }                                                                                     \
    if (st == NNK_OK && dx) st = GEMM(false, false, n, in, out, 1, g, out, w, in, 0, dx, in); \
    return st;                                                                            \
  }

DEFINE_LINEAR(float, f32, nnk_sgemm)
DEFINE_LINEAR(double, f64, nnk_dgemm)
