/*
 * The helper layer's v_sigmoid within 1 ULP, one algorithm for both dtypes: included by
 * f32_math.h (but where the layer holds exp tables, AVX2 and AVX-512, which arrange the
 * same quotient around them there) and f64_math.h after they define
 *   SIGMOID_EXP_PAIR  e^x = hi + lo (returned, *lo) for x in [-SIGMOID_NEAR, 0], |lo|
 *                     within half an ULP of hi
 *   SIGMOID_NEAR      |x| up to which the pair below is used: e^-NEAR, its low part and
 *                     its square (in the residual) are normal, and below -NEAR
 *                     sigmoid(x) = e^x (1 - e^x + ...) is e^x to within a small part of
 *                     an ULP (e^-NEAR of it), so v_exp(x) gives it
 *
 * With e = e^-|x| (|x| <= NEAR) as a pair: N/(1 + e), N = 1 for x >= 0 and e for x < 0
 * (no overflow, no cancellation), 1 + e as a pair dh + dl (Fast2Sum), the quotient q =
 * N_hi/D_hi rounded and corrected by its residual (FMA): N/D = q + (N_hi - q D_hi + N_lo -
 * q D_lo)/D_hi.  Below -NEAR, e^x: the only lanes whose result may be subnormal, which
 * v_exp builds without subnormal arithmetic (Intel cores take a microcode assist for
 * every vector that produces one: float32 sigmoid beyond |x| = 87 ran 15 times slower,
 * where e and its products with 2^-64 underflowed; beyond NEAR the pair is held at
 * NEAR, whose sigmoid rounds to 1 for x > 0).
 */
NNK_FORCE_INLINE V v_sigmoid(V x)
{
  const V one = v_set1((T)1);
  V el, eh = SIGMOID_EXP_PAIR(v_neg(v_min(v_set1(SIGMOID_NEAR), v_abs(x))), &el);
  V dh = v_add(one, eh);
  V dl = v_add(v_add(v_sub(one, dh), eh), el);
  M pos = v_ge(x, v_set1((T)0));
  V nh = v_select(pos, one, eh), nl = v_select(pos, v_set1((T)0), el);
  V rd = v_recip(dh);
  V q = v_mul(nh, rd);
  V rho = v_add(v_fma(v_neg(q), dh, nh), v_sub(nl, v_mul(q, dl)));
  V r = v_fma(rho, rd, q);
  M far = v_lt(x, v_set1(-SIGMOID_NEAR));
  if (__builtin_expect(v_any(far), 0)) r = v_select(far, v_exp(x), r);
  return r;
}

#undef SIGMOID_EXP_PAIR
#undef SIGMOID_NEAR
