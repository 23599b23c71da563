/*
 * The reference GEMM: the oracle every microkernel is tested against, and the
 * scalar ISA's GEMM.  Built with -ffp-contract=off -fno-tree-vectorize, so each
 * C(i,j) = alpha * sum_p A(i,p) B(p,j) + beta * C(i,j) is summed in p order with
 * separate multiplies and adds, reproducibly on every compiler and machine.
 * Loop order i-p-j over a strip of columns keeps B's rows streaming through cache.
 */
#include <stddef.h>

#include "nnk_kernels.h"

#define STRIP 256 /* columns accumulated at once, on the stack */

#define DEFINE_GEMM_REF(T, NAME)                                                          \
  void NAME(size_t m, size_t n, size_t k, T alpha, const T *a, ptrdiff_t rs_a,             \
            ptrdiff_t cs_a, const T *b, ptrdiff_t rs_b, ptrdiff_t cs_b, T beta, T *c,      \
            ptrdiff_t rs_c, ptrdiff_t cs_c)                                                \
  {                                                                                        \
    T acc[STRIP];                                                                          \
    for (size_t i = 0; i < m; i++)                                                         \
      for (size_t j0 = 0; j0 < n; j0 += STRIP) {                                           \
        size_t nj = n - j0 < STRIP ? n - j0 : STRIP;                                       \
        for (size_t j = 0; j < nj; j++) acc[j] = 0;                                        \
        for (size_t p = 0; p < k; p++) {                                                   \
          T aip = a[(ptrdiff_t)i * rs_a + (ptrdiff_t)p * cs_a];                            \
          const T *bp = b + (ptrdiff_t)p * rs_b + (ptrdiff_t)j0 * cs_b;                    \
          for (size_t j = 0; j < nj; j++) acc[j] += aip * bp[(ptrdiff_t)j * cs_b];         \
        }                                                                                  \
        for (size_t j = 0; j < nj; j++) {                                                  \
          T *cp = c + (ptrdiff_t)i * rs_c + (ptrdiff_t)(j0 + j) * cs_c;                    \
          *cp = beta == 0 ? alpha * acc[j] : alpha * acc[j] + beta * *cp;                  \
        }                                                                                  \
      }                                                                                    \
  }

DEFINE_GEMM_REF(float, nnk_f32_gemm_ref__scalar)
DEFINE_GEMM_REF(double, nnk_f64_gemm_ref__scalar)
