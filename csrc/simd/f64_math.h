/*
 * The float64 layer's v_sigmoid, within 1 ULP: written once over the float64 helper
 * layer of every ISA (dtype.h includes it after the layer), its algorithm shared with
 * float32's (sigmoid_pair.h).  exp and tanh are SLEEF's
 * (u10: within 1 ULP on their own); the sigmoid built on them is not (x < 0 passes
 * e^x's error through whole, and the formula adds its roundings), so it follows
 * csrc/simd/f32_math.h in double: e^-|x| as a pair hi + lo (within 2^-60), 1 + e as a
 * pair (Fast2Sum) and the quotient corrected by its residual (FMA, fused on every
 * layer), so that only the last operation rounds.  NaN passes every clamp.
 */

#define F64_SHIFTER 0x1.8p52 /* adding it rounds a double to an integer (|n| < 2^51) */

/* e^x = 2^n (hi + lo) for x in [-746, 0], hi + lo within 2^-60 of e^r; *k = n +
 * F64_SHIFTER.  x = n ln2 + r with ln2 in two parts (fdlibm's: n ln2_hi exact for
 * |n| < 2^21), e^r = 1 + r + r^2 P(r), P the Taylor series of (e^r - 1 - r)/r^2 to
 * degree 12 (remainder 2^-63 at |r| = 0.35); hi = 1 + r_hi rounded, lo the rest. */
static inline V f64_exp_parts(V x, V *k, V *lo)
{
  static const double EXP_P[] = {
      1.0 / 1307674368000.0, 1.0 / 87178291200.0, 1.0 / 6227020800.0, 1.0 / 479001600.0,
      1.0 / 39916800.0,      1.0 / 3628800.0,     1.0 / 362880.0,     1.0 / 40320.0,
      1.0 / 5040.0,          1.0 / 720.0,         1.0 / 120.0,        1.0 / 24.0,
      1.0 / 6.0,             1.0 / 2.0};
  const V one = v_set1(1.0);
  *k = v_fma(x, v_set1(0x1.71547652b82fep0), v_set1(F64_SHIFTER));
  V n = v_sub(*k, v_set1(F64_SHIFTER));
  V rh = v_fma(n, v_set1(-6.93147180369123816490e-01), x);
  V rl = v_mul(n, v_set1(-1.90821492927058770002e-10));
  V r = v_add(rh, rl);
  V p = v_poly14(r, EXP_P, 1);
  V hi = v_add(one, rh);
  *lo = v_add(v_add(v_sub(one, hi), rh), v_fma(v_mul(r, r), p, rl));
  return hi;
}

/* sigmoid (sigmoid_pair.h): e^-|x| through 2^(n + 600); beyond |x| = 746, 0 or 1. */
#define SIGMOID_EXP_PARTS f64_exp_parts
#define SIGMOID_FAR 746.0
#define SIGMOID_SCALE 600.0
#define SIGMOID_UP 0x1p600
#define SIGMOID_DOWN 0x1p-600
#include "sigmoid_pair.h"
