/*
 * The float64 layer's v_sigmoid and v_tanh, within 1 ULP: written once over the float64
 * helper layer of every ISA (dtype.h includes it after the layer), their algorithms
 * shared with float32's (sigmoid_pair.h, tanh_pair.h).  exp is nnk's own (below) but on
 * the scalar layer (SLEEF's u10, within 1 ULP on its own); a sigmoid or tanh built on an
 * exp within 1 ULP is not (x < 0 passes e^x's error through whole, and the formula adds
 * its roundings), so they follow csrc/simd/f32_math.h in double: e^-|x| as a pair
 * hi + lo (within 2^-60), 1 +- e as pairs (Fast2Sum) and the quotient corrected by its
 * residual (FMA, fused on every layer), so that only the last operation rounds.  NaN
 * passes every clamp.
 */

#define F64_SHIFTER 0x1.8p52 /* adding it rounds a double to an integer (|n| < 2^51) */
/* Cody and Waite's two-part ln2 (fdlibm's: n F64_LN2_HI is exact for |n| < 2^21) and
 * 1/ln2, for the exponentials' reductions (f64_exp_parts, v_exp, wide_math.h's). */
#define F64_INV_LN2 0x1.71547652b82fep0
#define F64_LN2_HI 6.93147180369123816490e-01
#define F64_LN2_LO 1.90821492927058770002e-10

#if NNK_F64_LOOKUP16
/* exp where the layer holds 16-entry tables in registers (AVX-512; other layers use
 * SLEEF's): x = (16 n + j) ln2/16 + r, |r| <= ln2/32, with 16 n + j = round(16 x/ln2)
 * by the shifter (j its low four bits, n16 x ln2_hi/16 exact, as in f64_exp_parts);
 * 2^(j/16) = hi + lo from the table (build-aux/fit_f64_exp.py); e^r - 1 = q by its
 * Taylor polynomial to r^7 (remainder 2^-59.5 at ln2/32); e^x = 2^n (hi + (lo + hi q)),
 * the sum rounded once and scaled by vscalefpd (which rounds a second time only for a
 * subnormal result, built as its bits instead).  x is clamped to [-746, 710], beyond which e^x is 0 or infinity;
 * a NaN passes. */
static const double EXP2_16_HI[16] __attribute__((aligned(64))) = {0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0, 0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0, 0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0, 0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};
static const double EXP2_16_LO[16] __attribute__((aligned(64))) = {0.0, 0x1.8a62e4adc610bp-54, -0x1.19041b9d78a76p-55, 0x1.9b07eb6c70573p-54, 0x1.6f46ad23182e4p-55, 0x1.ada0911f09ebcp-55, 0x1.d4397afec42e2p-56, 0x1.6324c054647adp-54, -0x1.bdd3413b26456p-54, -0x1.41577ee04992fp-55, 0x1.6e9f156864b27p-54, 0x1.c7c46b071f2bep-56, 0x1.7a1cd345dcc81p-54, 0x1.11065895048ddp-55, 0x1.2ed02d75b3707p-55, -0x1.e9c23179c2893p-54};
/* The reduction both exponentials here share: x = (16 n + j) ln2/16 + r, |r| <= ln2/32;
 * returns e^r - 1 (Taylor to r^7), *k the shifted 16 n + j (its low four bits index the
 * tables) and *n = (16 n + j)/16, which vscalefpd floors to n. */
NNK_FORCE_INLINE V f64_exp16_reduce(V x, V *k, V *n)
{
  static const double Q[] = {1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5};
  *k = v_fma(x, v_set1(16 * F64_INV_LN2), v_set1(F64_SHIFTER));
  V n16 = v_sub(*k, v_set1(F64_SHIFTER));
  V r = v_fma(n16, v_set1(-F64_LN2_HI / 16), x);
  r = v_fma(n16, v_set1(-F64_LN2_LO / 16), r);
  V p = v_set1(Q[0]);
  for (size_t i = 1; i < sizeof Q / sizeof Q[0]; i++) p = v_fma(p, r, v_set1(Q[i]));
  *n = v_mul(n16, v_set1(0.0625));
  return v_fma(v_mul(r, r), p, r);
}

static inline V v_exp(V x)
{
  V k, n, q = f64_exp16_reduce(v_min(v_set1(710.0), v_max(v_set1(-746.0), x)), &k, &n);
  V hi = v_lookup16(EXP2_16_HI, k);
  V m = v_add(hi, v_fma(hi, q, v_lookup16(EXP2_16_LO, k)));
  M tiny = v_lt(n, v_set1(-1022.0));
  if (__builtin_expect(!v_any(tiny), 1)) return v_scalef(m, n);
  /* A subnormal or zero result, built as bits from a normal double (f32_math.h's
   * f32_scale says why: Intel's microcode assists); the other lanes held at 2^-1022. */
  V t = v_round_bits(v_scalef(m, v_add(n, v_set1(1074.0))));
  return v_select(tiny, t, v_scalef(m, v_max(v_set1(-1022.0), n)));
}
#endif

/* e^x = 2^n (hi + lo) for x in [-746, 0], hi + lo within 2^-60 of e^r; *k = n +
 * F64_SHIFTER.  x = n ln2 + r with ln2 in two parts (fdlibm's: n ln2_hi exact for
 * |n| < 2^21), e^r = 1 + r + r^2 P(r), P the Taylor series of (e^r - 1 - r)/r^2 to
 * degree 12 (remainder 2^-63 at |r| = 0.35); hi = 1 + r_hi rounded, lo the rest. */
NNK_FORCE_INLINE V f64_exp_parts(V x, V *k, V *lo)
{
  static const double EXP_P[] = {
      1.0 / 1307674368000.0, 1.0 / 87178291200.0, 1.0 / 6227020800.0, 1.0 / 479001600.0,
      1.0 / 39916800.0,      1.0 / 3628800.0,     1.0 / 362880.0,     1.0 / 40320.0,
      1.0 / 5040.0,          1.0 / 720.0,         1.0 / 120.0,        1.0 / 24.0,
      1.0 / 6.0,             1.0 / 2.0};
  const V one = v_set1(1.0);
  *k = v_fma(x, v_set1(F64_INV_LN2), v_set1(F64_SHIFTER));
  V n = v_sub(*k, v_set1(F64_SHIFTER));
  V rh = v_fma(n, v_set1(-F64_LN2_HI), x);
  V rl = v_mul(n, v_set1(-F64_LN2_LO));
  V r = v_add(rh, rl);
  V p = v_poly14(r, EXP_P, 1);
  V hi = v_add(one, rh);
  *lo = v_add(v_add(v_sub(one, hi), rh), v_fma(v_mul(r, r), p, rl));
  return hi;
}

#if !NNK_F64_LOOKUP16 && W > 1
/* exp on the vector layers without tables (AVX2, NEON; the scalar oracle keeps SLEEF's):
 * f64_exp_parts' e^r = hi + lo rounded once, times 2^n, exact where the result is normal
 * (within half an ULP and 2^-60 then; SLEEF's u10, which this replaces, was a call per
 * vector).  Where some lane's |n| > 1022, 2^n as 2^a 2^(n - a), a = n/2 rounded: the
 * first product exact, the second the one rounding but for a subnormal result (rounded
 * twice: within an ULP); x is clamped to [-746, 710] (0 and infinity beyond). */
static inline V v_exp(V x)
{
  const V shifter = v_set1(F64_SHIFTER);
  V k, lo, hi = f64_exp_parts(v_min(v_set1(710.0), v_max(v_set1(-746.0), x)), &k, &lo);
  V m = v_add(hi, lo), n = v_sub(k, shifter);
  if (__builtin_expect(!v_any(v_ge(v_abs(n), v_set1(1022.5))), 1)) return v_mul(m, v_pow2_shifted(k));
  V ka = v_fma(n, v_set1(0.5), shifter), kb = v_add(v_sub(n, v_sub(ka, shifter)), shifter);
  return v_mul(v_mul(m, v_pow2_shifted(ka)), v_pow2_shifted(kb));
}
#endif

/* e^x = hi + lo for x in [-700, 0] (normal results), normalised: where the layer holds
 * 16-entry tables (AVX-512), 2^(j/16) (hi + lo) from them and e^r - 1 to r^7 (v_exp's
 * reduction, a polynomial half as long as f64_exp_parts'), both scaled by vscalefpd
 * (exact: normal results); elsewhere f64_exp_parts' pair scaled by 2^n. */
NNK_FORCE_INLINE V f64_exp_pair(V x, V *lo)
{
#if NNK_F64_LOOKUP16
  V k, n, q = f64_exp16_reduce(x, &k, &n);
  V th = v_lookup16(EXP2_16_HI, k), tl = v_fma(th, q, v_lookup16(EXP2_16_LO, k));
  V hi = v_add(th, tl);
  *lo = v_scalef(v_add(v_sub(th, hi), tl), n);
  return v_scalef(hi, n);
#else
  V k, hi = f64_exp_parts(x, &k, lo), s = v_add(hi, *lo);
  *lo = v_add(v_sub(hi, s), *lo);
  V p2 = v_pow2_shifted(k);
  *lo = v_mul(*lo, p2);
  return v_mul(s, p2);
#endif
}
/* sigmoid (sigmoid_pair.h): the pair up to |x| = 300 (where e^2, a product in the
 * quotient's residual, is still normal; below -300, e^x is sigmoid to 2^-432 of it),
 * e^x beyond. */
#define SIGMOID_EXP_PAIR f64_exp_pair
#define SIGMOID_NEAR 300.0
#include "sigmoid_pair.h"

/* tanh (tanh_pair.h), nnk's own on every layer (SLEEF's u10 was a call per vector, at
 * 0.46x NumPy's AVX-512 tanh on an Intel Xeon): the quotient of e = e^-2|x| up to 19.5,
 * where tanh rounds to +-1; below TANH_SMALL, x + x^3 T(x^2) (build-aux/fit_f64_tanh.py:
 * T within 2^-54, its share of tanh 2^-59.6 or less); below 2^-27, x.  How far down the
 * quotient holds depends on e's pair: with AVX-512's tables the rounding of 2^(j/16) q,
 * about 2^-59 absolute, is what reaches the numerator 1 - e ~ 2|x|, within 0.69 ULP in
 * all down to |x| = 1/16 (1.3 ULP at 1/32, measured); without them, 0.96 ULP in
 * [1/8, 1/4).  So the polynomial covers 1/16 with degree 4 on AVX-512 and 1/4 with
 * degree 8 elsewhere.  With the sign put back by v_copysign, AVX-512's tanh went from
 * 1.61 to 1.43 ns an element on x in (-5, 5), one Zen 4 core (NumPy's 1.68). */
static inline V f64_tanh_t(V x2)
{
#if NNK_F64_LOOKUP16
  static const double TANH_T[] = {-0x1.2148b25f508f4p-7, 0x1.664ec83460fb2p-6,
                                  -0x1.ba1ba1a3345cdp-5, 0x1.111111111059ep-3,
                                  -0x1.5555555555555p-2};
  V t = v_set1(TANH_T[0]); /* Horner: a short chain gains nothing from Estrin (poly.h) */
  for (size_t i = 1; i < sizeof TANH_T / sizeof TANH_T[0]; i++) t = v_fma(t, x2, v_set1(TANH_T[i]));
  return t;
#else
  static const double TANH_T[] = {
      -0x1.bff153c36cb39p-13, 0x1.33cf3deecb286p-11, -0x1.7d971c140d5d9p-10,
      0x1.d6d39755b2859p-9,   -0x1.226e350f0cce6p-7, 0x1.664f488245e56p-6,
      -0x1.ba1ba1ba1b41ep-5,  0x1.1111111111110p-3,  -0x1.5555555555555p-2};
  return v_poly9(x2, TANH_T, 1);
#endif
}
#define TANH_EXP_PAIR f64_exp_pair
#define TANH_FAR 19.5
#if NNK_F64_LOOKUP16
#define TANH_SMALL 0.0625
#else
#define TANH_SMALL 0.25
#endif
#define TANH_T f64_tanh_t
#define TANH_TINY 0x1p-27
#include "tanh_pair.h"
