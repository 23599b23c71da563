/*
 * GEMM's packing of operands stored across the panel: r rows of kc contiguous values
 * (row i at src + i ld) become kc groups of `width` values, dst[p width + i] = row i's
 * p-th value, rows r..width-1 zero.  Two layouts need it: A with contiguous rows (the
 * usual C-order A, packed into MR-tall panels) and B with contiguous columns (x W^T's
 * W^T, packed into NR-wide panels).  Element by element this is a strided store per
 * value, and it was 7 % of sgemm 1024^3 and the next cost of the MLP's x W^T; in
 * registers it is a run of small transposes: TW rows are loaded TW values at a time,
 * transposed, and each of the TW results stored as one piece of a group.
 *
 * Compiled with each SIMD ISA's flags (-DNNK_ISA=<isa>).  Exports
 * nnk_f32_gemm_pack__<isa> and nnk_f64_gemm_pack__<isa>.  The x86 ISAs share the 256-bit
 * transposes (8 x 8 float, 4 x 4 double): they serve every x86 tile (AVX-512's panels
 * are 8 and 16 wide, where a 16 x 16 transpose would spend half its work on zeros), and
 * AVX-512 CPUs all run AVX2.  NEON transposes 4 x 4 and 2 x 2.
 * Every read is inside the r rows' first kc values; every write inside dst's kc * width.
 */
#include <stddef.h>

#include "../simd/layer.h"

#if defined(__AVX2__)
#include <immintrin.h>
#define TW32 8
#define TW64 4
typedef __m256 v32;
typedef __m256d v64;
static inline v32 ld32(const float *p) { return _mm256_loadu_ps(p); }
static inline void st32(float *p, v32 v) { _mm256_storeu_ps(p, v); }
static inline v32 zero32(void) { return _mm256_setzero_ps(); }
static inline v64 ld64(const double *p) { return _mm256_loadu_pd(p); }
static inline void st64(double *p, v64 v) { _mm256_storeu_pd(p, v); }
static inline v64 zero64(void) { return _mm256_setzero_pd(); }

/* The first count (< a vector) values of v to p, in 128/64/32-bit pieces. */
static inline void part32(float *p, v32 v, size_t count)
{
  __m128 h = _mm256_castps256_ps128(v);
  if (count >= 4) _mm_storeu_ps(p, h), h = _mm256_extractf128_ps(v, 1), p += 4, count -= 4;
  if (count >= 2) _mm_storel_pi((__m64 *)p, h), h = _mm_movehl_ps(h, h), p += 2, count -= 2;
  if (count) _mm_store_ss(p, h);
}
static inline void part64(double *p, v64 v, size_t count)
{
  __m128d h = _mm256_castpd256_pd128(v);
  if (count >= 2) _mm_storeu_pd(p, h), h = _mm256_extractf128_pd(v, 1), p += 2, count -= 2;
  if (count) _mm_store_sd(p, h);
}

static inline void transpose32(v32 r[8])
{
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  /* u_j: column j of rows 0-3 (low half) and column j+4 (high half), likewise w_j for
   * rows 4-7 */
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 w0 = _mm256_shuffle_ps(t4, t6, 0x44), w1 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 w2 = _mm256_shuffle_ps(t5, t7, 0x44), w3 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, w0, 0x20), r[4] = _mm256_permute2f128_ps(u0, w0, 0x31);
  r[1] = _mm256_permute2f128_ps(u1, w1, 0x20), r[5] = _mm256_permute2f128_ps(u1, w1, 0x31);
  r[2] = _mm256_permute2f128_ps(u2, w2, 0x20), r[6] = _mm256_permute2f128_ps(u2, w2, 0x31);
  r[3] = _mm256_permute2f128_ps(u3, w3, 0x20), r[7] = _mm256_permute2f128_ps(u3, w3, 0x31);
}

static inline void transpose64(v64 r[4])
{
  __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  r[0] = _mm256_permute2f128_pd(t0, t2, 0x20), r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  r[1] = _mm256_permute2f128_pd(t1, t3, 0x20), r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#define TW32 4
#define TW64 2
typedef float32x4_t v32;
typedef float64x2_t v64;
static inline v32 ld32(const float *p) { return vld1q_f32(p); }
static inline void st32(float *p, v32 v) { vst1q_f32(p, v); }
static inline v32 zero32(void) { return vdupq_n_f32(0); }
static inline v64 ld64(const double *p) { return vld1q_f64(p); }
static inline void st64(double *p, v64 v) { vst1q_f64(p, v); }
static inline v64 zero64(void) { return vdupq_n_f64(0); }

static inline void part32(float *p, v32 v, size_t count)
{
  float32x2_t h = vget_low_f32(v);
  if (count >= 2) vst1_f32(p, h), h = vget_high_f32(v), p += 2, count -= 2;
  if (count) vst1_lane_f32(p, h, 0);
}
static inline void part64(double *p, v64 v, size_t count) { vst1q_lane_f64(p, v, 0), (void)count; }

static inline void transpose32(v32 r[4])
{
  float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
  float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
  float64x2_t d0 = vreinterpretq_f64_f32(t0), d1 = vreinterpretq_f64_f32(t1);
  float64x2_t d2 = vreinterpretq_f64_f32(t2), d3 = vreinterpretq_f64_f32(t3);
  r[0] = vreinterpretq_f32_f64(vtrn1q_f64(d0, d2)), r[2] = vreinterpretq_f32_f64(vtrn2q_f64(d0, d2));
  r[1] = vreinterpretq_f32_f64(vtrn1q_f64(d1, d3)), r[3] = vreinterpretq_f32_f64(vtrn2q_f64(d1, d3));
}

static inline void transpose64(v64 r[2])
{
  float64x2_t t0 = vtrn1q_f64(r[0], r[1]), t1 = vtrn2q_f64(r[0], r[1]);
  r[0] = t0, r[1] = t1;
}
#else
#error "gemm/pack.c is built for the SIMD ISAs only (the scalar ISA has no blocked GEMM)"
#endif

void NNK_CAT(nnk_f32_gemm_pack__, NNK_ISA) NNK_SIG_GEMM_PACK(float);
void NNK_CAT(nnk_f64_gemm_pack__, NNK_ISA) NNK_SIG_GEMM_PACK(double);

/* The body, once per dtype: TW, VEC, LD, ST, PART, ZERO and TRANSPOSE name that dtype's.
 * Columns go TW at a time across every group of TW rows, so that the TW destination rows
 * (width values each) are written whole while in L1: group by group, each pass wrote a
 * piece of every line of a panel bigger than L1 and fetched it back the next (float64,
 * 256 x 784: 0.67 ns a value, three times float32's). */
#define NNK_DEFINE_PACK(T, NAME, TW, VEC, LD, ST, PART, ZERO, TRANSPOSE)                   \
  void NAME(size_t r, size_t kc, const T *src, ptrdiff_t ld, size_t width, T *dst)         \
  {                                                                                       \
    const size_t pv = kc - kc % TW; /* columns taken TW at a time; the rest one by one */ \
    for (size_t p = 0; p < pv; p += TW)                                                   \
      for (size_t gi = (width + TW - 1) / TW; gi-- > 0;) { /* the last group first */     \
        const size_t g = gi * TW;                                                         \
        const size_t store = width - g < TW ? width - g : TW; /* values per row here */   \
        const size_t have = r > g ? (r - g < TW ? r - g : TW) : 0; /* real rows */        \
        VEC v[TW];                                                                        \
        _Pragma("GCC unroll 8") for (size_t i = 0; i < TW; i++)                           \
          v[i] = i < have ? LD(src + (ptrdiff_t)(g + i) * ld + p) : ZERO();               \
        TRANSPOSE(v);                                                                     \
        T *d = dst + p * width + g;                                                       \
        /* A group narrower than a vector (AVX2's 6-row panels) still stores whole      \
         * vectors: the lanes past a row's end fall on the next row's first values,     \
         * which a group to its left (stored after it) or the next TW columns overwrite. \
         * Only the panel's very last row, with nothing after it, stores a part.  Parts  \
         * for every row (two or three stores and shuffles each) made the packing of A  \
         * three times as slow (6 x 512 blocks of a 1024-wide float32 A, in a loop).     */ \
        _Pragma("GCC unroll 8") for (size_t q = 0; q < TW; q++) {                         \
          if (store == TW || p + q + 1 < kc) ST(d + q * width, v[q]);                     \
          else PART(d + q * width, v[q], store);                                          \
        }                                                                                 \
      }                                                                                   \
    for (size_t p = pv; p < kc; p++)                                                      \
      for (size_t i = 0; i < width; i++)                                                  \
        dst[p * width + i] = i < r ? src[(ptrdiff_t)i * ld + (ptrdiff_t)p] : 0;           \
  }

NNK_DEFINE_PACK(float, NNK_CAT(nnk_f32_gemm_pack__, NNK_ISA), TW32, v32, ld32, st32, part32, zero32,
                transpose32)
NNK_DEFINE_PACK(double, NNK_CAT(nnk_f64_gemm_pack__, NNK_ISA), TW64, v64, ld64, st64, part64, zero64,
                transpose64)
