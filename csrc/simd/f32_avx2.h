/* Helper layer: float, AVX2+FMA, 8 lanes.  Comparisons are ordered and quiet: a NaN
 * lane compares false, exactly like the scalar layer's C comparisons. */
#include <immintrin.h>
#include <sleef.h>
#define T float
#define W 8
#define KNAME(op) nnk_f32_##op##__avx2
#define V __m256
#define M __m256
static inline V v_load(const T *p) { return _mm256_loadu_ps(p); }
static inline void v_store(T *p, V v) { _mm256_storeu_ps(p, v); }
static inline V v_set1(T x) { return _mm256_set1_ps(x); }
static inline V v_add(V a, V b) { return _mm256_add_ps(a, b); }
static inline V v_sub(V a, V b) { return _mm256_sub_ps(a, b); }
static inline V v_mul(V a, V b) { return _mm256_mul_ps(a, b); }
static inline V v_fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
static inline V v_div(V a, V b) { return _mm256_div_ps(a, b); }
static inline V v_max(V a, V b) { return _mm256_max_ps(a, b); }
static inline V v_neg(V a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
static inline V v_abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
static inline M v_lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline M v_gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
static inline M v_ge(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
static inline V v_select(M m, V a, V b) { return _mm256_blendv_ps(b, a, m); }
static inline V v_exp(V a) { return Sleef_expf8_u10avx2(a); }
static inline V v_log(V a) { return Sleef_logf8_u10avx2(a); }
static inline V v_tanh(V a) { return Sleef_tanhf8_u10avx2(a); }
static inline V v_erfc(V a) { return Sleef_erfcf8_u15avx2(a); }
static inline V v_log1p(V a) { return Sleef_log1pf8_u10avx2(a); }
static inline V v_sqrt(V a) { return _mm256_sqrt_ps(a); }
static inline T v_hsum(V a)
{
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline T v_hmax(V a)
{
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
