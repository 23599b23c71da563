/*
 * AVX-512F GEMM microkernels: 8 x 32 (f32) and 8 x 16 (f64) tiles in sixteen ZMM
 * accumulators (of 32 registers).  Against AVX2's 6 x 16 the tile is 2.7x larger for
 * the same loop overhead, and 8 rows divide the sizes networks use (64, 256...).
 * Direct tiles take any width up to NR through masks: a 10-wide output layer costs
 * one masked vector, not a packed and merged 32-wide tile; edges of fewer rows take
 * tiles of their own (packed, nnk_*_gemm_edge_*, and direct).
 * Body: ukernel_tile.h.
 */
#include "ukernel_tile.h"
#include "nnk_kernels.h"

/* The first n lanes (n <= 16) as a mask. */
#define MASK16(n) ((__mmask16)((1u << (n)) - 1))
#define MASK8(n) ((__mmask8)((1u << (n)) - 1))
/* A partial second vector of columns: masked, in its place after the first. */
#define LAST_MASKED_F32(p, nb, m) ((p) + 16)
#define LAST_MASKED_F64(p, nb, m) ((p) + 8)

/* The tiles, R rows each: 8 (the microkernel's), and fewer for the edges (an 8-row tile
 * computes a missing row from the last real one and discards it): mb rows cost mb eighths
 * of a tile.  Prefetch distance for packed A: 512 (f32) and 1024 (f64) bytes ahead. */
#define TILE_F32(NAME, R)                                                                  \
  NNK_DEFINE_TILE(NAME, float, __m512, R, 16, 128, _mm512_set1_ps, _mm512_loadu_ps,        \
                  _mm512_storeu_ps, _mm512_fmadd_ps, _mm512_mul_ps, _mm512_add_ps,         \
                  _mm512_setzero_ps, __mmask16, MASK16, _mm512_maskz_loadu_ps,             \
                  _mm512_mask_storeu_ps, LAST_MASKED_F32, _mm512_maskz_loadu_ps,           \
                  _mm512_mask_storeu_ps)
#define TILE_F64(NAME, R)                                                                  \
  NNK_DEFINE_TILE(NAME, double, __m512d, R, 8, 128, _mm512_set1_pd, _mm512_loadu_pd,       \
                  _mm512_storeu_pd, _mm512_fmadd_pd, _mm512_mul_pd, _mm512_add_pd,         \
                  _mm512_setzero_pd, __mmask8, MASK8, _mm512_maskz_loadu_pd,               \
                  _mm512_mask_storeu_pd, LAST_MASKED_F64, _mm512_maskz_loadu_pd,           \
                  _mm512_mask_storeu_pd)
TILE_F32(tile_f32, 8)
TILE_F32(tile_f32_r1, 1) TILE_F32(tile_f32_r2, 2) TILE_F32(tile_f32_r3, 3) TILE_F32(tile_f32_r4, 4)
TILE_F32(tile_f32_r5, 5) TILE_F32(tile_f32_r6, 6) TILE_F32(tile_f32_r7, 7)
TILE_F64(tile_f64, 8)
TILE_F64(tile_f64_r1, 1) TILE_F64(tile_f64_r2, 2) TILE_F64(tile_f64_r3, 3) TILE_F64(tile_f64_r4, 4)
TILE_F64(tile_f64_r5, 5) TILE_F64(tile_f64_r6, 6) TILE_F64(tile_f64_r7, 7)
#define ROWS_SWITCH(P, mb, ...)                                                            \
  switch (mb) {                                                                            \
  NNK_TILE_ROWS_CASES(P, __VA_ARGS__)                                                      \
  case 6: P##_r6(__VA_ARGS__); break;                                                      \
  case 7: P##_r7(__VA_ARGS__); break;                                                      \
  default: P(__VA_ARGS__);                                                                 \
  }

void nnk_f32_gemm_ukernel_8x32__avx512(size_t kc, float alpha, const float *a, const float *b,
                                       float beta, float *c, ptrdiff_t rs_c, const float *bias,
                                       nnk_gemm_ahead *ahead)
{
  NNK_TILE_ASKING(tile_f32, ahead, 8, 32, kc, alpha, a, 1, 8, b, 32, beta, c, rs_c, bias, 1);
}

void nnk_f64_gemm_ukernel_8x16__avx512(size_t kc, double alpha, const double *a,
                                       const double *b, double beta, double *c, ptrdiff_t rs_c, const double *bias,
                                       nnk_gemm_ahead *ahead)
{
  NNK_TILE_ASKING(tile_f64, ahead, 8, 16, kc, alpha, a, 1, 8, b, 16, beta, c, rs_c, bias, 1);
}

void nnk_f32_gemm_edge_8x32__avx512(size_t mb, size_t nb, size_t kc, float alpha, const float *a,
                                    const float *b, float beta, float *c, ptrdiff_t rs_c,
                                    const float *bias)
{
  ROWS_SWITCH(tile_f32, mb, mb, nb, kc, alpha, a, 1, 8, b, 32, beta, c, rs_c, bias, 1, NULL)
}

void nnk_f64_gemm_edge_8x16__avx512(size_t mb, size_t nb, size_t kc, double alpha, const double *a,
                                    const double *b, double beta, double *c, ptrdiff_t rs_c,
                                    const double *bias)
{
  ROWS_SWITCH(tile_f64, mb, mb, nb, kc, alpha, a, 1, 8, b, 16, beta, c, rs_c, bias, 1, NULL)
}

/* Direct tiles: a whole tile (the most of them) compiles to its own copy with the
 * row clamps and masks constant, the edges to the general one.  At 64^3 the general
 * form's set-up and masked stores took 190 cycles a tile (of 1024 for its FMAs). */
void nnk_f32_gemm_direct_8x32__avx512(size_t mb, size_t nb, size_t kc, float alpha,
                                      const float *a, ptrdiff_t rs_a, const float *b, ptrdiff_t rs_b,
                                      float beta, float *c, ptrdiff_t rs_c, const float *bias,
                                      nnk_gemm_ahead *ahead)
{
  if (mb == 8 && nb == 32)
    NNK_TILE_ASKING(tile_f32, ahead, 8, 32, kc, alpha, a, rs_a, 1, b, rs_b, beta, c, rs_c, bias, 0);
  else
    ROWS_SWITCH(tile_f32, mb, mb, nb, kc, alpha, a, rs_a, 1, b, rs_b, beta, c, rs_c, bias, 0, NULL)
}

void nnk_f64_gemm_direct_8x16__avx512(size_t mb, size_t nb, size_t kc, double alpha,
                                      const double *a, ptrdiff_t rs_a, const double *b,
                                      ptrdiff_t rs_b, double beta, double *c, ptrdiff_t rs_c, const double *bias,
                                      nnk_gemm_ahead *ahead)
{
  if (mb == 8 && nb == 16)
    NNK_TILE_ASKING(tile_f64, ahead, 8, 16, kc, alpha, a, rs_a, 1, b, rs_b, beta, c, rs_c, bias, 0);
  else
    ROWS_SWITCH(tile_f64, mb, mb, nb, kc, alpha, a, rs_a, 1, b, rs_b, beta, c, rs_c, bias, 0, NULL)
}
