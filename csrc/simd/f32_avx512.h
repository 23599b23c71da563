/* Helper layer: float, AVX-512F, 16 lanes.  Comparisons give mask registers; they are
 * ordered and quiet, so a NaN lane compares false, as in the scalar layer.  Only
 * AVX-512F is assumed (sign flips go through the integer domain, not AVX-512DQ). */
#include <immintrin.h>
#include <stdint.h>
#include <sleef.h>
#define T float
#define W 16
#define VREGS 32 /* 32 ZMM registers: register tiles are sized from it */
#define KNAME(op) nnk_f32_##op##__avx512
#define V __m512
#define M __mmask16
static inline V v_load(const T *p) { return _mm512_loadu_ps(p); }
static inline void v_store(T *p, V v) { _mm512_storeu_ps(p, v); }
/* The first count (< 16) lanes by a masked load: the other lanes touch no memory and
 * load as zeros. */
#define NNK_F32_LOAD_PART 1
static inline V v_load_part(const T *p, size_t count)
{
  return _mm512_maskz_loadu_ps((__mmask16)((1u << count) - 1), p);
}
static inline V v_set1(T x) { return _mm512_set1_ps(x); }
static inline V v_add(V a, V b) { return _mm512_add_ps(a, b); }
static inline V v_sub(V a, V b) { return _mm512_sub_ps(a, b); }
static inline V v_mul(V a, V b) { return _mm512_mul_ps(a, b); }
static inline V v_fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
static inline V v_div(V a, V b) { return _mm512_div_ps(a, b); }
static inline V v_max(V a, V b) { return _mm512_max_ps(a, b); }
static inline V v_min(V a, V b) { return _mm512_min_ps(a, b); }
static inline V v_neg(V a)
{
  return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
}
static inline V v_abs(V a) { return _mm512_abs_ps(a); }
static inline M v_lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static inline M v_gt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
static inline M v_ge(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
static inline V v_select(M m, V a, V b) { return _mm512_mask_blend_ps(m, b, a); }
/* whether any lane of m is set */
static inline int v_any(M m) { return m != 0; }
static inline V v_log(V a) { return Sleef_logf16_u10avx512f(a); }
static inline V v_erfc(V a) { return Sleef_erfcf16_u15avx512f(a); }
static inline V v_log1p(V a) { return Sleef_log1pf16_u10avx512f(a); }
static inline V v_sqrt(V a) { return _mm512_sqrt_ps(a); }
static inline V v_pow2_shifted(V k)
{
  __m512i b = _mm512_slli_epi32(_mm512_castps_si512(k), 23);
  return _mm512_castsi512_ps(_mm512_add_epi32(b, _mm512_set1_epi32(0x3F800000)));
}
/* The lanes' float bits set to round(t), t in [0, 2^31), ties to even: a subnormal result
 * built from a normal float (f32_math.h's f32_scale). */
static inline V v_round_bits(V t) { return _mm512_castsi512_ps(_mm512_cvtps_epi32(t)); }
/* float32 functions evaluated in double (vmath/wide_math.h): fn on each half widened,
 * rounded once back to float (the halves through 256-bit casts: AVX-512F only). */
static inline __m512d v_widen_lo(V a) { return _mm512_cvtps_pd(_mm512_castps512_ps256(a)); }
static inline __m512d v_widen_hi(V a)
{
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
}
static inline V v_narrow(__m512d lo, __m512d hi)
{
  __m512d l = _mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)));
  return _mm512_castpd_ps(_mm512_insertf64x4(l, _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
}
#define f32_v_wide(fn, x) f32_v_narrow(fn(f32_v_widen_lo(x)), fn(f32_v_widen_hi(x)))
/* v 2^floor(n), rounded once (vscalefps): f32_math.h's exp scales by it. */
#define NNK_F32_SCALEF 1
static inline V v_scalef(V v, V n) { return _mm512_scalef_ps(v, n); }
/* Tables of 32 floats held in two registers and looked up by 5-bit lane indices
 * (vpermt2ps): f32_math.h's tanh by quarter binades of |x| and sigmoid by halves of x,
 * vmath_impl.h's GELU and its gradient (no other layer has them: AVX2 would need four
 * permutes or a gather per table). */
#define NNK_F32_LOOKUP32 1
typedef __m512i VI;
/* (bits of a >= 0) >> 21: a's quarter binade, of which v_lookup32 reads the low five
 * bits (the caller clamps a to 32 consecutive quarter binades and rotates its tables). */
static inline VI v_quarter_binade(V a)
{
  return _mm512_srli_epi32(_mm512_castps_si512(a), 21);
}
/* floor(s x + c) as a lane index for v_lookup32 (which reads its low five bits), for
 * s x + c in [-2^22, 2^22) and c an integer (c + 1.5 2^23 is one float: a c of 0.5 would
 * round away): one FMA of the exact s x + c + 1.5 2^23 rounded down onto the integers,
 * whose bits hold the floor in their low ones (no conversion). */
static inline VI v_floor_index(V x, float s, float c)
{
  return _mm512_castps_si512(_mm512_fmadd_round_ps(x, _mm512_set1_ps(s), _mm512_set1_ps(c + 0x1.8p23f),
                                                   _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC));
}
/* a float's bits as a lane index (v_lookup32 reads their low five: a shifter's sum's
 * integer mod 32) */
static inline VI v_bits_index(V k) { return _mm512_castps_si512(k); }
static inline V v_lookup32(const float *table, VI i)
{
  return _mm512_permutex2var_ps(_mm512_load_ps(table), i, _mm512_load_ps(table + 16));
}
/* mag with the sign of sign: one ternary-logic op, bit by bit signbit ? sign : mag. */
static inline V v_copysign(V mag, V sign)
{
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_set1_epi32(INT32_MIN),
                                                       _mm512_castps_si512(mag),
                                                       _mm512_castps_si512(sign), 0xAC));
}
/* A vector's chosen lanes packed to its front, in order, and spread back (vmath_impl.h's
 * GELU maps list the lanes beyond their tables' reach): v_mask_bits(m) has lane i's bit
 * i; v_compress(v, v_compress_key(bits)) is the lanes whose bit is set first, zeros
 * after; v_expand(base, bits, p) base with its chosen lanes taken from p's first ones in
 * order (vcompressps and vexpandps into a register: their forms with memory are
 * microcoded on Zen 4). */
#define NNK_F32_COMPRESS 1
#define VC __mmask16
static inline unsigned v_mask_bits(M m) { return m; }
static inline VC v_compress_key(unsigned bits) { return (VC)bits; }
static inline V v_compress(V v, VC key) { return _mm512_maskz_compress_ps(key, v); }
static inline V v_expand(V base, unsigned bits, V p) { return _mm512_mask_expand_ps(base, (__mmask16)bits, p); }
static inline T v_hsum(V a) { return _mm512_reduce_add_ps(a); }
static inline T v_hmax(V a) { return _mm512_reduce_max_ps(a); }
/* Non-temporal stores (NNK_STREAM_STORES, csrc/simd/README.md): v_stream writes a vector
 * at an address aligned to its width straight to memory, v_stream_fence orders those
 * writes before the stores that follow; v_join(p, c, v_join_index(s)), 0 <= s < W, is
 * lanes s .. s + W - 1 of p's lanes followed by c's (one vpermt2ps). */
#define NNK_STREAM_STORES 1
#define VJ __m512i
static inline void v_stream(T *p, V v) { _mm512_stream_ps(p, v); }
static inline void v_stream_fence(void) { _mm_sfence(); }
static inline VJ v_join_index(size_t s)
{
  return _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                          _mm512_set1_epi32((int)s));
}
static inline V v_join(V p, V c, VJ j) { return _mm512_permutex2var_ps(p, j, c); }
