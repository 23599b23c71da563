/* Helper layer: double, AVX2+FMA, 4 lanes. */
#include <immintrin.h>
#include <sleef.h>
#define T double
#define W 4
#define VREGS 16 /* 16 YMM registers: register tiles are sized from it */
#define KNAME(op) nnk_f64_##op##__avx2
#define V __m256d
#define M __m256d
static inline V v_load(const T *p) { return _mm256_loadu_pd(p); }
static inline void v_store(T *p, V v) { _mm256_storeu_pd(p, v); }
/* The first count (< 4) lanes by a masked load, as the float32 layer's. */
#define NNK_F64_LOAD_PART 1
static inline V v_load_part(const T *p, size_t count)
{
  static const int64_t ones_zeros[8] = {-1, -1, -1, -1};
  return _mm256_maskload_pd(p, _mm256_loadu_si256((const __m256i *)(ones_zeros + 4 - count)));
}
static inline V v_set1(T x) { return _mm256_set1_pd(x); }
static inline V v_add(V a, V b) { return _mm256_add_pd(a, b); }
static inline V v_sub(V a, V b) { return _mm256_sub_pd(a, b); }
static inline V v_mul(V a, V b) { return _mm256_mul_pd(a, b); }
static inline V v_fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
static inline V v_div(V a, V b) { return _mm256_div_pd(a, b); }
static inline V v_max(V a, V b) { return _mm256_max_pd(a, b); }
static inline V v_min(V a, V b) { return _mm256_min_pd(a, b); }
/* the vector extension's negation (a sign flip): GCC folds it into FMA's negated forms */
static inline V v_neg(V a) { return -a; }
static inline V v_abs(V a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
/* mag with the sign of sign (three bitwise ops: AVX2 has no ternary logic) */
static inline V v_copysign(V mag, V sign)
{
  const V s = _mm256_set1_pd(-0.0);
  return _mm256_or_pd(_mm256_andnot_pd(s, mag), _mm256_and_pd(s, sign));
}
static inline M v_lt(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
static inline M v_gt(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
static inline M v_ge(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
static inline V v_select(M m, V a, V b) { return _mm256_blendv_pd(b, a, m); }
/* whether any lane of m is set */
static inline int v_any(M m) { return _mm256_movemask_pd(m) != 0; }
static inline V v_log(V a) { return Sleef_logd4_u10avx2(a); }
static inline V v_erfc(V a) { return Sleef_erfcd4_u15avx2(a); }
static inline V v_log1p(V a) { return Sleef_log1pd4_u10avx2(a); }
static inline V v_sqrt(V a) { return _mm256_sqrt_pd(a); }
static inline V v_pow2_shifted(V k)
{
  __m256i b = _mm256_slli_epi64(_mm256_castpd_si256(k), 52);
  return _mm256_castsi256_pd(_mm256_add_epi64(b, _mm256_set1_epi64x(0x3FF0000000000000ll)));
}
/* No non-temporal stores (NNK_STREAM_STORES): the maps around the caches, as float32's
 * (f32_avx2.h), were faster where the op is cheap and slower where it is a call (SLEEF's
 * exp in sigmoid, tanh's pair), whose loop kept more across the calls (Zen 3, one thread,
 * 16M float64, side by side, best of seven: relu 11.9 -> 7.7-8.2 ms, exp 29.6 -> 27.5;
 * tanh 67.5 -> 70.5-72.9, sigmoid 47.8 -> 48.5-53.8, the same with regular stores in that
 * loop).  Memory-bound float64 maps are rare in a network; its float32 ones are not. */
static inline T v_hsum(V a)
{
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
static inline T v_hmax(V a)
{
  __m128d s = _mm_max_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  return _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)));
}
