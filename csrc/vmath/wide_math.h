/*
 * float32's GELU (erf and tanh forms) and its gradients, evaluated in double: written over the float64
 * helper layer (vmath.c includes this with the float64 dtype active), applied to float32
 * vectors by v_wide (each half widened, the function, one rounding back to float).
 *
 * Why double: a float32 result within 1 ULP needs the value before its one rounding
 * to be within half an ULP, i.e. a relative 2^-25.  In float arithmetic every step
 * rounds at 2^-24 and GELU's formula cancels or amplifies (1 + erf for x < 0, and
 * exp(-x^2/2) with x^2 inexact, 2 x^2 times); in double the steps' roundings are 2^-53, a float's
 * square is exact, and the only errors left are the approximations below, each under
 * 2^-30 relative.  So every result is the correctly rounded value, or its neighbour
 * when the exact value lies within 2^-6 ULP of a midpoint: within 0.52 ULP.  make
 * test-exhaustive proves it over all 2^32 inputs on every ISA.
 *
 * Why not SLEEF's float functions: erfcf is u15 (up to 1.5 ULP before GELU's own
 * roundings) and, as Debian's SLEEF 3.5 is not inlinable, a call per vector: erfcf8_u15
 * takes 6.4 ns an element on Zen 3, this GELU 3.3.  The float64 maps keep SLEEF's
 * double functions (vmath_impl.h).  (exp, tanh and sigmoid: csrc/simd/f32_math.h, in float.)
 *
 * Inputs are clamped where the float32 result has reached its limit, so that the
 * exponent n of wide_exp stays within double's normal range; NaN passes through every
 * clamp (comparisons with NaN are false) and comes out NaN.
 */

/* Multiply-adds here are fused on the SIMD layers; on the scalar layer, whose fused
 * double fma is a libm call, two roundings (2^-53 each: nothing to a float result, and
 * the float32 scalar oracle stays fast enough for make test-exhaustive). */
#define WIDE_FUSED (W > 1)

/* e^y for y in [-700, 700]: y = n ln2 + r, |r| <= ln2/2 (Cody and Waite's two-part
 * ln2: n ln2_hi is exact for |n| < 2^21), e^r by its Taylor polynomial of degree 8
 * (remainder below r^9/9! = 2^-32 relative), times 2^n through the exponent bits. */
static inline V wide_exp(V y)
{
  static const double EXP_T[] = {1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24,
                                 1.0 / 6,     0.5,        1.0,       1.0};
  const V shifter = v_set1(F64_SHIFTER);
  V k = v_mac(WIDE_FUSED, y, v_set1(F64_INV_LN2), shifter); /* n + shifter */
  V n = v_sub(k, shifter);
  V r = v_mac(WIDE_FUSED, n, v_set1(-F64_LN2_HI), y);
  r = v_mac(WIDE_FUSED, n, v_set1(-F64_LN2_LO), r);
  return v_mul(v_poly9(r, EXP_T, WIDE_FUSED), v_pow2_shifted(k));
}

/* x clamped to [lo, hi]; a NaN x stays NaN (v_max(c, x) and v_min(c, x) pass it). */
static inline V wide_clamp(V x, double lo, double hi)
{
  return v_min(v_set1(hi), v_max(v_set1(lo), x));
}

/* sigmoid: 1/(1 + e) for x >= 0 and e/(1 + e) for x < 0, e = e^-|x| <= 1: no overflow,
 * no cancellation.  Beyond |x| = 110 the float result is 0 or 1. */
static inline V wide_sigmoid(V x)
{
  V e = wide_exp(v_neg(wide_clamp(v_abs(x), 0, 110)));
  return v_div(v_select(v_ge(x, v_set1(0.0)), v_set1(1.0), e), v_add(v_set1(1.0), e));
}

/* The Gaussian tail Q(a) = P(Z > a) = e^(-a^2/2) R(a) for a in [0, 16], with *g set to
 * e^(-a^2/2): R is a degree-12 polynomial in u = (1.5 a - 4)/(a + 4) (relative error
 * 2^-33; coefficients and their derivation: build-aux/fit_gaussian_tail.py). */
static inline V wide_gaussian_tail(V a, V *g)
{
  static const double R[] = {
      -9.829276288195677e-08,  7.190786838139384e-07,  1.1944881402473507e-06,
      -1.1354171513065659e-05, -1.066646700605324e-05, 0.00017784698482433797,
      -0.00014596737797724758, -0.0027826371822598844, 0.01616435678871129,
      -0.051117292913768306,   0.1123188478464639,     -0.1838484746707049,
      0.13409114007879763};
  V u = v_div(v_sub(v_mul(v_set1(1.5), a), v_set1(4.0)), v_add(a, v_set1(4.0)));
  V p = v_poly13(u, R, WIDE_FUSED);
  *g = wide_exp(v_mul(v_set1(-0.5), v_mul(a, a)));
  return v_mul(*g, p);
}

#define WIDE_GELU_FAR 16.0 /* beyond, x Phi(x) is -0 (float underflow) or x itself */

/* Phi(x) = P(Z <= x) and e^(-x^2/2), for GELU and its gradient: Phi is Q(|x|) for
 * x < 0 and 1 - Q(x) (Q <= 1/2: no cancellation) for x >= 0. */
static inline V wide_phi(V x, V *g)
{
  V q = wide_gaussian_tail(wide_clamp(v_abs(x), 0, WIDE_GELU_FAR), g);
  return v_select(v_lt(x, v_set1(0.0)), q, v_sub(v_set1(1.0), q));
}

/* GELU(x) = x Phi(x), the erf form of PyTorch's nn.GELU(); -0 below -16 (where x Phi
 * underflows float, and -inf * 0 would be NaN). */
static inline V wide_gelu(V x)
{
  V g, y = v_mul(x, wide_phi(x, &g));
  return v_select(v_lt(x, v_set1(-WIDE_GELU_FAR)), v_set1(-0.0), y);
}

/* GELU'(x) = Phi(x) + x phi(x), phi(x) = e^(-x^2/2)/sqrt(2 pi); 0 or 1 beyond |x| = 16. */
static inline V wide_gelu_grad(V x)
{
  V g, Phi = wide_phi(x, &g);
  V xphi = v_mul(x, v_mul(v_set1(0.39894228040143267794), g));
  return v_add(Phi, v_select(v_gt(v_abs(x), v_set1(WIDE_GELU_FAR)), v_set1(0.0), xphi));
}

/* The tanh form: x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3), and its derivative
 * s + x 2 s (1 - s) u'; -0 (and 0) below -40 where the form underflows. */
static inline V wide_gelu_tanh_arg(V x) /* 2u */
{
  V x3 = v_mul(x, v_mul(x, x));
  return v_mul(v_set1(1.59576912160573071176), v_add(x, v_mul(v_set1(0.044715), x3)));
}
static inline V wide_gelu_tanh(V x)
{
  V y = v_mul(x, wide_sigmoid(wide_gelu_tanh_arg(x)));
  return v_select(v_lt(x, v_set1(-40.0)), v_set1(-0.0), y);
}
static inline V wide_gelu_tanh_grad(V x)
{
  V s = wide_sigmoid(wide_gelu_tanh_arg(x));
  V du2 = v_mul(v_set1(1.59576912160573071176),
                v_add(v_set1(1.0), v_mul(v_set1(3 * 0.044715), v_mul(x, x))));
  V term = v_mul(v_mul(x, du2), v_mul(s, v_sub(v_set1(1.0), s)));
  term = v_select(v_gt(v_abs(x), v_set1(40.0)), v_set1(0.0), term);
  return v_add(s, term);
}
