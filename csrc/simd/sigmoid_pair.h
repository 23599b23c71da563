/*
 * The helper layer's v_sigmoid within 1 ULP, one algorithm for both dtypes: included by
 * f32_math.h and f64_math.h after they define
 *   SIGMOID_EXP_PARTS  e^x = 2^n (hi + lo) for x <= 0, *k = n + the dtype's shifter
 *   SIGMOID_FAR        |x| beyond which the result is 0 or 1 (e^-|x| below half the
 *                      smallest subnormal)
 *   SIGMOID_SCALE      s with 2^(n + s) normal for every such n, and SIGMOID_UP = 2^s,
 *                      SIGMOID_DOWN = 2^-s as literals of the dtype.
 *
 * With e = e^-|x| = 2^n (hi + lo), n <= 0: N/(1 + e), N = 1 for x >= 0 and e for x < 0 (no
 * overflow, no cancellation).  The pair is normalised (Fast2Sum), 1 + e is a pair dh + dl
 * (Fast2Sum), the quotient q = N_hi/D_hi rounded and corrected by its residual (FMA):
 * N/D = q + (N_hi - q D_hi + N_lo - q D_lo)/D_hi.  e and N are held at 2^s times their
 * value (normal even when e is not); the quotient takes 2^-s last, so that a subnormal
 * result rounds once.
 */
static inline V v_sigmoid(V x)
{
  const V one = v_set1((T)1), down = v_set1(SIGMOID_DOWN);
  V k, lo, hi = SIGMOID_EXP_PARTS(v_neg(v_min(v_set1(SIGMOID_FAR), v_abs(x))), &k, &lo);
  V s = v_add(hi, lo);
  lo = v_add(v_sub(hi, s), lo), hi = s;
  V up = v_pow2_shifted(v_add(k, v_set1(SIGMOID_SCALE)));
  V eh = v_mul(hi, up), el = v_mul(lo, up); /* e 2^s, exact */
  V dh = v_fma(eh, down, one);
  V dl = v_fma(el, down, v_fma(eh, down, v_sub(one, dh)));
  M pos = v_ge(x, v_set1((T)0));
  V nh = v_select(pos, v_set1(SIGMOID_UP), eh), nl = v_select(pos, v_set1((T)0), el);
  V rd = v_recip(dh);
  V q = v_mul(nh, rd);
  V rho = v_add(v_fma(v_neg(q), dh, nh), v_sub(nl, v_mul(q, dl)));
  return v_mul(v_fma(rho, rd, q), down);
}

#undef SIGMOID_EXP_PARTS
#undef SIGMOID_FAR
#undef SIGMOID_SCALE
#undef SIGMOID_UP
#undef SIGMOID_DOWN
