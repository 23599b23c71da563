/*
 * The float32 layer's v_exp, v_sigmoid and v_tanh, within 1 ULP, in float32 arithmetic
 * (8 lanes on AVX2, 16 on AVX-512): written once over the float32 helper layer of every
 * ISA (dtype.h includes this after it), and what every float32 kernel uses (the maps,
 * softmax, attention, the losses).
 *
 * A float32 result within 1 ULP needs the value before its last rounding to be within
 * half an ULP.  SLEEF's u10 functions are up to 1 ULP already, so nothing built on them
 * can promise that; here e^x is computed as an unevaluated sum hi + lo (times 2^n) that
 * is within 2^-28 of the exact value, and each formula keeps the pair through its one
 * cancellation-prone step (1 +- e, by Fast2Sum) and its division (the residual through
 * FMA), so that only the last operation rounds at float32's 2^-24.  make
 * test-exhaustive proves the bound over all 2^32 inputs on every ISA; v_fma is fused
 * on every layer (libm's fmaf on the scalar one), so all ISAs give the same bits, but
 * for exp and tanh where the layer holds 32-entry tables (AVX-512: their own
 * formulations, below; sigmoid there too for |x| < 8) and exp, sigmoid and tanh where
 * it holds 8-entry ones (AVX2).
 *
 * Polynomials and tables: build-aux/fit_f32_math.py, fit_f32_tanh.py, fit_f32_sigmoid.py
 * and f32_exp_table.py.  Inputs are clamped where the float32 result has reached its
 * limit; NaN passes every clamp (comparisons with NaN are false).
 */

#define F32_SHIFTER 0x1.8p23f /* adding it rounds a float to an integer (|n| < 2^22) */

/* x clamped to [lo, hi]; a NaN x stays NaN (v_max(c, x) and v_min(c, x) pass it). */
static inline V f32_clamp(V x, float lo, float hi)
{
  return v_min(v_set1(hi), v_max(v_set1(lo), x));
}

/* e^x = 2^n (hi + lo), within 2^-28 relative, for x in [-104, 89] (n in [-150, 129]);
 * *k = n + F32_SHIFTER.  x = n ln2 + r: n ln2_hi is exact (ln2_hi has 15 bits, |n| < 2^8)
 * and so is x - n ln2_hi (Sterbenz); r_lo = -n ln2_lo.  e^r = 1 + r + r^2 P(r): hi is
 * 1 + r_hi rounded, lo its rounding error (exact: Fast2Sum) plus r_lo + r^2 P.  lo may
 * be as large as 0.06: f32_normalise makes the pair a value and a correction. */
static inline V f32_exp_parts(V x, V *k, V *lo)
{
  static const float EXP_P[] = {0x1.a049c6p-13f, 0x1.6d5a60p-10f, 0x1.111174p-7f,
                                0x1.5554d8p-5f,  0x1.555556p-3f,  0x1p-1f};
  const V one = v_set1(1.0f);
  *k = v_fma(x, v_set1(0x1.715476p0f), v_set1(F32_SHIFTER));
  V n = v_sub(*k, v_set1(F32_SHIFTER));
  V rh = v_fma(n, v_set1(-0x1.62e4p-1f), x);
  V rl = v_mul(n, v_set1(-0x1.7f7d1cp-20f));
  V r = v_add(rh, rl);
  V p = v_set1(EXP_P[0]);
  for (size_t i = 1; i < sizeof EXP_P / sizeof EXP_P[0]; i++) p = v_fma(p, r, v_set1(EXP_P[i]));
  V hi = v_add(one, rh);
  *lo = v_add(v_add(v_sub(one, hi), rh), v_fma(v_mul(r, r), p, rl));
  return hi;
}

/* hi + lo as their rounded sum (returned) and its rounding error (*lo): |*lo| <= half an
 * ULP of the result (Fast2Sum, |hi| >= |lo|). */
static inline V f32_normalise(V hi, V *lo)
{
  V s = v_add(hi, *lo);
  *lo = v_add(v_sub(hi, s), *lo);
  return s;
}

/* v 2^n for n in [-150, 129] (k = n + F32_SHIFTER) and v < 2, rounded once: in one
 * instruction where the layer scales by a power of two (AVX-512's vscalefps,
 * NNK_F32_SCALEF), else through 2^(n +- 64), which is normal, and then 2^-+64.
 *
 * A vector with a lane whose result may be subnormal or zero (n <= -126) takes another
 * way: Intel cores take a microcode assist of over a hundred cycles for every vector
 * whose arithmetic gives a subnormal or underflows to zero (exp of a masked score, -inf,
 * ran 16 times slower than of a normal one).  Those lanes are built as bits instead,
 * round(v 2^(n + 149)) (the count of 2^-149 in the result) from a normal float, and the
 * others scale with n held at -125, so that no lane underflows.  Each way rounds once:
 * the same bits for every input on every layer.  Vectors without such lanes (nearly
 * all) skip it for one comparison. */
#if !NNK_F32_SCALEF
/* v 2^n through 2^(n +- 64), normal, then 2^-+64 (k = n + F32_SHIFTER). */
static inline V f32_scale_steps(V v, V k)
{
  const M neg = v_lt(k, v_set1(F32_SHIFTER));
  return v_mul(v_mul(v, v_pow2_shifted(v_add(k, v_select(neg, v_set1(64.0f), v_set1(-64.0f))))),
               v_select(neg, v_set1(0x1p-64f), v_set1(0x1p64f)));
}
#endif

static inline V f32_scale(V v, V k)
{
  const V n = v_sub(k, v_set1(F32_SHIFTER));
  const M tiny = v_lt(n, v_set1(-125.5f));
#if NNK_F32_SCALEF
  if (__builtin_expect(!v_any(tiny), 1)) return v_scalef(v, n);
  const V big = v_scalef(v, v_max(v_set1(-125.0f), n));
#else
  if (__builtin_expect(!v_any(tiny), 1)) return f32_scale_steps(v, k);
  const V big = f32_scale_steps(v, v_max(v_set1(F32_SHIFTER - 125.0f), k));
#endif
  const V t = v_mul(v, v_pow2_shifted(v_min(v_set1(F32_SHIFTER + 24.0f), v_add(k, v_set1(149.0f)))));
  return v_select(tiny, v_round_bits(t), big);
}

#if NNK_F32_LOOKUP32 || NNK_F32_LOOKUP8
/* Where the layer holds tables of 2^(j/N) in registers (N = 32 on AVX-512, 8 on AVX2) */
#if NNK_F32_LOOKUP32
#include "exp2_32nds.h"
#define EXP_N 32
#define EXP2_LOOKUP(PART, j) v_lookup32(EXP2_32_##PART, j)
#else
#include "exp2_8ths.h"
#define EXP_N 8
#define EXP2_LOOKUP(PART, j) v_lookup8(EXP2_8_##PART, j)
#endif
/* The reduction of exp by these tables for e^(c x), c a power of two or its negative (a
 * constant: c x is exact and folds into the FMAs): c x = (N n + j) ln2/N + r, |r| <=
 * ln2/2N; returns r, *k = m + F32_SHIFTER for m = N n + j (c x N/ln2 rounded by the
 * shifter: j the low bits of its bits) and *s = m/N (n = floor(s)).  r = c x - m ln2/N by
 * two FMAs, the first exact up to its rounding of a value below 0.011 (0.044 for N = 8). */
NNK_FORCE_INLINE V f32_exp_table_r(V x, float c, V *k, V *s)
{
  *k = v_fma(x, v_set1(c * 0x1.715476p+0f * EXP_N), v_set1(F32_SHIFTER));
  const V m = v_sub(*k, v_set1(F32_SHIFTER));
  *s = v_mul(m, v_set1(1.0f / EXP_N));
  const V cx = c == 1.0f ? x : c == -1.0f ? v_neg(x) : v_mul(x, v_set1(c));
  return v_fma(m, v_set1(0x1.05c61p-29f / EXP_N), v_fma(m, v_set1(-0x1.62e43p-1f / EXP_N), cx));
}

/* e^r - 1 for |r| <= ln2/2N (a little more): r + r^2 (1/2 + r/6 + r^2/24) for N = 32
 * (remainder 2^-40); for N = 8, r + r^2 P(r) with P fitted (build-aux/fit_f32_math.py:
 * 2^-30.4 of e^r), evaluated with r^2 beside the first FMA, one step shorter than Horner. */
NNK_FORCE_INLINE V f32_exp_table_q(V r)
{
#if EXP_N == 8
  const V r2 = v_mul(r, r);
  return v_fma(r2, v_fma(r2, v_set1(0x1.555556p-5f), v_fma(r, v_set1(0x1.555bbcp-3f), v_set1(0.5f))), r);
#else
  const V p = v_fma(v_fma(r, v_set1(0x1.555556p-5f), v_set1(0x1.555556p-3f)), r, v_set1(0.5f));
  return v_fma(v_mul(r, r), p, r);
#endif
}

/* floor(s) + F32_SHIFTER for s = m/N, m an integer: s - (N-1)/2N is exact and (N-1)/2N
 * from an integer at least, so the shifter's rounding is the floor. */
static inline V f32_floor_shifted(V s)
{
  return v_add(v_sub(s, v_set1((EXP_N - 1) / (2.0f * EXP_N))), v_set1(F32_SHIFTER));
}

/* v 2^floor(s), s = m/N with m an integer and k = m + F32_SHIFTER (exp below), rounded once. */
#if NNK_F32_SCALEF
/* One vscalefps (which takes the floor itself), but where a lane's result may be
 * subnormal or zero: then f32_scale. */
static inline V f32_scale_floor(V v, V s, V k)
{
  (void)k;
  if (__builtin_expect(!v_any(v_lt(s, v_set1(-125.0f))), 1)) return v_scalef(v, s);
  return f32_scale(v, f32_floor_shifted(s));
}
#else
/* One product by 2^floor(s) built from k's bits (v_pow2_shifted_eighths: N = 8 here)
 * where every lane's floor(s) is a normal exponent (m = 8s in (-1000, 1024): |m - 12| <
 * 1012, exact from k; m = -1000 takes the other way too), else f32_scale. */
static inline V f32_scale_floor(V v, V s, V k)
{
  if (__builtin_expect(!v_any(v_ge(v_abs(v_sub(k, v_set1(F32_SHIFTER + 12.0f))), v_set1(1012.0f))), 1))
    return v_mul(v, v_pow2_shifted_eighths(k));
  return f32_scale(v, f32_floor_shifted(s));
}
#endif
#endif

/* exp: below -104 the result rounds to 0, above 89 to infinity. */
#if NNK_F32_LOOKUP32 || NNK_F32_LOOKUP8
/* Where the layer holds tables of 2^(j/N) (above): e^x = 2^n 2^(j/N) e^r with 2^(j/N) =
 * t_hi + t_lo from a table (exp2_32nds.h, exp2_8ths.h) and e^r = 1 + q (f32_exp_table_r, _q),
 * so e^x 2^-n = t_hi + (t_hi q + t_lo) with one rounding that matters, the last: within
 * 0.53 ULP where the result is normal on AVX-512 (0.75 where it is subnormal and the
 * scaling rounds again, as before: make test-exhaustive; 0.59 on AVX2), about 16
 * instructions a vector instead of 24 (AVX2: about 24 against 39, 1.48x as fast on
 * the same core: 0.33 against 0.49 ns on Zen 4).  Its bits differ from the other
 * layers' exp, each within 1 ULP. */
static inline V v_exp(V x)
{
  V k, s;
  const V q = f32_exp_table_q(f32_exp_table_r(f32_clamp(x, -104.0f, 89.0f), 1.0f, &k, &s));
  const VI j = v_bits_index(k);
  const V th = EXP2_LOOKUP(HI, j);
  return f32_scale_floor(v_add(th, v_fma(th, q, EXP2_LOOKUP(LO, j))), s, k);
}
#else
static inline V v_exp(V x)
{
  V k, lo, hi = f32_exp_parts(f32_clamp(x, -104.0f, 89.0f), &k, &lo);
  return f32_scale(v_add(hi, lo), k);
}
#endif

/* e^x = hi + lo for x in [-30, 0]: f32_exp_parts' pair, normalised and scaled by 2^n
 * (2^-44 at least: hi and lo stay normal). */
NNK_FORCE_INLINE V f32_exp_pair(V x, V *lo)
{
  V k, hi = f32_normalise(f32_exp_parts(x, &k, lo), lo), s = v_pow2_shifted(k);
  *lo = v_mul(*lo, s);
  return v_mul(hi, s);
}

#if NNK_F32_LOOKUP8 || NNK_F32_LOOKUP32
/* The pieces of the quotients below (sigmoid's, AVX2's tanh), for c a in [-20, 0] (c a
 * power of two, negative: f32_exp_table_r): e^(c a) = e0 (1 + q) + *tl with e0 = 2^n
 * t_hi and *tl = 2^n t_lo (exact: 2^n is normal), q from f32_exp_table_q: within 2^-28.3
 * for N = 8 (the reduction, q, the table). */
NNK_FORCE_INLINE V f32_exp_table_split(V a, float c, V *q, V *tl)
{
  V k, s;
  *q = f32_exp_table_q(f32_exp_table_r(a, c, &k, &s));
  const VI j = v_bits_index(k);
#if NNK_F32_SCALEF /* 2^n = 2^floor(s) in the scaling instruction itself */
  *tl = v_scalef(EXP2_LOOKUP(LO, j), s);
  return v_scalef(EXP2_LOOKUP(HI, j), s);
#else
  const V scale = v_pow2_shifted_eighths(k);
  *tl = v_mul(EXP2_LOOKUP(LO, j), scale);
  return v_mul(EXP2_LOOKUP(HI, j), scale);
#endif
}

/* 1 + e for e = e0 (1 + q) + tl, |e0| < 1 and |e0 q| small beside 1 + e0, as d + *dl
 * (returned first, so that a division may start on it): t0 + t0l = 1 + e0 (Fast2Sum),
 * d = t0 + e0 q rounded once (FMA), *dl its error (FMA on t0 - d, exact by Sterbenz) +
 * t0l + tl: within 2^-46 of 1 + e where that is near 1 (1 - e: e0 and tl negated). */
NNK_FORCE_INLINE V f32_one_plus_pair(V e0, V q, V tl, V *dl)
{
  const V one = v_set1(1.0f), t0 = v_add(one, e0), t0l = v_add(v_sub(one, t0), e0);
  const V d = v_fma(e0, q, t0);
  *dl = v_add(v_fma(e0, q, v_sub(t0, d)), v_add(t0l, tl));
  return d;
}

/* (nh + nl)/(d + dl) for |dl| within an ULP of d or so: g = nh (-1/d) rounded, the
 * residual rho = (nh + g d) + (nl + g dl) (FMAs, the first exact), and -(rho (-1/d) +
 * g): one rounding of the result, besides which nl may be a few hundredths of nh (its
 * part of rho rounds at 2^-24 of it). */
NNK_FORCE_INLINE V f32_pair_quotient(V nh, V nl, V d, V dl)
{
  const V rn = v_div(v_set1(-1.0f), d), g = v_mul(nh, rn);
  const V rho = v_add(v_fma(g, d, nh), v_fma(g, dl, nl));
  return v_fma(v_neg(rho), rn, v_neg(g));
}

/* sigmoid where the layer holds tables of 2^(j/N) (AVX2: v_sigmoid; AVX-512: for vectors
 * with a lane beyond its own tables' |x| < 8, below): sigmoid_pair.h's N/D, D = 1 + e,
 * e = e^-|x| (|x| up to 20), N = 1 (x >= 0) or e (x < 0), from the pieces above, so that
 * the division starts on D's high part before its low part or N's is done (the pair
 * on f32_exp_pair normalised e first).  N's low part e0 q + tl is up to 0.045 of N
 * (0.011 for N = 32).  Besides the last rounding, e's formula and the roundings of the
 * parts carried at 0.045 of N add up to 2^-25.5 of the result at most: within 0.85 ULP
 * by construction (make test-exhaustive measures it).  A dozen instructions fewer and a
 * shorter chain than the pair on f32_exp_pair: on AVX2 1.22x as fast on one core (Zen 4,
 * 0.63 against 0.77 ns).  Below -20, e^x (as sigmoid_pair.h).  Bits differ from the
 * pair's, each within 1 ULP. */
#if NNK_F32_LOOKUP8
#define SIGMOID_TABLE_NAME v_sigmoid
#else
#define SIGMOID_TABLE_NAME f32_sigmoid_table
#endif
NNK_FORCE_INLINE V SIGMOID_TABLE_NAME(V x)
{
  V q, tl, dl;
  const V e0 = f32_exp_table_split(v_min(v_set1(20.0f), v_abs(x)), -1.0f, &q, &tl);
  const V d = f32_one_plus_pair(e0, q, tl, &dl);
  const M neg = v_lt(x, v_set1(0.0f));
  const V nh = v_select(neg, e0, v_set1(1.0f)), nl = v_select(neg, v_fma(e0, q, tl), v_set1(0.0f));
  V r = f32_pair_quotient(nh, nl, d, dl);
  const M far = v_lt(x, v_set1(-20.0f));
  if (__builtin_expect(v_any(far), 0)) r = v_select(far, v_exp(x), r);
  return r;
}
#undef SIGMOID_TABLE_NAME
#else
/* sigmoid (sigmoid_pair.h): the pair up to |x| = 20 (e^2, a product in the quotient's
 * residual, stays normal; e^-20 = 2^-28.9: below -20, e^x is sigmoid within 0.04 ULP of
 * it), e^x beyond. */
#define SIGMOID_EXP_PAIR f32_exp_pair
#define SIGMOID_NEAR 20.0f
#include "sigmoid_pair.h"
#endif

#if NNK_F32_LOOKUP32
/* A function tabulated by build-aux/f32_interval_tables.py (tables NAME_B, _HI, _S1,
 * _LO and _P0 to _P4), at x in interval k of its lane: with y = x - NAME_B[k] (exact),
 * f(x) = NAME_HI[k] + tail, tail = y s1 + (lo + y^2 P(y)) rounded once where the fused
 * y s1 is added.  F32_TABLE_P1 gives (P(y) - P0) / y, F32_TABLE_TAIL the tail from it. */
#define F32_TABLE_P1(NAME, k, y) f32_table_p1(k, y, NAME##_P1, NAME##_P2, NAME##_P3, NAME##_P4)
#define F32_TABLE_TAIL(NAME, k, y, p1) f32_table_tail(k, y, p1, NAME##_S1, NAME##_P0, NAME##_LO)
NNK_FORCE_INLINE V f32_table_tail(VI k, V y, V p1, const float *s1, const float *p0,
                                   const float *lo)
{
  return v_fma(y, v_lookup32(s1, k), v_fma(v_mul(y, y), v_fma(p1, y, v_lookup32(p0, k)), v_lookup32(lo, k)));
}
NNK_FORCE_INLINE V f32_table_p1(VI k, V y, const float *p1, const float *p2, const float *p3,
                                 const float *p4)
{
  V p = v_fma(v_lookup32(p4, k), y, v_lookup32(p3, k));
  p = v_fma(p, y, v_lookup32(p2, k));
  return v_fma(p, y, v_lookup32(p1, k));
}

/* sigmoid where the layer holds 32-entry tables in registers (AVX-512), for vectors
 * whose every |x| < 7.99 (all a network's pre-activations, nearly): a polynomial
 * per half of x, no exp and no division (about 22 instructions a vector instead of 45).
 * Interval k = floor(2x + 16); with its point b and y = x - b (exact),
 *   sigmoid(x) = s_hi + (y s1 + (s_lo + y^2 P(y))),
 * s_hi + s_lo = sigmoid(b) to 2^-48, s1 = sigmoid'(b) exactly in float32, P of degree 4
 * (build-aux/fit_f32_sigmoid.py: the formula within 2^-30 before float32 rounds it).
 * The fused middle term rounds at half an ULP of a value at most 0.33 of the result,
 * the last addition at half the result's ULP: within 0.83 ULP by construction, and make
 * test-exhaustive measures it.  A vector with a lane outside takes the quotient
 * (f32_sigmoid_table, above) as a whole, as GELU's vectors take their paths
 * (vmath_impl.h): computing both and blending would cost wide inputs a third more.
 * Bits differ from the other layers' and between the two paths, each within 1 ULP. */
#include "sigmoid_halves.h"
NNK_FORCE_INLINE V v_sigmoid(V x)
{
  /* |x| < 8 - 1/128: 2x + 16 rounds below 32 (just under 8 it rounds to 32).  A NaN lane
   * stays (its lookups are any, its result NaN); infinities leave. */
  if (__builtin_expect(v_any(v_ge(v_abs(x), v_set1(0x1.ffp2f))), 0)) return f32_sigmoid_table(x);
  const VI k = v_floor_index(x, 2.0f, 16.0f);
  const V y = v_sub(x, v_lookup32(SIGMOID_B, k));
  return v_add(v_lookup32(SIGMOID_HI, k), F32_TABLE_TAIL(SIGMOID, k, y, F32_TABLE_P1(SIGMOID, k, y)));
}
#endif

#if NNK_F32_LOOKUP32
/* tanh where the layer holds 32-entry tables in registers (AVX-512): a polynomial per
 * quarter binade of |x|, no exp and no division (about 30 instructions a vector instead
 * of 60).  Interval i >= 1 is the quarter binade whose bits >> 21 are 0x1EA + i
 * ([7/128, 8/128) up to [8, 10)), interval 0 is [0, 7/128) and 31 is |x| >= 10, where
 * tanh rounds to 1.  The index is the bits >> 21 of |x| clamped to [6/128, 10] (0x1EA
 * to 0x209), whose low five bits the lookups read: the tables hold interval i at entry
 * (0x1EA + i) mod 32.  With b the interval's midpoint (0 on interval 0) and y = |x| - b,
 * exact (the same binade):
 *   tanh |x| = (t_hi + s y) + (t_lo + y P(y)),   t_hi + t_lo = tanh b to 2^-48,
 * s = 1 on interval 0 only, P of degree 5 fitted to 2^-28 of tanh
 * (build-aux/fit_f32_tanh.py prints these tables).  Only the last addition rounds at
 * float32's 2^-24: within 0.68 ULP over every input.  |x| is clamped to 10 first (a
 * NaN passes), so that y stays finite: tanh(+-inf) = +-1.  Its bits differ from the
 * other layers' tanh (below), each within 1 ULP. */
/* worst relative error of the formula before its last rounding: 3.63e-09 (2^-28.0), interval 6 */
static const float TANH_B[32] __attribute__((aligned(64))) = {0x1.2p+1f, 0x1.6p+1f, 0x1.ap+1f, 0x1.ep+1f, 0x1.2p+2f, 0x1.6p+2f, 0x1.ap+2f, 0x1.ep+2f, 0x1.2p+3f, 0x1.4p+3f, 0.0f, 0x1.ep-5f, 0x1.2p-4f, 0x1.6p-4f, 0x1.ap-4f, 0x1.ep-4f, 0x1.2p-3f, 0x1.6p-3f, 0x1.ap-3f, 0x1.ep-3f, 0x1.2p-2f, 0x1.6p-2f, 0x1.ap-2f, 0x1.ep-2f, 0x1.2p-1f, 0x1.6p-1f, 0x1.ap-1f, 0x1.ep-1f, 0x1.2p+0f, 0x1.6p+0f, 0x1.ap+0f, 0x1.ep+0f};
static const float TANH_T_HI[32] __attribute__((aligned(64))) = {0x1.f4bfd6p-1f, 0x1.fbd50ap-1f, 0x1.fe767ap-1f, 0x1.ff6f18p-1f, 0x1.ffdfa8p-1f, 0x1.fffbap-1f, 0x1.ffff68p-1f, 0x1.ffffecp-1f, 0x1.fffffep-1f, 0x1p+0f, 0.0f, 0x1.df7392p-5f, 0x1.1f86bep-4f, 0x1.5f22d2p-4f, 0x1.9e9356p-4f, 0x1.ddd092p-4f, 0x1.1e1ddp-3f, 0x1.5c9308p-3f, 0x1.9a5f1cp-3f, 0x1.d7665cp-3f, 0x1.18a39ap-2f, 0x1.52c2c6p-2f, 0x1.8a87e2p-2f, 0x1.bfae6ap-2f, 0x1.05087p-1f, 0x1.3157ep-1f, 0x1.5789p-1f, 0x1.77d838p-1f, 0x1.9e5cb6p-1f, 0x1.c278a6p-1f, 0x1.d9c6fap-1f, 0x1.e8789ep-1f};
static const float TANH_T_LO[32] __attribute__((aligned(64))) = {0x1.85bfa4p-26f, -0x1.46147p-27f, -0x1.45958cp-26f, -0x1.62ae24p-27f, -0x1.bd58dp-26f, -0x1.a07c2ep-26f, 0x1.3fb26ep-27f, -0x1.0eb872p-26f, 0x1.f4b3aep-26f, 0.0f, 0.0f, -0x1.42a05ap-30f, -0x1.3a17fap-29f, -0x1.2659bp-32f, 0x1.f48db8p-30f, 0x1.493e06p-29f, 0x1.57365cp-29f, -0x1.bb0c72p-28f, -0x1.899af8p-31f, 0x1.f37706p-28f, -0x1.94b7bap-30f, -0x1.3c4f3ep-27f, -0x1.699878p-27f, 0x1.72e49cp-27f, -0x1.a1256ap-26f, -0x1.608ea4p-29f, -0x1.de5accp-26f, 0x1.c680bp-26f, -0x1.16eca6p-27f, -0x1.ab6372p-26f, 0x1.fcc39p-26f, 0x1.9d81bcp-26f};
static const float TANH_P0[32] __attribute__((aligned(64))) = {0x1.64108ap-5f, 0x1.09a7a8p-6f, 0x1.88ef6ep-8f, 0x1.21a7b4p-9f, 0x1.02c03cp-11f, 0x1.183476p-14f, 0x1.2f61b4p-17f, 0x1.48779cp-20f, 0x1.060dacp-24f, 0.0f, 0x1.89d4dap-41f, 0x1.fe3f08p-1f, 0x1.fd7a22p-1f, 0x1.fc3cbep-1f, 0x1.fac13ep-1f, 0x1.f9085ap-1f, 0x1.f601cap-1f, 0x1.f12bp-1f, 0x1.eb715ap-1f, 0x1.e4dfb2p-1f, 0x1.d98b36p-1f, 0x1.c7f724p-1f, 0x1.b3ff2ep-1f, 0x1.9e23aep-1f, 0x1.7aeae6p-1f, 0x1.49e6cp-1f, 0x1.197fcep-1f, 0x1.d834d2p-2f, 0x1.615002p-2f, 0x1.cea744p-3f, 0x1.265e34p-3f, 0x1.6fcfa6p-4f};
static const float TANH_P1[32] __attribute__((aligned(64))) = {-0x1.5c3d8cp-5f, -0x1.077e0cp-6f, -0x1.87c166p-8f, -0x1.2155b6p-9f, -0x1.02af0cp-11f, -0x1.183126p-14f, -0x1.2f605ep-17f, -0x1.48767cp-20f, -0x1.05d1d8p-24f, 0.0f, -0x1.fa815ap-31f, -0x1.ddcf24p-5f, -0x1.1e1c0ap-4f, -0x1.5c8e36p-4f, -0x1.9a5416p-4f, -0x1.d75004p-4f, -0x1.18883cp-3f, -0x1.5279fep-3f, -0x1.89e51p-3f, -0x1.be6cb8p-3f, -0x1.038f72p-2f, -0x1.2daf9ap-2f, -0x1.4ff714p-2f, -0x1.6a1d3ap-2f, -0x1.825df8p-2f, -0x1.897d28p-2f, -0x1.79c0ep-2f, -0x1.5aa21cp-2f, -0x1.1defacp-2f, -0x1.970e08p-3f, -0x1.10646ep-3f, -0x1.5ee892p-4f};
static const float TANH_P2[32] __attribute__((aligned(64))) = {0x1.bbce6p-6f, 0x1.599474p-7f, 0x1.03964p-8f, 0x1.80e728p-10f, 0x1.58605ap-12f, 0x1.7529c6p-15f, 0x1.941022p-18f, 0x1.b57a84p-21f, 0x1.56787p-25f, 0.0f, -0x1.555548p-2f, -0x1.50ab26p-2f, -0x1.4ea16p-2f, -0x1.4b5adp-2f, -0x1.477428p-2f, -0x1.42f17cp-2f, -0x1.3b134ep-2f, -0x1.2ea3fcp-2f, -0x1.202a34p-2f, -0x1.0fdf04p-2f, -0x1.e91ee6p-3f, -0x1.98587ep-3f, -0x1.4271f4p-3f, -0x1.d71f6ap-4f, -0x1.bd0b84p-5f, 0x1.d76aa8p-7f, 0x1.072ccap-4f, 0x1.84349cp-4f, 0x1.c68d84p-4f, 0x1.97d80cp-4f, 0x1.33df2p-4f, 0x1.a85c1cp-5f};
static const float TANH_P3[32] __attribute__((aligned(64))) = {-0x1.93cc98p-7f, -0x1.4e3b9cp-8f, -0x1.00773p-9f, -0x1.7f3544p-11f, -0x1.582b7p-13f, -0x1.7541b6p-16f, -0x1.9435f6p-19f, -0x1.b5a538p-22f, -0x1.58cf64p-26f, 0.0f, -0x1.018c66p-16f, 0x1.3ce622p-5f, 0x1.7aa8ep-5f, 0x1.cb9e18p-5f, 0x1.0d5946p-4f, 0x1.33cb7p-4f, 0x1.6b179cp-4f, 0x1.afb106p-4f, 0x1.ed9006p-4f, 0x1.11f6e8p-3f, 0x1.3316dep-3f, 0x1.50369cp-3f, 0x1.5c35aep-3f, 0x1.5864ecp-3f, 0x1.3a4d78p-3f, 0x1.e9828ap-4f, 0x1.47171p-4f, 0x1.626a3ep-5f, 0x1.ac443ep-9f, -0x1.5dd6a4p-6f, -0x1.9d2b02p-6f, -0x1.55d68ap-6f};
static const float TANH_P4[32] __attribute__((aligned(64))) = {0x1.049feep-8f, 0x1.f5f53p-10f, 0x1.93f5a6p-11f, 0x1.32dcbap-12f, 0x1.1e7d48p-14f, 0x1.3760f2p-17f, 0x1.514ceap-20f, 0x1.6d370ep-23f, 0x1.491286p-27f, 0.0f, 0x1.122d2ep-3f, 0x1.092beap-3f, 0x1.05b7acp-3f, 0x1.003806p-3f, 0x1.f36998p-4f, 0x1.e47372p-4f, 0x1.ca8d1cp-4f, 0x1.a25f96p-4f, 0x1.74a4b2p-4f, 0x1.428acap-4f, 0x1.e3c8d6p-5f, 0x1.05c564p-5f, 0x1.84848ep-8f, -0x1.1920fep-6f, -0x1.642afep-5f, -0x1.f85e62p-5f, -0x1.00b0d2p-4f, -0x1.b2aa7ep-5f, -0x1.067598p-5f, -0x1.37c13ep-7f, 0x1.6daf3ep-10f, 0x1.2d87c4p-8f};
static const float TANH_P5[32] __attribute__((aligned(64))) = {-0x1.78a9b2p-11f, -0x1.1e00fcp-11f, -0x1.fe8df8p-13f, -0x1.90f84ap-14f, -0x1.79a244p-16f, -0x1.9bf77cp-19f, -0x1.be7c42p-22f, -0x1.e377fcp-25f, -0x1.aaa258p-29f, 0.0f, -0x1.211f32p-7f, -0x1.7d4286p-16f, -0x1.a8a6e4p-6f, -0x1.008de6p-5f, -0x1.2ac05ep-5f, -0x1.52b7b6p-5f, -0x1.8adb8ap-5f, -0x1.cc136ep-5f, -0x1.009b18p-4f, -0x1.14a56ep-4f, -0x1.25d724p-4f, -0x1.26118cp-4f, -0x1.0f3784p-4f, -0x1.cde8fcp-5f, -0x1.31bf5p-5f, -0x1.7ddc78p-7f, 0x1.d850acp-8f, 0x1.15fdf4p-6f, 0x1.2eca4cp-6f, 0x1.67bb2p-7f, 0x1.0dfe88p-8f, 0x1.54ddd8p-11f};
static inline V v_tanh(V x)
{
  V a = v_min(v_set1(10.0f), v_abs(x));
  VI i = v_quarter_binade(v_max(v_set1(0x1.8p-5f), a)); /* 6/128 up: 0x1EA for interval 0 */
  V y = v_sub(a, v_lookup32(TANH_B, i));
  V p = v_fma(v_lookup32(TANH_P5, i), y, v_lookup32(TANH_P4, i));
  p = v_fma(p, y, v_lookup32(TANH_P3, i));
  p = v_fma(p, y, v_lookup32(TANH_P2, i));
  p = v_fma(p, y, v_lookup32(TANH_P1, i));
  p = v_fma(p, y, v_lookup32(TANH_P0, i));
  V head = v_select(v_lt(a, v_set1(0x1.cp-5f)), y, v_lookup32(TANH_T_HI, i)); /* 7/128 */
  return v_copysign(v_add(head, v_fma(y, p, v_lookup32(TANH_T_LO, i))), x);
}
#else
/* tanh (tanh_pair.h): e = e^-2|x| <= 0.37 from |x| = 1/2 up to 9.5, where the result is
 * +-1 (and e's exponent stays above -28); below 1/2, T of degree 5 (fit_f32_math.py). */
static inline V f32_tanh_t(V x2)
{
  static const float TANH_T[] = {0x1.5f0a56p-9f,  -0x1.1a7d16p-7f, 0x1.65cedcp-6f,
                                 -0x1.ba17eap-5f, 0x1.11110cp-3f,  -0x1.555556p-2f};
  V t = v_set1(TANH_T[0]);
  for (size_t i = 1; i < sizeof TANH_T / sizeof TANH_T[0]; i++) t = v_fma(t, x2, v_set1(TANH_T[i]));
  return t;
}
#if NNK_F32_LOOKUP8
/* AVX2: tanh_pair.h's quotient (1 - e)/(1 + e), e = e^-2|x|, from the pieces above as
 * sigmoid's (N = 1 - e as the pair of 1 + (-e): e0 < 0.4, so 1 - e0 is Fast2Sum's and
 * N's high part is within a factor 2 of 1 - e0).  e's formula reaches the result scaled
 * by 0.87 at most; only the last operation rounds at float32's 2^-24.  1.17x as fast as
 * the pair on f32_exp_pair on one core (Zen 4, 0.87 against 1.015 ns); bits differ from
 * it, each within 1 ULP. */
static inline V v_tanh(V x)
{
  const V a = v_min(v_set1(9.5f), v_abs(x));
  V q, tl, dl, nl;
  const V e0 = f32_exp_table_split(a, -2.0f, &q, &tl);
  const V d = f32_one_plus_pair(e0, q, tl, &dl), nh = f32_one_plus_pair(v_neg(e0), q, v_neg(tl), &nl);
  V big = f32_pair_quotient(nh, nl, d, dl);
  big = v_select(v_lt(x, v_set1(0.0f)), v_neg(big), big);
  const V x2 = v_mul(x, x);
  V small = v_fma(v_mul(x, x2), f32_tanh_t(x2), x);
  small = v_select(v_lt(a, v_set1(0x1p-12f)), x, small);
  return v_select(v_lt(a, v_set1(0.5f)), small, big);
}
#else
#define TANH_EXP_PAIR f32_exp_pair
#define TANH_FAR 9.5f
#define TANH_SMALL 0.5f
#define TANH_T f32_tanh_t
#define TANH_TINY 0x1p-12f
#include "tanh_pair.h"
#endif
#endif
