/*
 * The float64 layer's v_sigmoid over its v_exp (SLEEF's u10): the stable form
 * (x >= 0 ? 1 : e)/(1 + e), e = e^-|x| (no overflow, exactly 0.5 at 0).  Written once
 * over the float64 helper layer of every ISA; dtype.h includes it after the layer.
 */
static inline V v_sigmoid(V x)
{
  V e = v_exp(v_neg(v_abs(x)));
  return v_div(v_select(v_ge(x, v_set1(0.0)), v_set1(1.0), e), v_add(v_set1(1.0), e));
}
