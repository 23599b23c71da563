/*
 * AVX-512F GEMM microkernels: 8 x 32 (f32) and 8 x 16 (f64) tiles, two ZMM vectors of B
 * per row, sixteen ZMM accumulators (of 32 registers).  Per k step: two loads of B,
 * eight broadcasts of A, sixteen FMAs.  Against AVX2's 6 x 16 the tile is 2.7x larger
 * for the same loop overhead, and 8 rows divide the sizes networks use (64, 256...).
 *
 * One inline body serves both forms: packed A (row i of step p at a[i + p*MR]) and
 * direct A (row i at a + i*rs_a, unit column stride, mb <= MR rows: missing rows
 * repeat the last real one and are not stored).  The wrappers pass constants, so each
 * compiles to its own loop.  Broadcasts are plain loads, which ASan checks.
 */
#include <immintrin.h>
#include <stddef.h>

#include "ukernels.h"

#define MR 8
#define INLINE static inline __attribute__((always_inline))

#define DEFINE_TILE(T, V, LANES, SET1, LOAD, STORE, FMADD, MUL, ZERO)                     \
  INLINE void tile_##T(size_t mb, size_t kc, T alpha, const T *a, ptrdiff_t rs_a,          \
                       ptrdiff_t cs_a, const T *b, ptrdiff_t rs_b, T beta, T *c,            \
                       ptrdiff_t rs_c, int prefetch)                                      \
  {                                                                                      \
    const T *ar[MR];                                                                     \
    V acc0[MR], acc1[MR];                                                                \
    _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++)                                 \
    {                                                                                    \
      ar[i] = a + (ptrdiff_t)((size_t)i < mb ? (size_t)i : mb - 1) * rs_a;               \
      acc0[i] = ZERO(), acc1[i] = ZERO();                                                \
      if (prefetch) {                                                                    \
        _mm_prefetch((const char *)(c + i * rs_c), _MM_HINT_T0);                         \
        _mm_prefetch((const char *)(c + i * rs_c + 2 * LANES - 1), _MM_HINT_T0);         \
      }                                                                                  \
    }                                                                                    \
    for (size_t p = 0; p < kc; p++, b += rs_b) {                                          \
      V b0 = LOAD(b), b1 = LOAD(b + LANES);                                              \
      if (prefetch) _mm_prefetch((const char *)(ar[0] + (ptrdiff_t)p * cs_a + 128), _MM_HINT_T0); \
      _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++)                               \
      {                                                                                  \
        V ai = SET1(ar[i][(ptrdiff_t)p * cs_a]);                                         \
        acc0[i] = FMADD(ai, b0, acc0[i]), acc1[i] = FMADD(ai, b1, acc1[i]);              \
      }                                                                                  \
    }                                                                                    \
    const V va = SET1(alpha), vb = SET1(beta);                                           \
    _Pragma("GCC unroll 8") for (int i = 0; i < MR; i++)                                 \
    {                                                                                    \
      if ((size_t)i >= mb) break;                                                        \
      T *cr = c + i * rs_c;                                                              \
      V lo = acc0[i], hi = acc1[i];                                                      \
      if (alpha != 1) lo = MUL(va, lo), hi = MUL(va, hi);                                \
      if (beta != 0) /* beta == 0 must not read C: it may hold NaN */                    \
        lo = FMADD(vb, LOAD(cr), lo), hi = FMADD(vb, LOAD(cr + LANES), hi);              \
      STORE(cr, lo), STORE(cr + LANES, hi);                                              \
    }                                                                                    \
  }

DEFINE_TILE(float, __m512, 16, _mm512_set1_ps, _mm512_loadu_ps, _mm512_storeu_ps,
            _mm512_fmadd_ps, _mm512_mul_ps, _mm512_setzero_ps)
DEFINE_TILE(double, __m512d, 8, _mm512_set1_pd, _mm512_loadu_pd, _mm512_storeu_pd,
            _mm512_fmadd_pd, _mm512_mul_pd, _mm512_setzero_pd)

void nnk_f32_gemm_ukernel_8x32__avx512(size_t kc, float alpha, const float *a, const float *b,
                                       float beta, float *c, ptrdiff_t rs_c)
{
  tile_float(MR, kc, alpha, a, 1, MR, b, 32, beta, c, rs_c, 1);
}

void nnk_f64_gemm_ukernel_8x16__avx512(size_t kc, double alpha, const double *a,
                                       const double *b, double beta, double *c, ptrdiff_t rs_c)
{
  tile_double(MR, kc, alpha, a, 1, MR, b, 16, beta, c, rs_c, 1);
}

void nnk_f32_gemm_direct_8x32__avx512(size_t mb, size_t kc, float alpha, const float *a,
                                      ptrdiff_t rs_a, const float *b, ptrdiff_t rs_b,
                                      float beta, float *c, ptrdiff_t rs_c)
{
  tile_float(mb, kc, alpha, a, rs_a, 1, b, rs_b, beta, c, rs_c, 0);
}

void nnk_f64_gemm_direct_8x16__avx512(size_t mb, size_t kc, double alpha, const double *a,
                                      ptrdiff_t rs_a, const double *b, ptrdiff_t rs_b,
                                      double beta, double *c, ptrdiff_t rs_c)
{
  tile_double(mb, kc, alpha, a, rs_a, 1, b, rs_b, beta, c, rs_c, 0);
}
