/*
 * The float64 layer's v_sigmoid, within 1 ULP: written once over the float64 helper
 * layer of every ISA (dtype.h includes it after the layer).  exp and tanh are SLEEF's
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
  V p = v_set1(EXP_P[0]);
  for (size_t i = 1; i < sizeof EXP_P / sizeof EXP_P[0]; i++) p = v_fma(p, r, v_set1(EXP_P[i]));
  V hi = v_add(one, rh);
  *lo = v_add(v_add(v_sub(one, hi), rh), v_fma(v_mul(r, r), p, rl));
  return hi;
}

/* sigmoid: N/(1 + e), e = e^-|x| = 2^n (hi + lo), N = 1 for x >= 0 and e for x < 0; e and
 * N held at 2^600 times their value (normal even when e is subnormal), the quotient
 * taking 2^-600 last.  Beyond |x| = 746 the result is 0 or 1. */
static inline V v_sigmoid(V x)
{
  const V one = v_set1(1.0), down = v_set1(0x1p-600);
  V k, lo, hi = f64_exp_parts(v_neg(v_min(v_set1(746.0), v_abs(x))), &k, &lo);
  V s = v_add(hi, lo); /* normalise the pair: lo becomes hi + lo's rounding error */
  lo = v_add(v_sub(hi, s), lo), hi = s;
  V up = v_pow2_shifted(v_add(k, v_set1(600.0)));
  V eh = v_mul(hi, up), el = v_mul(lo, up); /* e 2^600, exact */
  V dh = v_fma(eh, down, one);
  V dl = v_fma(el, down, v_fma(eh, down, v_sub(one, dh)));
  M pos = v_ge(x, v_set1(0.0));
  V nh = v_select(pos, v_set1(0x1p600), eh), nl = v_select(pos, v_set1(0.0), el);
  V rd = v_div(one, dh);
  V q = v_mul(nh, rd);
  V rho = v_add(v_fma(v_neg(q), dh, nh), v_sub(nl, v_mul(q, dl)));
  return v_mul(v_fma(rho, rd, q), down);
}
