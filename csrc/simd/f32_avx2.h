/* Helper layer: float, AVX2+FMA, 8 lanes.  Comparisons are ordered and quiet: a NaN
 * lane compares false, exactly like the scalar layer's C comparisons. */
#include <immintrin.h>
#include <sleef.h>
#define T float
#define W 8
#define VREGS 16 /* 16 YMM registers: register tiles are sized from it */
#define KNAME(op) nnk_f32_##op##__avx2
#define V __m256
#define M __m256
static inline V v_load(const T *p) { return _mm256_loadu_ps(p); }
static inline void v_store(T *p, V v) { _mm256_storeu_ps(p, v); }
/* The first count (< 8) lanes by a masked load (vmaskmovps: the other lanes touch no
 * memory and load as zeros), its mask read from a row of eight -1s and eight 0s at
 * 8 - count. */
#define NNK_F32_LOAD_PART 1
static inline V v_load_part(const T *p, size_t count)
{
  static const int32_t ones_zeros[16] = {-1, -1, -1, -1, -1, -1, -1, -1};
  return _mm256_maskload_ps(p, _mm256_loadu_si256((const __m256i *)(ones_zeros + 8 - count)));
}
static inline V v_set1(T x) { return _mm256_set1_ps(x); }
static inline V v_add(V a, V b) { return _mm256_add_ps(a, b); }
static inline V v_sub(V a, V b) { return _mm256_sub_ps(a, b); }
static inline V v_mul(V a, V b) { return _mm256_mul_ps(a, b); }
static inline V v_fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
static inline V v_div(V a, V b) { return _mm256_div_ps(a, b); }
static inline V v_max(V a, V b) { return _mm256_max_ps(a, b); }
static inline V v_min(V a, V b) { return _mm256_min_ps(a, b); }
/* the vector extension's negation (a sign flip): GCC folds it into FMA's negated forms */
static inline V v_neg(V a) { return -a; }
static inline V v_abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
/* mag with the sign of sign (three bitwise ops: AVX2 has no ternary logic) */
static inline V v_copysign(V mag, V sign)
{
  const V s = _mm256_set1_ps(-0.0f);
  return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sign));
}
static inline M v_lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline M v_gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
static inline M v_ge(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
static inline V v_select(M m, V a, V b) { return _mm256_blendv_ps(b, a, m); }
/* whether any lane of m is set */
static inline int v_any(M m) { return _mm256_movemask_ps(m) != 0; }
static inline V v_log(V a) { return Sleef_logf8_u10avx2(a); }
static inline V v_erfc(V a) { return Sleef_erfcf8_u15avx2(a); }
static inline V v_log1p(V a) { return Sleef_log1pf8_u10avx2(a); }
static inline V v_sqrt(V a) { return _mm256_sqrt_ps(a); }
static inline V v_pow2_shifted(V k)
{
  __m256i b = _mm256_slli_epi32(_mm256_castps_si256(k), 23);
  return _mm256_castsi256_ps(_mm256_add_epi32(b, _mm256_set1_epi32(0x3F800000)));
}
/* 2^floor(m/8) from k = m + 1.5 2^23 (f32_math.h's reduction of exp by eighths of ln2),
 * floor(m/8) a normal exponent: m's bits (the low 22 of k's) moved up so that their
 * low three fall off the exponent field, three instructions instead of two conversions
 * and a shift. */
static inline V v_pow2_shifted_eighths(V k)
{
  const __m256i e = _mm256_and_si256(_mm256_slli_epi32(_mm256_castps_si256(k), 20), _mm256_set1_epi32((int)0xFF800000u));
  return _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_set1_epi32(0x3F800000)));
}
/* The lanes' float bits set to round(t), t in [0, 2^31), ties to even: a subnormal result
 * built from a normal float (f32_math.h's f32_scale). */
static inline V v_round_bits(V t) { return _mm256_castsi256_ps(_mm256_cvtps_epi32(t)); }
/* float32 functions evaluated in double (vmath/wide_math.h): fn on each half widened,
 * rounded once back to float. */
static inline __m256d v_widen_lo(V a) { return _mm256_cvtps_pd(_mm256_castps256_ps128(a)); }
static inline __m256d v_widen_hi(V a) { return _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)); }
static inline V v_narrow(__m256d lo, __m256d hi)
{
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
}
#define f32_v_wide(fn, x) f32_v_narrow(fn(f32_v_widen_lo(x)), fn(f32_v_widen_hi(x)))
/* Tables of 8 floats in one register, looked up by lane indices (vpermps reads their low
 * three bits; the table may stay in memory as its operand): f32_math.h's exp from
 * 2^(j/8), vmath_impl.h's GELU by unit intervals of |x| (and, v_lookup16 below, GELU by
 * sixteenths of [0, 5) and its gradient by halves of |x|). */
#define NNK_F32_LOOKUP8 1
typedef __m256i VI;
/* a rounded to the nearest integer (ties to even: the default rounding) as a lane index */
static inline VI v_nearest_index(V a) { return _mm256_cvtps_epi32(a); }
/* a float's bits as a lane index (v_lookup8 reads their low three: a shifter's sum's
 * integer mod 8) */
static inline VI v_bits_index(V k) { return _mm256_castps_si256(k); }
static inline V v_lookup8(const float *table, VI i)
{
  return _mm256_permutevar8x32_ps(_mm256_load_ps(table), i);
}
/* floor(t) for t in [0, 2^31) as a lane index (truncated) */
static inline VI v_trunc_index(V t) { return _mm256_cvttps_epi32(t); }
/* Tables of 16 floats, looked up by lane indices in [0, 16): a vpermps from each half and
 * a blend on the index's bit 3, moved to the sign once for all of a vector's lookups
 * (VI16: vmath_impl.h's GELU by sixteenths of [0, 5), its gradient by halves). */
typedef struct {
  VI i;
  V upper;
} VI16;
static inline VI16 v_index16(VI i) { return (VI16){i, _mm256_castsi256_ps(_mm256_slli_epi32(i, 28))}; }
static inline V v_lookup16(const float *table, VI16 k)
{
  return _mm256_blendv_ps(_mm256_permutevar8x32_ps(_mm256_load_ps(table), k.i),
                          _mm256_permutevar8x32_ps(_mm256_load_ps(table + 8), k.i), k.upper);
}
/* A vector's chosen lanes packed to its front, in order, and spread back (vmath_impl.h's
 * GELU maps list the lanes beyond their tables' reach): v_mask_bits(m) has lane i's bit
 * i; v_compress(v, v_compress_key(bits)) is the lanes whose bit is set first, the others
 * after; v_expand(base, bits, p) base with its chosen lanes taken from p's first ones in
 * order.  AVX2 has no vcompressps or vexpandps: a vpermps by the permutation of
 * compress8.h's row for the mask, its nibbles shifted down to the lanes (vpermps reads
 * their low three bits), and for v_expand a blend on the mask's bits. */
#include "compress8.h"
#define NNK_F32_COMPRESS 1
#define VC __m256i
static inline unsigned v_mask_bits(M m) { return (unsigned)_mm256_movemask_ps(m); }
static inline VC v_compress_key(unsigned bits)
{
  return _mm256_srlv_epi32(_mm256_set1_epi32((int)COMPRESS8[bits]), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28));
}
static inline V v_compress(V v, VC key) { return _mm256_permutevar8x32_ps(v, key); }
static inline V v_expand(V base, unsigned bits, V p)
{
  const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  const __m256i nibble = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  const __m256i chosen = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), lane), lane);
  const V spread = _mm256_permutevar8x32_ps(p, _mm256_srlv_epi32(_mm256_set1_epi32((int)EXPAND8[bits]), nibble));
  return _mm256_blendv_ps(base, spread, _mm256_castsi256_ps(chosen));
}
/* Non-temporal stores (NNK_STREAM_STORES, csrc/simd/README.md): v_stream writes a vector
 * at an address aligned to its width straight to memory, v_stream_fence orders those
 * writes before the stores that follow; v_join(p, c, v_join_index(s)), 0 <= s < W, is
 * lanes s .. s + W - 1 of p's lanes followed by c's.  AVX2 has no two-table permute
 * (AVX-512's vpermt2ps): the offsets large arrays sit at take one cheap instruction or
 * none, s = 4 (16 bytes past a 32-byte boundary, where glibc puts large blocks: NumPy's)
 * a vperm2f128 and s = 0 (the array pool's 64-byte blocks) none, any other s two vpermps
 * and a blend.  With the two vpermps at every offset, one thread's exp and tanh of 16M
 * were 1.15-1.2x slower around the caches than through them (Zen 4 running these
 * kernels); Zen 3 with the vperm2f128: threads/maps.c.  float64's layer has none: there
 * the maps' loop around the caches compiled worse around its ops' calls (f64_avx2.h). */
#define NNK_STREAM_STORES 1
typedef struct {
  int s;
} VF(v_join_at); /* (one type a dtype: VJ names it) */
#define VJ VF(v_join_at)
static inline void v_stream(T *p, V v) { _mm256_stream_ps(p, v); }
static inline void v_stream_fence(void) { _mm_sfence(); }
static inline VJ v_join_index(size_t s) { return (VJ){(int)s}; }
static inline V v_join(V p, V c, VJ j)
{
  if (j.s == W / 2) return _mm256_permute2f128_ps(p, c, 0x21); /* p's high half, c's low */
  if (j.s == 0) return p;
  const __m256i index = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(j.s));
  const V from_p = _mm256_permutevar8x32_ps(p, index), from_c = _mm256_permutevar8x32_ps(c, index);
  return _mm256_blendv_ps(from_p, from_c, _mm256_castsi256_ps(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(W - 1))));
}
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
