/*
 * The helper layer's v_tanh within 1 ULP, one algorithm for both dtypes (like
 * sigmoid_pair.h): included by f32_math.h (layers without exp tables: scalar, NEON) and
 * f64_math.h (every layer) after they define
 *   TANH_EXP_PAIR   e^x = hi + lo (returned, *lo) for x in [-2 TANH_FAR, 0], |lo| within
 *                   half an ULP of hi
 *   TANH_FAR        |x| from which tanh rounds to +-1 (e's exponent stays normal there)
 *   TANH_SMALL      |x| below which x + x^3 T(x^2) is used, and TANH_T(x2) that T
 *   TANH_TINY       |x| below which tanh x rounds to x (x itself: -0 stays -0)
 *
 * For |x| >= TANH_SMALL, (1 - e)/(1 + e) with e = e^-2|x| < 1: e as a pair, numerator and denominator as pairs (Fast2Sum; 1 - e is exact or nearly
 * where e is near 1/2), the quotient q = N_hi/D_hi rounded and corrected by its residual
 * (FMA): N/D = q + (N_hi - q D_hi + N_lo - q D_lo)/D_hi.  Only the last operation rounds
 * at the dtype's precision; the quotient is positive, x's sign is put back on it.
 */
static inline V v_tanh(V x)
{
  const V one = v_set1((T)1);
  V a = v_min(v_set1(TANH_FAR), v_abs(x));
  V el, eh = TANH_EXP_PAIR(v_mul(a, v_set1((T)-2)), &el);
  V nh = v_sub(one, eh);
  V nl = v_sub(v_sub(v_sub(one, nh), eh), el);
  V dh = v_add(one, eh);
  V dl = v_add(v_add(v_sub(one, dh), eh), el);
  V rd = v_recip(dh);
  V q = v_mul(nh, rd);
  V rho = v_add(v_fma(v_neg(q), dh, nh), v_sub(nl, v_mul(q, dl)));
  V big = v_fma(rho, rd, q);
  big = v_copysign(big, x);
  V x2 = v_mul(x, x);
  V small = v_fma(v_mul(x, x2), TANH_T(x2), x);
  small = v_select(v_lt(a, v_set1(TANH_TINY)), x, small);
  return v_select(v_lt(a, v_set1(TANH_SMALL)), small, big);
}

#undef TANH_EXP_PAIR
#undef TANH_FAR
#undef TANH_SMALL
#undef TANH_T
#undef TANH_TINY
