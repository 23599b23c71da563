/* Helper layer: double, AVX-512F, 8 lanes (see f32_avx512.h). */
#include <immintrin.h>
#include <stdint.h>
#include <sleef.h>
#define T double
#define W 8
#define VREGS 32 /* 32 ZMM registers: register tiles are sized from it */
#define KNAME(op) nnk_f64_##op##__avx512
#define V __m512d
#define M __mmask8
static inline V v_load(const T *p) { return _mm512_loadu_pd(p); }
static inline void v_store(T *p, V v) { _mm512_storeu_pd(p, v); }
/* The first count (< 8) lanes by a masked load, as the float32 layer's. */
#define NNK_F64_LOAD_PART 1
static inline V v_load_part(const T *p, size_t count)
{
  return _mm512_maskz_loadu_pd((__mmask8)((1u << count) - 1), p);
}
static inline V v_set1(T x) { return _mm512_set1_pd(x); }
static inline V v_add(V a, V b) { return _mm512_add_pd(a, b); }
static inline V v_sub(V a, V b) { return _mm512_sub_pd(a, b); }
static inline V v_mul(V a, V b) { return _mm512_mul_pd(a, b); }
static inline V v_fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
static inline V v_div(V a, V b) { return _mm512_div_pd(a, b); }
/* v_recip (dtype.h's is a division): vrcp14pd and a Newton step, 2^-28 */
#define NNK_F64_RECIP 1
static inline V v_recip(V d)
{
  V r = _mm512_rcp14_pd(d); /* 2^-14, then one Newton step: 2^-28 (vdivpd: 16 cycles a vector) */
  return _mm512_mul_pd(r, _mm512_fnmadd_pd(d, r, _mm512_set1_pd(2.0)));
}
static inline V v_max(V a, V b) { return _mm512_max_pd(a, b); }
static inline V v_min(V a, V b) { return _mm512_min_pd(a, b); }
static inline V v_neg(V a)
{
  return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(a), _mm512_set1_epi64(INT64_MIN)));
}
static inline V v_abs(V a) { return _mm512_abs_pd(a); }
/* mag with the sign of sign: one ternary-logic op, bit by bit signbit ? sign : mag. */
static inline V v_copysign(V mag, V sign)
{
  return _mm512_castsi512_pd(_mm512_ternarylogic_epi64(_mm512_set1_epi64(INT64_MIN),
                                                       _mm512_castpd_si512(mag),
                                                       _mm512_castpd_si512(sign), 0xAC));
}
static inline M v_lt(V a, V b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
static inline M v_gt(V a, V b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
static inline M v_ge(V a, V b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
static inline V v_select(M m, V a, V b) { return _mm512_mask_blend_pd(m, b, a); }
/* whether any lane of m is set */
static inline int v_any(M m) { return m != 0; }
/* exp is nnk's own on this layer (f64_math.h, NNK_F64_LOOKUP16): a 16-entry table of
 * 2^(j/16) in registers and one vscalefpd.  SLEEF's only float64 exp is u10, a call per
 * vector (Debian's 3.5), at 0.75x NumPy's AVX-512 exp on Zen 4; nnk's is faster than
 * NumPy's and within 0.55 ULP (0.75 for subnormal results). */
#define NNK_F64_LOOKUP16 1
/* table[j] for j the low 4 bits of each lane's integer bits (vpermt2pd over two registers) */
static inline V v_lookup16(const double *table, V j)
{
  return _mm512_permutex2var_pd(_mm512_load_pd(table), _mm512_castpd_si512(j), _mm512_load_pd(table + 8));
}
static inline V v_scalef(V v, V n) { return _mm512_scalef_pd(v, n); } /* v 2^floor(n), rounded once */
/* The lanes' double bits set to round(t), t in [0, 2^52), ties to even (t + 2^52 rounds t
 * to an integer; its bits less 2^52's are that integer): a subnormal result built from
 * a normal double (f64_math.h's exp). */
static inline V v_round_bits(V t)
{
  const V big = _mm512_set1_pd(0x1p52);
  return _mm512_castsi512_pd(_mm512_sub_epi64(_mm512_castpd_si512(_mm512_add_pd(t, big)),
                                              _mm512_castpd_si512(big)));
}
static inline V v_log(V a) { return Sleef_logd8_u10avx512f(a); }
static inline V v_erfc(V a) { return Sleef_erfcd8_u15avx512f(a); }
static inline V v_log1p(V a) { return Sleef_log1pd8_u10avx512f(a); }
static inline V v_sqrt(V a) { return _mm512_sqrt_pd(a); }
static inline V v_pow2_shifted(V k)
{
  __m512i b = _mm512_slli_epi64(_mm512_castpd_si512(k), 52);
  return _mm512_castsi512_pd(_mm512_add_epi64(b, _mm512_set1_epi64(0x3FF0000000000000ll)));
}
static inline T v_hsum(V a) { return _mm512_reduce_add_pd(a); }
static inline T v_hmax(V a) { return _mm512_reduce_max_pd(a); }
/* Non-temporal stores and v_join, as the float32 layer's (one vpermt2pd). */
#define NNK_STREAM_STORES 1
#define VJ __m512i
static inline void v_stream(T *p, V v) { _mm512_stream_pd(p, v); }
static inline void v_stream_fence(void) { _mm_sfence(); }
static inline VJ v_join_index(size_t s)
{
  return _mm512_add_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), _mm512_set1_epi64((long long)s));
}
static inline V v_join(V p, V c, VJ j) { return _mm512_permutex2var_pd(p, j, c); }
