/*
 * AVX2+FMA GEMM microkernels: 6 x 16 (f32) and 6 x 8 (f64) tiles in twelve YMM
 * accumulators (of 16 registers).  Zen and Haswell issue two FMAs a cycle with latency
 * 4-5, so twelve independent chains keep both pipes busy.  Body: ukernel_tile.h.
 */
#include "ukernel_tile.h"
#include "nnk_kernels.h"

/* No mask registers: partial tiles are packed zero-padded and merged by the driver, so
 * the mask forms are plain stand-ins (a direct tile of one vector's width loads and
 * stores whole vectors through them, of its padded panel and private tile). */
#define NO_MASK(n) 0
#define LOADM_F32(m, p) _mm256_loadu_ps(p)
#define STOREM_F32(p, m, v) _mm256_storeu_ps(p, v)
#define LOADM_F64(m, p) _mm256_loadu_pd(p)
#define STOREM_F64(p, m, v) _mm256_storeu_pd(p, v)

/* The tiles, R rows each: 6 (the microkernel's), and fewer for the edges (the 6-row tile
 * computes a missing row from the last real one and discards it, so an edge of two rows,
 * the last panel of every m = 128, or of 64, 256, 1024, costs a whole tile; its own tile
 * of mb rows costs mb sixths of one).  Prefetch distance for packed A: 256 bytes ahead. */
#define TILE_F32(NAME, R)                                                                  \
  NNK_DEFINE_TILE(NAME, float, __m256, R, 8, 64, _mm256_set1_ps, _mm256_loadu_ps,          \
                  _mm256_storeu_ps, _mm256_fmadd_ps, _mm256_mul_ps, _mm256_add_ps,         \
                  _mm256_setzero_ps, 0, int, NO_MASK, LOADM_F32, STOREM_F32)
#define TILE_F64(NAME, R)                                                                  \
  NNK_DEFINE_TILE(NAME, double, __m256d, R, 4, 32, _mm256_set1_pd, _mm256_loadu_pd,        \
                  _mm256_storeu_pd, _mm256_fmadd_pd, _mm256_mul_pd, _mm256_add_pd,         \
                  _mm256_setzero_pd, 0, int, NO_MASK, LOADM_F64, STOREM_F64)
TILE_F32(tile_f32, 6)
TILE_F32(tile_f32_r1, 1) TILE_F32(tile_f32_r2, 2) TILE_F32(tile_f32_r3, 3) TILE_F32(tile_f32_r4, 4)
TILE_F32(tile_f32_r5, 5)
TILE_F64(tile_f64, 6)
TILE_F64(tile_f64_r1, 1) TILE_F64(tile_f64_r2, 2) TILE_F64(tile_f64_r3, 3) TILE_F64(tile_f64_r4, 4)
TILE_F64(tile_f64_r5, 5)
#define ROWS_SWITCH(P, mb, ...)                                                            \
  switch (mb) {                                                                            \
  NNK_TILE_ROWS_CASES(P, __VA_ARGS__)                                                      \
  default: P(__VA_ARGS__);                                                                 \
  }

void nnk_f32_gemm_ukernel_6x16__avx2(size_t kc, float alpha, const float *a, const float *b,
                                     float beta, float *c, ptrdiff_t rs_c, const float *bias,
                                     nnk_gemm_ahead *ahead)
{
  NNK_TILE_ASKING(tile_f32, ahead, 6, 16, kc, alpha, a, 1, 6, b, 16, beta, c, rs_c, bias, 1);
}

void nnk_f64_gemm_ukernel_6x8__avx2(size_t kc, double alpha, const double *a, const double *b,
                                    double beta, double *c, ptrdiff_t rs_c, const double *bias,
                                    nnk_gemm_ahead *ahead)
{
  NNK_TILE_ASKING(tile_f64, ahead, 6, 8, kc, alpha, a, 1, 6, b, 8, beta, c, rs_c, bias, 1);
}

void nnk_f32_gemm_edge_6x16__avx2(size_t mb, size_t kc, float alpha, const float *a, const float *b,
                                  float beta, float *c, ptrdiff_t rs_c, const float *bias)
{
  ROWS_SWITCH(tile_f32, mb, mb, 16, kc, alpha, a, 1, 6, b, 16, beta, c, rs_c, bias, 1, NULL)
}

void nnk_f64_gemm_edge_6x8__avx2(size_t mb, size_t kc, double alpha, const double *a, const double *b,
                                 double beta, double *c, ptrdiff_t rs_c, const double *bias)
{
  ROWS_SWITCH(tile_f64, mb, mb, 8, kc, alpha, a, 1, 6, b, 8, beta, c, rs_c, bias, 1, NULL)
}

void nnk_f32_gemm_direct_6x16__avx2(size_t mb, size_t nb, size_t kc, float alpha,
                                    const float *a, ptrdiff_t rs_a, const float *b, ptrdiff_t rs_b,
                                    float beta, float *c, ptrdiff_t rs_c, const float *bias,
                                    nnk_gemm_ahead *ahead)
{
  if (mb == 6 && nb == 16) /* a whole tile: its own copy with the row clamps constant */
    NNK_TILE_ASKING(tile_f32, ahead, 6, 16, kc, alpha, a, rs_a, 1, b, rs_b, beta, c, rs_c, bias, 0);
  else /* an edge: nb <= 8 (of a padded panel) one vector of columns, else two */
    ROWS_SWITCH(tile_f32, mb, mb, nb, kc, alpha, a, rs_a, 1, b, rs_b, beta, c, rs_c, bias, 0, NULL)
}

void nnk_f64_gemm_direct_6x8__avx2(size_t mb, size_t nb, size_t kc, double alpha,
                                   const double *a, ptrdiff_t rs_a, const double *b, ptrdiff_t rs_b,
                                   double beta, double *c, ptrdiff_t rs_c, const double *bias,
                                   nnk_gemm_ahead *ahead)
{
  if (mb == 6 && nb == 8)
    NNK_TILE_ASKING(tile_f64, ahead, 6, 8, kc, alpha, a, rs_a, 1, b, rs_b, beta, c, rs_c, bias, 0);
  else
    ROWS_SWITCH(tile_f64, mb, mb, nb, kc, alpha, a, rs_a, 1, b, rs_b, beta, c, rs_c, bias, 0, NULL)
}
