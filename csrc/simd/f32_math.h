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
 * on every layer (libm's fmaf on the scalar one), so all ISAs give the same bits.
 *
 * Polynomials: build-aux/fit_f32_math.py.  Inputs are clamped where the float32 result
 * has reached its limit; NaN passes every clamp (comparisons with NaN are false).
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

/* v 2^n for n in [-150, 129] (k = n + F32_SHIFTER), rounded once: through 2^(n +- 64),
 * which is normal, and then 2^-+64, which rounds only a subnormal or overflowing result. */
static inline V f32_scale(V v, V k)
{
  M neg = v_lt(k, v_set1(F32_SHIFTER));
  V t = v_mul(v, v_pow2_shifted(v_add(k, v_select(neg, v_set1(64.0f), v_set1(-64.0f)))));
  return v_mul(t, v_select(neg, v_set1(0x1p-64f), v_set1(0x1p64f)));
}

/* exp: below -104 the result rounds to 0, above 89 to infinity. */
static inline V v_exp(V x)
{
  V k, lo, hi = f32_exp_parts(f32_clamp(x, -104.0f, 89.0f), &k, &lo);
  return f32_scale(v_add(hi, lo), k);
}

/* sigmoid (sigmoid_pair.h): e^-|x| through 2^(n + 64); beyond |x| = 104, 0 or 1. */
#define SIGMOID_EXP_PARTS f32_exp_parts
#define SIGMOID_FAR 104.0f
#define SIGMOID_SCALE 64.0f
#define SIGMOID_UP 0x1p64f
#define SIGMOID_DOWN 0x1p-64f
#include "sigmoid_pair.h"

/* tanh: for |x| >= 1/2, (1 - e)/(1 + e) with e = e^-2|x| <= 0.37 (numerator and
 * denominator pairs by Fast2Sum, the quotient's residual by FMA); below, x + x^3 T(x^2).
 * From |x| = 9.5 the result is +-1 (and e's exponent stays above -28). */
static inline V v_tanh(V x)
{
  static const float TANH_T[] = {0x1.5f0a56p-9f,  -0x1.1a7d16p-7f, 0x1.65cedcp-6f,
                                 -0x1.ba17eap-5f, 0x1.11110cp-3f,  -0x1.555556p-2f};
  const V one = v_set1(1.0f);
  V a = v_min(v_set1(9.5f), v_abs(x));
  V k, lo, hi = f32_exp_parts(v_mul(a, v_set1(-2.0f)), &k, &lo);
  hi = f32_normalise(hi, &lo);
  V s = v_pow2_shifted(k);
  V eh = v_mul(hi, s), el = v_mul(lo, s);
  V nh = v_sub(one, eh);
  V nl = v_sub(v_sub(v_sub(one, nh), eh), el);
  V dh = v_add(one, eh);
  V dl = v_add(v_add(v_sub(one, dh), eh), el);
  V rd = v_div(one, dh);
  V q = v_mul(nh, rd);
  V rho = v_add(v_fma(v_neg(q), dh, nh), v_sub(nl, v_mul(q, dl)));
  V big = v_fma(rho, rd, q);
  big = v_select(v_lt(x, v_set1(0.0f)), v_neg(big), big);
  V x2 = v_mul(x, x);
  V t = v_set1(TANH_T[0]);
  for (size_t i = 1; i < sizeof TANH_T / sizeof TANH_T[0]; i++) t = v_fma(t, x2, v_set1(TANH_T[i]));
  V small = v_fma(v_mul(x, x2), t, x);
  small = v_select(v_lt(a, v_set1(0x1p-12f)), x, small); /* x itself, and -0 stays -0 */
  return v_select(v_lt(a, v_set1(0.5f)), small, big);
}
