/*
 * Elementwise kernels, written once over the helper layer (csrc/simd/): the including
 * file picks the ISA and dtype.  Every map runs whole vectors, then the tail (n mod W
 * elements) through a zero-padded stack buffer: the same vector code, and never a
 * load or store outside [0, n).  Outputs may alias inputs.
 *
 * exp, tanh and sigmoid are the helper layer's (float32: nnk's own, csrc/simd/f32_math.h;
 * float64: SLEEF's, sigmoid as (x >= 0 ? 1 : e)/(1 + e), e = exp(-|x|)); float32's GELUs
 * are evaluated in double (wide_math.h), but for AVX-512's GELU below |x| = 5 and its
 * gradient below 8 (below).  The float32 maps are within 1 ULP, proved over every input
 * by make test-exhaustive.  GELU's stability choices, the same for both:
 *   gelu(x)      = x/2 * erfc(-x/sqrt2): erfc, not 1 + erf, so there is no cancellation for x < 0
 *   gelu_tanh(x) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3), since 1 + tanh(u) = 2 sigmoid(2u)
 *   GELU and its gradients beyond |x| > 40 (16 in float32) take their limits (0 or x;
 *   0 or 1), so that +-inf give the right answer instead of inf * 0.
 */
#include <stddef.h>
#include <string.h>

#include "nnk_kernels.h"

/* This file's helpers, one set per dtype (it is included once for each: simd/layer.h). */
#define op_relu VF(op_relu)
#define op_exp VF(op_exp)
#define op_log VF(op_log)
#define op_tanh VF(op_tanh)
#define op_sigmoid VF(op_sigmoid)
#define op_gelu VF(op_gelu)
#define gelu_tanh_arg VF(gelu_tanh_arg)
#define op_gelu_tanh VF(op_gelu_tanh)
#define op_relu_grad VF(op_relu_grad)
#define op_tanh_grad VF(op_tanh_grad)
#define op_sigmoid_grad VF(op_sigmoid_grad)
#define op_gelu_grad VF(op_gelu_grad)
#define op_gelu_tanh_grad VF(op_gelu_tanh_grad)

/* Two vectors per step (MAP1, MAP2): independent chains the core may overlap. */
#define MAP1(OP)                                                                   \
  size_t i = 0;                                                                    \
  for (; i + 2 * W <= n; i += 2 * W) {                                             \
    V a0 = OP(v_load(x + i)), a1 = OP(v_load(x + i + W));                          \
    v_store(y + i, a0), v_store(y + i + W, a1);                                    \
  }                                                                                \
  for (; i + W <= n; i += W) v_store(y + i, OP(v_load(x + i)));                   \
  if (i < n) {                                                                     \
    T bx[W] = {0};                                                                 \
    memcpy(bx, x + i, (n - i) * sizeof(T));                                        \
    v_store(bx, OP(v_load(bx)));                                                   \
    memcpy(y + i, bx, (n - i) * sizeof(T));                                        \
  }

#define MAP2(OP)                                                                   \
  size_t i = 0;                                                                    \
  for (; i + 2 * W <= n; i += 2 * W) {                                             \
    V a0 = OP(v_load(u + i), v_load(dy + i));                                      \
    V a1 = OP(v_load(u + i + W), v_load(dy + i + W));                              \
    v_store(dx + i, a0), v_store(dx + i + W, a1);                                  \
  }                                                                                \
  for (; i + W <= n; i += W) v_store(dx + i, OP(v_load(u + i), v_load(dy + i)));  \
  if (i < n) {                                                                     \
    T bu[W] = {0}, bd[W] = {0};                                                    \
    memcpy(bu, u + i, (n - i) * sizeof(T));                                        \
    memcpy(bd, dy + i, (n - i) * sizeof(T));                                       \
    v_store(bd, OP(v_load(bu), v_load(bd)));                                       \
    memcpy(dx + i, bd, (n - i) * sizeof(T));                                       \
  }

#define GELU_FAR ((T)40) /* |x| beyond which GELU's Phi(x) is 0 or 1 in double */

static inline V op_relu(V x) { return v_select(v_lt(x, v_set1(0)), v_set1(0), x); }
static inline V op_relu_grad(V x, V dy) { return v_select(v_gt(x, v_set1(0)), dy, v_set1(0)); }
static inline V op_log(V x) { return v_log(x); }
static inline V op_exp(V x) { return v_exp(x); }
static inline V op_tanh(V x) { return v_tanh(x); }
static inline __attribute__((always_inline)) V op_sigmoid(V x) { return v_sigmoid(x); }
static inline V op_tanh_grad(V y, V dy) { return v_mul(dy, v_sub(v_set1(1), v_mul(y, y))); }
static inline V op_sigmoid_grad(V y, V dy) { return v_mul(dy, v_mul(y, v_sub(v_set1(1), y))); }

#if NNK_DT_F32
/* float32: the GELUs evaluated in double and rounded once (wide_math.h; AVX-512's GELU
 * below |x| = 5 in float32 from tables, gelu_intervals below).  Forced inline:
 * left to itself GCC calls them once per vector, and the map's two vectors' chains then
 * run one after the other (measured on Zen 3: GELU's gradient 2.55 -> 2.15 ns). */
#define GELU_OP static inline __attribute__((always_inline)) V
#if NNK_F64_LOOKUP16 /* and NNK_F32_LOOKUP32: AVX-512 */
/* GELU in float32 on vectors whose every |x| < 5 (a network's pre-activations, nearly all),
 * from one function of a = |x| tabulated by 32 intervals of [0, 5) in 32-entry tables
 * (gelu_intervals.h, build-aux/fit_f32_gelu.py): G(a) = a P(Z > a), so that
 *   GELU(x) = -G(a) for x < 0 and x - G(a) for x >= 0   (G(a) <= a/2: no cancellation).
 * With k = floor(6.4 a) (intervals uniform in a: one FMA rounded down), y =
 * a - b_k (exact), G = h + t, t = y s1 + (lo + y^2 P(y)) rounded once (f32_math.h's
 * F32_TABLE_TAIL), the result is d - t, d exact:
 *   k >= 1: d = max(x, 0) - h: h is a multiple of the last place of the interval's largest
 *   |x| (the rest of G(b) in lo), and either h <= x/2 or x - h is Sterbenz's;
 *   k = 0 (a < 5/32, whose row holds G - a/2 = y^2 P(y), y = a): d = x/2, for either sign.
 * Besides the last operation's half ULP, the one rounding that matters is t's, of a value
 * at most 0.44 of the result (on interval 0 t's three roundings, of at most a seventh):
 * make test-exhaustive measures the sum.  Its bits may differ from the other paths', each
 * within 1 ULP. */
#include "gelu_intervals.h"
#define gelu_intervals VF(gelu_intervals)
GELU_OP gelu_intervals(V x, V a)
{
  const VI k = v_floor_index(a, 6.4f, 0.0f);
  const V y = v_sub(a, v_lookup32(GELU_G_B, k));
  const V t = F32_TABLE_TAIL(GELU_G, k, y, F32_TABLE_P1(GELU_G, k, y));
  const V z = v_select(v_lt(a, v_set1(5.0f / 32)), v_mul(x, v_set1(0.5f)), v_max(x, v_set1(0.0f)));
  return v_sub(v_sub(z, v_lookup32(GELU_G_HI, k)), t);
}
/* GELU's gradient in float32 on vectors whose every |x| < 8, from one function of a = |x|
 * by quarters of a (gelu_grad_quarters.h, build-aux/fit_f32_gelu_grad.py):
 * D(a) = P(Z > a) - a phi(a), GELU'(x) = D(a) for x < 0 and 1 - D(a) for x >= 0.  With
 * k = floor(4a), y = a - b_k (exact) and D = h + t (t = y s1 + (lo + y^2 P(y)) rounded
 * once, |t| < 0.2), the result is h + t or (1 - h) - t, 1 - h exact (h a multiple of
 * 2^-23): within half an ULP and 2^-26 of GELU', the bound the other paths keep. */
#include "gelu_grad_quarters.h"
#define gelu_grad_quarters VF(gelu_grad_quarters)
GELU_OP gelu_grad_quarters(V x, V a)
{
  const VI k = v_floor_index(a, 4.0f, 0.0f);
  const V y = v_sub(a, v_lookup32(GELU_D_B, k)), h = v_lookup32(GELU_D_HI, k);
  const V t = F32_TABLE_TAIL(GELU_D, k, y, F32_TABLE_P1(GELU_D, k, y));
  return v_select(v_ge(x, v_set1(0.0f)), v_sub(v_sub(v_set1(1.0f), h), t), v_add(h, t));
}
/* every lane's |x| (v) below bound: the first path that holds it takes the vector */
#define GELU_BELOW(v, bound) __builtin_expect(!v_any(v_ge(v, v_set1((T)(bound)))), 1)
GELU_OP op_gelu(V x)
{
  V a = v_abs(x); /* a < 5: k < 32 (a NaN lane stays: every step passes it on) */
  if (GELU_BELOW(a, 5.0f)) return gelu_intervals(x, a);
  if (GELU_BELOW(a, WIDE_GELU_MID)) return v_wide(wide_gelu_mid, x);
  return v_wide(wide_gelu, x);
}
GELU_OP op_gelu_grad(V x, V dy)
{
  V a = v_abs(x); /* a NaN lane stays on the first path: every step passes it on */
  if (GELU_BELOW(a, 8.0f)) return v_mul(dy, gelu_grad_quarters(x, a));
  return v_mul(dy, v_wide(wide_gelu_grad, x));
}
#undef GELU_BELOW
#else
GELU_OP op_gelu(V x) { return v_wide(wide_gelu, x); }
GELU_OP op_gelu_grad(V x, V dy) { return v_mul(dy, v_wide(wide_gelu_grad, x)); }
#endif
GELU_OP op_gelu_tanh(V x) { return v_wide(wide_gelu_tanh, x); }
GELU_OP op_gelu_tanh_grad(V x, V dy) { return v_mul(dy, v_wide(wide_gelu_tanh_grad, x)); }
#undef GELU_OP
#else
/* float64: SLEEF's double functions (u10; erfc u15) in the formulas above. */
static inline V op_gelu(V x)
{
  V phi = v_erfc(v_mul(v_neg(x), v_set1((T)0.70710678118654752440)));
  V y = v_mul(v_mul(v_set1((T)0.5), x), phi);
  return v_select(v_lt(x, v_set1(-GELU_FAR)), v_set1(0), y);
}
static inline V gelu_tanh_arg(V x) /* 2u */
{
  V x3 = v_mul(x, v_mul(x, x));
  return v_mul(v_set1((T)1.59576912160573071176), v_add(x, v_mul(v_set1((T)0.044715), x3)));
}
static inline V op_gelu_tanh(V x)
{
  V y = v_mul(x, v_sigmoid(gelu_tanh_arg(x)));
  return v_select(v_lt(x, v_set1(-GELU_FAR)), v_set1(0), y);
}
static inline V op_gelu_grad(V x, V dy)
{
  /* d/dx x Phi(x) = Phi(x) + x phi(x) */
  V Phi = v_mul(v_set1((T)0.5), v_erfc(v_mul(v_neg(x), v_set1((T)0.70710678118654752440))));
  V phi = v_mul(v_set1((T)0.39894228040143267794), v_exp(v_mul(v_set1((T)-0.5), v_mul(x, x))));
  V xphi = v_select(v_gt(v_abs(x), v_set1(GELU_FAR)), v_set1(0), v_mul(x, phi));
  return v_mul(dy, v_add(Phi, xphi));
}
static inline V op_gelu_tanh_grad(V x, V dy)
{
  /* y = x s, s = sigmoid(2u): y' = s + x * 2 s (1 - s) * u',  u' = sqrt(2/pi)(1 + 3c x^2) */
  V s = v_sigmoid(gelu_tanh_arg(x));
  V du2 = v_mul(v_set1((T)1.59576912160573071176),
                v_add(v_set1(1), v_mul(v_set1((T)(3 * 0.044715)), v_mul(x, x))));
  V term = v_mul(v_mul(x, du2), v_mul(s, v_sub(v_set1(1), s)));
  term = v_select(v_gt(v_abs(x), v_set1(GELU_FAR)), v_set1(0), term);
  return v_mul(dy, v_add(s, term));
}
#endif

#define DEFINE_MAP1(name)                                                          \
  void KNAME(v##name)(size_t n, const T *x, T *y) { MAP1(op_##name) }
#define DEFINE_MAP2(name)                                                          \
  void KNAME(v##name)(size_t n, const T *u, const T *dy, T *dx) { MAP2(op_##name) }

DEFINE_MAP1(relu)
DEFINE_MAP1(exp)
DEFINE_MAP1(log)
DEFINE_MAP1(tanh)
DEFINE_MAP1(sigmoid)
DEFINE_MAP1(gelu)
DEFINE_MAP1(gelu_tanh)
DEFINE_MAP2(relu_grad)
DEFINE_MAP2(tanh_grad)
DEFINE_MAP2(sigmoid_grad)
DEFINE_MAP2(gelu_grad)
DEFINE_MAP2(gelu_tanh_grad)

/* Leaky ReLU carries its slope through a vector the maps close over. */
void KNAME(vleaky_relu)(size_t n, const T *x, T *y, T slope)
{
  V vs = v_set1(slope);
#define OP_LEAKY(v) v_select(v_lt(v, v_set1(0)), v_mul(v, vs), v)
  MAP1(OP_LEAKY)
#undef OP_LEAKY
}

void KNAME(vleaky_relu_grad)(size_t n, const T *u, const T *dy, T *dx, T slope)
{
  V vs = v_set1(slope);
#define OP_LEAKY_GRAD(x, g) v_select(v_gt(x, v_set1(0)), g, v_mul(g, vs))
  MAP2(OP_LEAKY_GRAD)
#undef OP_LEAKY_GRAD
}
