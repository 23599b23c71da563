/*
 * AVX2+FMA GEMM microkernels: 6 x 16 (f32) and 6 x 8 (f64) tiles in twelve YMM
 * accumulators (of 16 registers).  Zen and Haswell issue two FMAs a cycle with latency
 * 4-5, so twelve independent chains keep both pipes busy.  Body: ukernel_tile.h.
 */
#include "ukernel_tile.h"
#include "nnk_kernels.h"

/* AVX2 has no mask registers, but masked loads (vmaskmovps/pd: lanes outside the mask
 * touch no memory and read as zeros), so a tile may be narrower than NR: only its nb
 * columns of B are read (no zero-padded copy of an edge panel) and of C written (no
 * private tile merged afterwards).  Its masked stores are microcoded on AMD (as the
 * matrix-vector layer found, csrc/simd/f32_avx2.h), so a partial vector is stored by
 * halves instead: 4, 2 and 1 lanes, as its count's bits say.  A mask is the lane
 * count and the vector of lanes it selects, read from a row of ones then zeros.  A
 * partial second vector is no mask's but the whole vector ending at the row's last
 * column (LAST_OVERLAP): with a mask in a register the twelve accumulators spilled
 * (float32 200 x 10 x 1000 took twice as long). */
typedef struct {
  __m256i lanes;
  size_t n;
} mask_avx2;

static inline mask_avx2 mask_f32(size_t n)
{
  static const int32_t ones_zeros[16] = {-1, -1, -1, -1, -1, -1, -1, -1};
  return (mask_avx2){_mm256_loadu_si256((const __m256i *)(ones_zeros + 8 - n)), n};
}

static inline mask_avx2 mask_f64(size_t n)
{
  static const int64_t ones_zeros[8] = {-1, -1, -1, -1};
  return (mask_avx2){_mm256_loadu_si256((const __m256i *)(ones_zeros + 4 - n)), n};
}

static inline void store_f32_first(float *p, mask_avx2 m, __m256 v)
{
  if (m.n == 8) {
    _mm256_storeu_ps(p, v);
    return;
  }
  __m128 x = _mm256_castps256_ps128(v);
  if (m.n & 4) _mm_storeu_ps(p, x), p += 4, x = _mm256_extractf128_ps(v, 1);
  if (m.n & 2) _mm_storel_pi((__m64 *)p, x), p += 2, x = _mm_movehl_ps(x, x);
  if (m.n & 1) _mm_store_ss(p, x);
}

static inline void store_f64_first(double *p, mask_avx2 m, __m256d v)
{
  if (m.n == 4) {
    _mm256_storeu_pd(p, v);
    return;
  }
  __m128d x = _mm256_castpd256_pd128(v);
  if (m.n & 2) _mm_storeu_pd(p, x), p += 2, x = _mm256_extractf128_pd(v, 1);
  if (m.n & 1) _mm_store_sd(p, x);
}

#define LOADM_F32(m, p) _mm256_maskload_ps(p, (m).lanes)
#define STOREM_F32(p, m, v) store_f32_first(p, m, v)
#define LOADM_F64(m, p) _mm256_maskload_pd(p, (m).lanes)
#define STOREM_F64(p, m, v) store_f64_first(p, m, v)
#define LAST_OVERLAP_F32(p, nb, m) ((p) + (nb) - 8)
#define LAST_OVERLAP_F64(p, nb, m) ((p) + (nb) - 4)
#define LOADL_F32(m, p) _mm256_loadu_ps(p)
#define STOREL_F32(p, m, v) _mm256_storeu_ps(p, v)
#define LOADL_F64(m, p) _mm256_loadu_pd(p)
#define STOREL_F64(p, m, v) _mm256_storeu_pd(p, v)

/* The tiles, R rows each: 6 (the microkernel's), and fewer for the edges (the 6-row tile
 * computes a missing row from the last real one and discards it, so an edge of two rows,
 * the last panel of every m = 128, or of 64, 256, 1024, costs a whole tile; its own tile
 * of mb rows costs mb sixths of one).  Prefetch distance for packed A: 256 bytes ahead. */
#define TILE_F32(NAME, R)                                                                  \
  NNK_DEFINE_TILE(NAME, float, __m256, R, 8, 64, _mm256_set1_ps, _mm256_loadu_ps,          \
                  _mm256_storeu_ps, _mm256_fmadd_ps, _mm256_mul_ps, _mm256_add_ps,         \
                  _mm256_setzero_ps, mask_avx2, mask_f32, LOADM_F32, STOREM_F32,              \
                  LAST_OVERLAP_F32, LOADL_F32, STOREL_F32)
#define TILE_F64(NAME, R)                                                                  \
  NNK_DEFINE_TILE(NAME, double, __m256d, R, 4, 32, _mm256_set1_pd, _mm256_loadu_pd,        \
                  _mm256_storeu_pd, _mm256_fmadd_pd, _mm256_mul_pd, _mm256_add_pd,         \
                  _mm256_setzero_pd, mask_avx2, mask_f64, LOADM_F64, STOREM_F64,              \
                  LAST_OVERLAP_F64, LOADL_F64, STOREL_F64)
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

void nnk_f32_gemm_edge_6x16__avx2(size_t mb, size_t nb, size_t kc, float alpha, const float *a,
                                  const float *b, float beta, float *c, ptrdiff_t rs_c,
                                  const float *bias)
{
  ROWS_SWITCH(tile_f32, mb, mb, nb, kc, alpha, a, 1, 6, b, 16, beta, c, rs_c, bias, 1, NULL)
}

void nnk_f64_gemm_edge_6x8__avx2(size_t mb, size_t nb, size_t kc, double alpha, const double *a,
                                 const double *b, double beta, double *c, ptrdiff_t rs_c,
                                 const double *bias)
{
  ROWS_SWITCH(tile_f64, mb, mb, nb, kc, alpha, a, 1, 6, b, 8, beta, c, rs_c, bias, 1, NULL)
}

void nnk_f32_gemm_direct_6x16__avx2(size_t mb, size_t nb, size_t kc, float alpha,
                                    const float *a, ptrdiff_t rs_a, const float *b, ptrdiff_t rs_b,
                                    float beta, float *c, ptrdiff_t rs_c, const float *bias,
                                    nnk_gemm_ahead *ahead)
{
  if (mb == 6 && nb == 16) /* a whole tile: its own copy with the row clamps constant */
    NNK_TILE_ASKING(tile_f32, ahead, 6, 16, kc, alpha, a, rs_a, 1, b, rs_b, beta, c, rs_c, bias, 0);
  else /* an edge: nb <= 8 one vector of columns, else two, each masked where partial */
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
