/*
 * AVX2+FMA GEMM microkernels.  Twelve YMM accumulators hold the C tile; per k step
 * two loads of B and six broadcasts of A feed twelve FMAs (Zen and Haswell issue two
 * FMAs a cycle with latency 4-5, so twelve independent chains keep both pipes busy).
 *
 * Prefetch, as BLIS's Haswell kernels do: the C tile is far out of cache when a kernel
 * starts (it was last touched one KC block ago), so its lines are requested first and
 * arrive while the k loop runs; A streams from L2 and is requested a few lines ahead.
 *
 * A's values are broadcast as _mm256_set1_ps(*p), not _mm256_broadcast_ss(p): the
 * compiler emits the same vbroadcastss from memory, but the load is a plain C access
 * that AddressSanitizer checks (the builtin is opaque to it).
 */
#include <immintrin.h>
#include <stddef.h>

#include "ukernels.h"

/* C row := alpha * acc + beta * C row, without reading C when beta == 0. */
#define STORE_ROW_F32(row, lo, hi)                                                 \
  do {                                                                             \
    float *cr = c + (row) * rs_c;                                                  \
    __m256 l = _mm256_mul_ps(va, lo), h = _mm256_mul_ps(va, hi);                   \
    if (beta != 0) {                                                               \
      l = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), l);                             \
      h = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), h);                         \
    }                                                                              \
    _mm256_storeu_ps(cr, l);                                                       \
    _mm256_storeu_ps(cr + 8, h);                                                   \
  } while (0)

/* Both cache lines a row of the tile may straddle. */
#define PREFETCH_C_ROWS(T, width)                                                  \
  for (int i = 0; i < 6; i++) {                                                    \
    _mm_prefetch((const char *)(c + i * rs_c), _MM_HINT_T0);                       \
    _mm_prefetch((const char *)(c + i * rs_c + (width) - 1), _MM_HINT_T0);         \
  }

void nnk_f32_gemm_ukernel_6x16__avx2(size_t kc, float alpha, const float *a, const float *b,
                                     float beta, float *c, ptrdiff_t rs_c)
{
  PREFETCH_C_ROWS(float, 16)
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (size_t p = 0; p < kc; p++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 ai;
    _mm_prefetch((const char *)(a + 64), _MM_HINT_T0);
    ai = _mm256_set1_ps(*(a + 0));
    c00 = _mm256_fmadd_ps(ai, b0, c00), c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_set1_ps(*(a + 1));
    c10 = _mm256_fmadd_ps(ai, b0, c10), c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_set1_ps(*(a + 2));
    c20 = _mm256_fmadd_ps(ai, b0, c20), c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_set1_ps(*(a + 3));
    c30 = _mm256_fmadd_ps(ai, b0, c30), c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_set1_ps(*(a + 4));
    c40 = _mm256_fmadd_ps(ai, b0, c40), c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_set1_ps(*(a + 5));
    c50 = _mm256_fmadd_ps(ai, b0, c50), c51 = _mm256_fmadd_ps(ai, b1, c51);
    a += 6;
    b += 16;
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  STORE_ROW_F32(0, c00, c01);
  STORE_ROW_F32(1, c10, c11);
  STORE_ROW_F32(2, c20, c21);
  STORE_ROW_F32(3, c30, c31);
  STORE_ROW_F32(4, c40, c41);
  STORE_ROW_F32(5, c50, c51);
}

#define STORE_ROW_F64(row, lo, hi)                                                 \
  do {                                                                             \
    double *cr = c + (row) * rs_c;                                                 \
    __m256d l = _mm256_mul_pd(va, lo), h = _mm256_mul_pd(va, hi);                  \
    if (beta != 0) {                                                               \
      l = _mm256_fmadd_pd(vb, _mm256_loadu_pd(cr), l);                             \
      h = _mm256_fmadd_pd(vb, _mm256_loadu_pd(cr + 4), h);                         \
    }                                                                              \
    _mm256_storeu_pd(cr, l);                                                       \
    _mm256_storeu_pd(cr + 4, h);                                                   \
  } while (0)

void nnk_f64_gemm_ukernel_6x8__avx2(size_t kc, double alpha, const double *a, const double *b,
                                    double beta, double *c, ptrdiff_t rs_c)
{
  PREFETCH_C_ROWS(double, 8)
  __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
  __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
  __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
  __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
  __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
  __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
  for (size_t p = 0; p < kc; p++) {
    __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
    __m256d ai;
    _mm_prefetch((const char *)(a + 32), _MM_HINT_T0);
    ai = _mm256_set1_pd(*(a + 0));
    c00 = _mm256_fmadd_pd(ai, b0, c00), c01 = _mm256_fmadd_pd(ai, b1, c01);
    ai = _mm256_set1_pd(*(a + 1));
    c10 = _mm256_fmadd_pd(ai, b0, c10), c11 = _mm256_fmadd_pd(ai, b1, c11);
    ai = _mm256_set1_pd(*(a + 2));
    c20 = _mm256_fmadd_pd(ai, b0, c20), c21 = _mm256_fmadd_pd(ai, b1, c21);
    ai = _mm256_set1_pd(*(a + 3));
    c30 = _mm256_fmadd_pd(ai, b0, c30), c31 = _mm256_fmadd_pd(ai, b1, c31);
    ai = _mm256_set1_pd(*(a + 4));
    c40 = _mm256_fmadd_pd(ai, b0, c40), c41 = _mm256_fmadd_pd(ai, b1, c41);
    ai = _mm256_set1_pd(*(a + 5));
    c50 = _mm256_fmadd_pd(ai, b0, c50), c51 = _mm256_fmadd_pd(ai, b1, c51);
    a += 6;
    b += 8;
  }
  const __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(beta);
  STORE_ROW_F64(0, c00, c01);
  STORE_ROW_F64(1, c10, c11);
  STORE_ROW_F64(2, c20, c21);
  STORE_ROW_F64(3, c30, c31);
  STORE_ROW_F64(4, c40, c41);
  STORE_ROW_F64(5, c50, c51);
}

/*
 * Direct microkernels for small problems, XNNPACK-style: A is read where it lies (row i
 * of the tile at a + i*rs_a, unit column stride) and B row by row at stride rs_b, so
 * nothing is packed.  mb (1..6) rows exist: the pointers of missing rows repeat the
 * last real row (valid memory; their results are not stored).
 */
#define DIRECT_ROWS(T)                                                             \
  const T *a0 = a, *a1 = mb > 1 ? a0 + rs_a : a0, *a2 = mb > 2 ? a1 + rs_a : a1;   \
  const T *a3 = mb > 3 ? a2 + rs_a : a2, *a4 = mb > 4 ? a3 + rs_a : a3;            \
  const T *a5 = mb > 5 ? a4 + rs_a : a4;

void nnk_f32_gemm_direct_6x16__avx2(size_t mb, size_t kc, float alpha, const float *a,
                                    ptrdiff_t rs_a, const float *b, ptrdiff_t rs_b,
                                    float beta, float *c, ptrdiff_t rs_c)
{
  DIRECT_ROWS(float)
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (size_t p = 0; p < kc; p++, b += rs_b) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 ai;
    ai = _mm256_set1_ps(*(a0 + p));
    c00 = _mm256_fmadd_ps(ai, b0, c00), c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_set1_ps(*(a1 + p));
    c10 = _mm256_fmadd_ps(ai, b0, c10), c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_set1_ps(*(a2 + p));
    c20 = _mm256_fmadd_ps(ai, b0, c20), c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_set1_ps(*(a3 + p));
    c30 = _mm256_fmadd_ps(ai, b0, c30), c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_set1_ps(*(a4 + p));
    c40 = _mm256_fmadd_ps(ai, b0, c40), c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_set1_ps(*(a5 + p));
    c50 = _mm256_fmadd_ps(ai, b0, c50), c51 = _mm256_fmadd_ps(ai, b1, c51);
  }
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  STORE_ROW_F32(0, c00, c01);
  if (mb > 1) STORE_ROW_F32(1, c10, c11);
  if (mb > 2) STORE_ROW_F32(2, c20, c21);
  if (mb > 3) STORE_ROW_F32(3, c30, c31);
  if (mb > 4) STORE_ROW_F32(4, c40, c41);
  if (mb > 5) STORE_ROW_F32(5, c50, c51);
}

void nnk_f64_gemm_direct_6x8__avx2(size_t mb, size_t kc, double alpha, const double *a,
                                   ptrdiff_t rs_a, const double *b, ptrdiff_t rs_b,
                                   double beta, double *c, ptrdiff_t rs_c)
{
  DIRECT_ROWS(double)
  __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
  __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
  __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
  __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
  __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
  __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
  for (size_t p = 0; p < kc; p++, b += rs_b) {
    __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
    __m256d ai;
    ai = _mm256_set1_pd(*(a0 + p));
    c00 = _mm256_fmadd_pd(ai, b0, c00), c01 = _mm256_fmadd_pd(ai, b1, c01);
    ai = _mm256_set1_pd(*(a1 + p));
    c10 = _mm256_fmadd_pd(ai, b0, c10), c11 = _mm256_fmadd_pd(ai, b1, c11);
    ai = _mm256_set1_pd(*(a2 + p));
    c20 = _mm256_fmadd_pd(ai, b0, c20), c21 = _mm256_fmadd_pd(ai, b1, c21);
    ai = _mm256_set1_pd(*(a3 + p));
    c30 = _mm256_fmadd_pd(ai, b0, c30), c31 = _mm256_fmadd_pd(ai, b1, c31);
    ai = _mm256_set1_pd(*(a4 + p));
    c40 = _mm256_fmadd_pd(ai, b0, c40), c41 = _mm256_fmadd_pd(ai, b1, c41);
    ai = _mm256_set1_pd(*(a5 + p));
    c50 = _mm256_fmadd_pd(ai, b0, c50), c51 = _mm256_fmadd_pd(ai, b1, c51);
  }
  const __m256d va = _mm256_set1_pd(alpha), vb = _mm256_set1_pd(beta);
  STORE_ROW_F64(0, c00, c01);
  if (mb > 1) STORE_ROW_F64(1, c10, c11);
  if (mb > 2) STORE_ROW_F64(2, c20, c21);
  if (mb > 3) STORE_ROW_F64(3, c30, c31);
  if (mb > 4) STORE_ROW_F64(4, c40, c41);
  if (mb > 5) STORE_ROW_F64(5, c50, c51);
}
