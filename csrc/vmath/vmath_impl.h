/*
 * Elementwise kernels, written once over the helper layer (csrc/simd/): the including
 * file picks the ISA and dtype.  Every map runs whole vectors, then the tail (n mod W
 * elements) through a zero-padded stack buffer: the same vector code, and never a
 * load or store outside [0, n).  Outputs may alias inputs.  On AVX-512, and AVX2's
 * float32, each map and gradient also has a twin v<name>_nt that writes around the
 * caches (MAP_NT, below), bitwise the same, for outputs larger than the last cache
 * (threads/maps.c).
 *
 * exp, tanh and sigmoid are the helper layer's (nnk's own: csrc/simd/f32_math.h and
 * f64_math.h; float64 exp is SLEEF's on the scalar layer); float32's GELUs are evaluated
 * in double (wide_math.h), but for AVX-512's GELU and its gradient (every input) and
 * AVX2's (below: its GELU by sixteenths of |x| below 5, by Mills's ratio up to 7.5, its
 * gradient by halves of |x| below 7.75; their maps split a vector's lanes between the
 * near and the far paths: gelu_split).  The float32 maps are within 1 ULP, proved over
 * every input by make test-exhaustive.  GELU's stability choices, the same for both:
 *   gelu(x)      = x/2 * erfc(-x/sqrt2): erfc, not 1 + erf, so there is no cancellation for x < 0
 *   gelu_tanh(x) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3), since 1 + tanh(u) = 2 sigmoid(2u)
 *   GELU and its gradients beyond |x| > 40 (16 in float32) take their limits (0 or x;
 *   0 or 1), so that +-inf give the right answer instead of inf * 0.
 */
#include <stddef.h>
#include <stdint.h>
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

/* Two vectors per step (MAP1, MAP2): independent chains the core may overlap.  The
 * vector of elements [i, i + W) (MAP1_AT, MAP2_AT), then the tail through a buffer. */
#define MAP1_AT(OP, i) OP(v_load(x + (i)))
#define MAP2_AT(OP, i) OP(v_load(u + (i)), v_load(dy + (i)))
#define MAP_STEPS(OUT, AT, OP)                                                     \
  for (; i + 2 * W <= n; i += 2 * W) {                                             \
    V a0 = AT(OP, i), a1 = AT(OP, i + W);                                          \
    v_store(OUT + i, a0), v_store(OUT + i + W, a1);                                \
  }                                                                                \
  for (; i + W <= n; i += W) v_store(OUT + i, AT(OP, i));
#define MAP1_TAIL(OP)                                                              \
  if (i < n) {                                                                     \
    T bx[W] = {0};                                                                 \
    memcpy(bx, x + i, (n - i) * sizeof(T));                                        \
    v_store(bx, OP(v_load(bx)));                                                   \
    memcpy(y + i, bx, (n - i) * sizeof(T));                                        \
  }
#define MAP2_TAIL(OP)                                                              \
  if (i < n) {                                                                     \
    T bu[W] = {0}, bd[W] = {0};                                                    \
    memcpy(bu, u + i, (n - i) * sizeof(T));                                        \
    memcpy(bd, dy + i, (n - i) * sizeof(T));                                       \
    v_store(bd, OP(v_load(bu), v_load(bd)));                                       \
    memcpy(dx + i, bd, (n - i) * sizeof(T));                                       \
  }
#define MAP1(OP)                                                                   \
  size_t i = 0;                                                                    \
  MAP_STEPS(y, MAP1_AT, OP)                                                        \
  MAP1_TAIL(OP)
#define MAP2(OP)                                                                   \
  size_t i = 0;                                                                    \
  MAP_STEPS(dx, MAP2_AT, OP)                                                       \
  MAP2_TAIL(OP)

#if NNK_STREAM_STORES
/* The same maps with non-temporal stores (v<name>_nt), for outputs the caches cannot keep
 * (threads/maps.c chooses): the same vectors of elements [i, i + W) from the call's
 * start as MAP1 and MAP2, so the same bits, shifted onto the addresses aligned to a
 * vector.  off elements lie before OUT's first aligned address; the block there holds
 * the last W - off lanes of one vector and the first off of the next (v_join; with off
 * 0 the one vector, the same loop: storing each vector straight at an aligned OUT made
 * one thread's exp of 16M float32 1.5x slower, 4.2 -> 6.3 ms, on Zen 4).  The first off
 * elements and the last vector's rest go through a buffer, the tail as MAP1's.
 * In place is safe: a block's store reaches no element past the vectors already read. */
#define streamable VF(streamable)
#define stream_head VF(stream_head)
/* whether an output of n elements goes around the caches (its elements aligned to their
 * size, four vectors at least), and how many of them lie before its first address
 * aligned to a vector (MAP_NT and GELU's gelu_map_nt) */
static inline int streamable(const T *out, size_t n) { return (uintptr_t)out % sizeof(T) == 0 && n >= 4 * W; }
static inline size_t stream_head(const T *out) { return (W - (size_t)((uintptr_t)out / sizeof(T)) % W) % W; }
#define MAP_NT(OUT, AT, OP)                                                        \
  size_t i = 0;                                                                    \
  if (streamable(OUT, n)) {                                                        \
    const size_t off = stream_head(OUT);                                           \
    const VJ j = v_join_index(off);                                                \
    T b[W];                                                                        \
    V c = AT(OP, 0); /* the vector before i */                                     \
    v_store(b, c), memcpy(OUT, b, off * sizeof(T));                                \
    for (i = W; i + 2 * W <= n; i += 2 * W) {                                      \
      V a0 = AT(OP, i), a1 = AT(OP, i + W);                                        \
      v_stream(OUT + i - W + off, v_join(c, a0, j));                               \
      v_stream(OUT + i + off, v_join(a0, a1, j));                                  \
      c = a1;                                                                      \
    }                                                                              \
    for (; i + W <= n; i += W) {                                                   \
      V a0 = AT(OP, i);                                                            \
      v_stream(OUT + i - W + off, v_join(c, a0, j));                               \
      c = a0;                                                                      \
    }                                                                              \
    v_store(b, c), memcpy(OUT + i - W + off, b + off, (W - off) * sizeof(T));      \
    v_stream_fence();                                                              \
  }                                                                                \
  MAP_STEPS(OUT, AT, OP)
#define MAP1_NT(OP) MAP_NT(y, MAP1_AT, OP) MAP1_TAIL(OP)
#define MAP2_NT(OP) MAP_NT(dx, MAP2_AT, OP) MAP2_TAIL(OP)
#endif

#define GELU_FAR ((T)40) /* |x| beyond which GELU's Phi(x) is 0 or 1 in double */

static inline V op_relu(V x) { return v_select(v_lt(x, v_set1(0)), v_set1(0), x); }
static inline V op_relu_grad(V x, V dy) { return v_select(v_gt(x, v_set1(0)), dy, v_set1(0)); }
static inline V op_log(V x) { return v_log(x); }
static inline V op_exp(V x) { return v_exp(x); }
static inline V op_tanh(V x) { return v_tanh(x); }
NNK_FORCE_INLINE V op_sigmoid(V x) { return v_sigmoid(x); }
static inline V op_tanh_grad(V y, V dy) { return v_mul(dy, v_sub(v_set1(1), v_mul(y, y))); }
static inline V op_sigmoid_grad(V y, V dy) { return v_mul(dy, v_mul(y, v_sub(v_set1(1), y))); }

/* a (h + l) = returned + *lo for a value a and a pair h + l: the product's error by FMA,
 * a l added to it (GELU's a times Mills's ratio, both dtypes). */
#define times_pair VF(times_pair)
NNK_FORCE_INLINE V times_pair(V a, V h, V l, V *lo)
{
  const V p = v_mul(a, h);
  *lo = v_fma(a, l, v_fma(a, h, v_neg(p)));
  return p;
}

#if NNK_DT_F32
/* float32: the GELUs evaluated in double and rounded once (wide_math.h), but for AVX-512's
 * and AVX2's erf forms, in float32 from tables (below).  Forced inline:
 * left to itself GCC calls them once per vector, and the map's two vectors' chains then
 * run one after the other (measured on Zen 3: GELU's gradient 2.55 -> 2.15 ns). */
#define GELU_OP NNK_FORCE_INLINE V
/* every lane's |x| (v) below bound: the first path that holds it takes the vector */
#define GELU_BELOW(v, bound) __builtin_expect(!v_any(v_ge(v, v_set1((T)(bound)))), 1)
#if NNK_F32_LOOKUP32 || NNK_F32_LOOKUP8
/* The pieces of GELU from Mills's ratio, G(a) = a M(a) e^(-a^2/2) and D(a) = N(a)
 * e^(-a^2/2) with M and N from tables (gelu_mills.h, gelu_mills_halves.h): AVX2's
 * below |x| = 7.5 and AVX-512's beyond its other tables' reach, below. */
#define mills_gauss VF(mills_gauss)
#define pair_product VF(pair_product)
/* e^(-a^2/2) = 2^floor(*s) (e + *el) for a < 16: a^2 = sq + sq_l exactly (FMA); -a^2/2 =
 * (N n + j) ln2/N + r reduced as exp's (f32_math.h's f32_exp_table_r from -sq/2, then
 * -sq_l/2 added to r; *k its shifted m = N n + j, *s = m/N), e^r = 1 + q
 * (f32_exp_table_q): e = 2^(j/N)'s hi, *el = e q + its lo (up to 0.045 e for N = 8, 0.011
 * for 32: its rounding is 2^-28 of the result at most). */
GELU_OP mills_gauss(V a, V *el, V *k, V *s)
{
  const V sq = v_mul(a, a), sql = v_fma(a, a, v_neg(sq));
  const V q = f32_exp_table_q(v_fma(sql, v_set1(-0.5f), f32_exp_table_r(v_mul(sq, v_set1(-0.5f)), 1.0f, k, s)));
  const VI j = v_bits_index(*k);
  const V e = EXP2_LOOKUP(HI, j);
  *el = v_fma(e, q, EXP2_LOOKUP(LO, j));
  return e;
}
/* (e + el)(m + ml) = returned + *lo: the product's error by FMA, the small terms added
 * to it (el ml dropped: 2^-28 of the product at most). */
GELU_OP pair_product(V e, V el, V m, V ml, V *lo)
{
  const V hi = v_mul(e, m);
  *lo = v_fma(e, ml, v_fma(el, m, v_fma(e, m, v_neg(hi))));
  return hi;
}
#endif
#if NNK_F32_LOOKUP32 /* and NNK_F32_SCALEF: AVX-512 */
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
/* GELU and its gradient for the lanes beyond those tables' reach, |x| >= 5 (GELU) and 8
 * (its gradient), in vectors that have such a lane: G(a) = a M(a) e^(-a^2/2) and D(a) =
 * N(a) e^(-a^2/2) as on AVX2 (gelu_mills below), from tables by half-unit intervals of
 * a (gelu_mills_halves.h, build-aux/fit_f32_gelu_mills.py --halves: index 2a rounded down,
 * one FMA), with 2^n applied by vscalefps, which rounds once into the subnormals:
 *   x < 0:  -2^n (g + g_l), the sum rounded once (where the result is subnormal, the
 *           scaling rounds again: 0.75 ULP of it at most besides the tables' 2^-36);
 *   x >= 5: x - 2^n g rounded once, 2^n g within 2^-23 of G < 1.5e-6 (3 ULP of x at
 *           most), so within 2^-21 ULP.
 * a is clamped to 15.5, beyond which GELU is x or -0 and its gradient 1 or -0 in
 * float32 (D underflows near a = 13.6; +-inf give +inf and -0).  A NaN lane gives NaN
 * on both paths.  Each lane's result is the same whatever its neighbours: the lanes
 * below 5 (or 8) in such a vector take the tables above as in any other, so the
 * exhaustive test of consecutive inputs holds for every mix. */
#include "gelu_mills_halves.h"
#define mills_halves VF(mills_halves)
#define gelu_beyond VF(gelu_beyond)
#define gelu_grad_beyond VF(gelu_grad_beyond)
/* f(a) e^(-a^2/2) = 2^floor(*s) (returned + *lo) for a in [5, 15.5] and the tables NAME
 * (GELU_MH: f = M, GELU_NH: f = N): f = hi + tail as f32_math.h's F32_TABLE_TAIL made a
 * pair by Fast2Sum, times e^(-a^2/2)'s pair. */
#define MILLS_HALVES(NAME, a, lo, s)                                                       \
  mills_halves(a, lo, s, (const float *const[]){NAME##_B, NAME##_HI, NAME##_LO, NAME##_S1, NAME##_P0, \
                                                NAME##_P1, NAME##_P2, NAME##_P3, NAME##_P4})
GELU_OP mills_halves(V a, V *lo, V *s, const float *const t[9])
{
  const VI k = v_floor_index(a, 2.0f, 0.0f);
  const V y = v_sub(a, v_lookup32(t[0], k));
  V fl = f32_table_tail(k, y, f32_table_p1(k, y, t[5], t[6], t[7], t[8]), t[3], t[4], t[2]), el, kk;
  const V f = f32_normalise(v_lookup32(t[1], k), &fl), e = mills_gauss(a, &el, &kk, s);
  return pair_product(e, el, f, fl, lo);
}
GELU_OP gelu_beyond(V x, V a)
{
  const V am = v_min(v_set1(15.5f), a);
  V ql, s;
  V gl;
  const V qh = MILLS_HALVES(GELU_MH, am, &ql, &s), g = times_pair(am, qh, ql, &gl);
  return v_select(v_lt(x, v_set1(0.0f)), v_neg(v_scalef(v_add(g, gl), s)), v_sub(x, v_scalef(g, s)));
}
/* GELU'(x) = D(a) for x <= -8 (D = 2^n (d + d_l) rounded once, as above), 1 for x >= 8
 * (1 - D rounds to 1: D < 2^-46). */
GELU_OP gelu_grad_beyond(V x, V a)
{
  V dl, s;
  const V dh = MILLS_HALVES(GELU_NH, v_min(v_set1(15.5f), a), &dl, &s);
  return v_select(v_ge(x, v_set1(0.0f)), v_set1(1.0f), v_scalef(v_add(dh, dl), s));
}
#undef MILLS_HALVES
/* The near paths for |x| = a below their bounds (a NaN lane stays: every step passes it
 * on), a clamped to the last float below (..._CLAMP) in a vector with far lanes, for
 * their sake (a < 5: k < 32); the far paths for the others. */
#define GELU_NEAR_BOUND 5.0f
#define GELU_NEAR_CLAMP 0x1.3ffffep+2f
#define GELU_GRAD_NEAR_BOUND 8.0f
#define GELU_GRAD_NEAR_CLAMP 0x1.fffffep+2f
GELU_OP gelu_near(V x, V a) { return gelu_intervals(x, a); }
GELU_OP gelu_far(V x) { return gelu_beyond(x, v_abs(x)); }
GELU_OP gelu_grad_near(V x, V a) { return gelu_grad_quarters(x, a); }
GELU_OP gelu_grad_far(V x) { return gelu_grad_beyond(x, v_abs(x)); }
#elif NNK_F32_LOOKUP8 /* AVX2 */
/* GELU in float32 on AVX2's lanes in [5, 7.5) (gelu_sixteenths below takes the others
 * under 5), from G(a) = a Q(a) as above but with 8-entry tables: G = a M(a) e^(-a^2/2),
 * M(a) = Q(a) e^(a^2/2) (Mills's ratio over
 * sqrt(2 pi), smooth and slowly varying) tabulated by unit intervals of a (gelu_mills.h,
 * build-aux/fit_f32_gelu_mills.py; interval k = a rounded, one conversion), e^(-a^2/2)
 * from a table of 2^(j/8) (exp2_8ths.h).  Every factor is carried as a value and its
 * error, so that the result rounds once where it matters:
 *   M = m + m_l: the table's formula (its one rounding that matters: of a tail at most
 *       0.43 of M), made a pair by Fast2Sum;
 *   a^2 = s + s_l exactly (FMA); -a^2/2 = (8 n + j) ln2/8 + r reduced as exp's
 *       (f32_math.h's f32_exp_table_r from -s/2, then -s_l/2 added to r), e^r = 1 + q
 *       (f32_exp_table_q): e^(-a^2/2) = 2^n (e + e_l), e = 2^(j/8)'s hi, e_l = e q + its
 *       lo (up to 0.045 e: its rounding is 2^-28 of the result), 2^n folded into a
 *       (exact);
 *   Q 2^-n = e m + q_l, G = (a 2^n) Q 2^-n = g + g_l: each product's error by FMA;
 *   GELU = z - G, z = max(0, x) (x for x >= 0: G <= x/2, Fast2Sum exact), the last
 *   subtraction the one rounding of the result.
 * v_max(0, x) gives x when both are zeros, and z - g - (g_l - err) keeps -0's sign:
 * GELU(-0) = -0; a NaN lane stays NaN (its lookups are any).  make test-exhaustive:
 * within 0.891 ULP.  About 83 instructions a vector (13 lookups) against the double
 * path's 170: 1.9x as fast on the same core. */
#include "gelu_mills.h" /* (f32_math.h has read exp2_8ths.h: EXP2_LOOKUP) */
#define gelu_mills VF(gelu_mills)
#define mills_table VF(mills_table)
/* f(a) = hi + *lo from gelu_mills.h's tables NAME_* on interval k (a rounded): the formula
 * hi + (y s1 + (lo + y^2 P(y))), y = a - b (exact: a and b within a factor 2, or b = 0),
 * its sum made a pair by Fast2Sum. */
#define MILLS_TABLE(NAME, k, a, lo)                                                        \
  mills_table(k, a, lo, NAME##_B, NAME##_HI, NAME##_LO, NAME##_S1,                       \
              (const float *const[]){NAME##_P0, NAME##_P1, NAME##_P2, NAME##_P3, NAME##_P4, NAME##_P5, NAME##_P6})
GELU_OP mills_table(VI k, V a, V *lo, const float *b, const float *hi, const float *l, const float *s1,
                    const float *const p[7])
{
  const V y = v_sub(a, v_lookup8(b, k));
  V poly = v_lookup8(p[6], k);
#pragma GCC unroll 6
  for (int i = 5; i >= 0; i--) poly = v_fma(poly, y, v_lookup8(p[i], k));
  const V t = v_fma(y, v_lookup8(s1, k), v_fma(v_mul(y, y), poly, v_lookup8(l, k)));
  *lo = t;
  return f32_normalise(v_lookup8(hi, k), lo);
}
GELU_OP gelu_mills(V x, V a)
{
  const VI k = v_nearest_index(a);
  V ml, el, kk, eighths, ql; /* (m/8: unused, 2^n comes from k's bits) */
  const V m = MILLS_TABLE(GELU_M, k, a, &ml);
  const V e = mills_gauss(a, &el, &kk, &eighths), an = v_mul(a, v_pow2_shifted_eighths(kk));
  V gl;
  const V qh = pair_product(e, el, m, ml, &ql), g = times_pair(an, qh, ql, &gl);
  const V z = v_max(v_set1(0.0f), x), d = v_sub(z, g);
  return v_sub(d, v_sub(gl, v_sub(v_sub(z, d), g)));
}
#undef MILLS_TABLE
/* GELU on vectors whose every |x| < 5, from G(a) = a P(Z > a) as AVX-512's
 * gelu_intervals, but by 16 intervals (gelu_sixteenths.h, build-aux/fit_f32_gelu.py 16:
 * k = floor(3.1 a + 1/2), interval 0 [0, 0.16) and the others 0.32 wide; P of degree 5),
 * each table looked up as two 8-entry halves and a blend: 10 tables, about 67
 * instructions a vector in the map's loop against gelu_mills's 84 (1.29x as fast on
 * Zen 4, one thread; PyTorch's AVX2 GELU, a short erf formula not within an ULP, is
 * still 1.75x as fast).
 * G falls up to 4.8 times across an interval, so that y s1 may pass G: d - y s1 = s + e,
 * d = z - g_hi (exact, as there; interval 0 holds G with g_hi = 0 and s1 = 1/2, so that
 * s = x/2), is carried exactly (TwoSum; y s1's error by FMA, y^2 as a pair likewise), and
 * what rounds besides the result is
 *   r = y^2 P(y) + (g_lo + y s1's error),
 * at most 0.23 of G: its two roundings and P's last, then the result's, GELU = s - (r - e).
 * z = v_max(-0, x) is -0 for x < 0 and x for either zero, and s - (r - e) keeps -0's
 * sign: GELU(-0) = -0, and -0 where GELU(x < 0) underflows; a NaN lane stays NaN.
 * make test-exhaustive: within 0.890 ULP. */
#include "gelu_sixteenths.h"
/* The 16-entry tables' entry k, or (low: every lane's k below 8) the first half's by one
 * vpermps and no blend: the same entries, so the same bits.  A network's pre-activations
 * nearly all lie there (|x| < 2.41 for GELU, 3.74 for its gradient), and on Zen 3 the
 * permutes are the hottest instructions of the loop.  Zen 3, one thread, 1M float32,
 * side by side with one path for all: x ~ N(0, 1) GELU 1.61 -> 1.19 ns an element, its
 * gradient 1.56 -> 1.00; the GPT bench's training step 77.2 -> 75.0 ms; where few
 * vectors are wholly low the extra branch costs (uniform in (-5, 5): GELU the same, its
 * gradient 1.56 -> 1.65; N(0, 3^2) 2.60 -> 2.64 and 1.82 -> 1.92). */
#define LOOKUP16(table, k, low) ((low) ? v_lookup8(table, (k).i) : v_lookup16(table, k))
/* P(y) of degree 5 from the 16-entry tables NAME_P0..NAME_P5 at k, by Horner's rule */
#define poly16_5 VF(poly16_5)
#define POLY16_5(NAME, k, y, low) poly16_5(k, y, (const float *const[]){NAME##_P0, NAME##_P1, NAME##_P2, \
                                                                       NAME##_P3, NAME##_P4, NAME##_P5}, low)
GELU_OP poly16_5(VI16 k, V y, const float *const p[6], int low)
{
  V poly = LOOKUP16(p[5], k, low);
#pragma GCC unroll 5
  for (int i = 4; i >= 0; i--) poly = v_fma(poly, y, LOOKUP16(p[i], k, low));
  return poly;
}
#define gelu_sixteenths VF(gelu_sixteenths)
GELU_OP gelu_sixteenths(V x, V a, int low)
{
  const VI16 k = v_index16(v_trunc_index(v_fma(a, v_set1(3.1f), v_set1(0.5f))));
  const V y = v_sub(a, LOOKUP16(GELU_G16_B, k, low)), s1 = LOOKUP16(GELU_G16_S1, k, low);
  const V poly = POLY16_5(GELU_G16, k, y, low);
  const V p = v_mul(y, s1), yy = v_mul(y, y), c = v_add(LOOKUP16(GELU_G16_LO, k, low), v_fma(y, s1, v_neg(p)));
  const V r = v_fma(yy, poly, v_fma(v_fma(y, y, v_neg(yy)), poly, c));
  const V d = v_sub(v_max(v_set1(-0.0f), x), LOOKUP16(GELU_G16_HI, k, low)), s = v_sub(d, p), bb = v_sub(s, d);
  const V e = v_sub(v_sub(d, v_sub(s, bb)), v_add(p, bb));
  return v_sub(s, v_sub(r, e));
}
/* The near path below 5 (a NaN lane stays on it: every step passes it on; a clamped below
 * 5 in a vector with far lanes, as on AVX-512); the far path by Mills's ratio below 7.5
 * and in double from there, each where a lane of the vector lies, so that each lane's
 * bits are the same whatever its neighbours. */
#define GELU_NEAR_BOUND 5.0f
#define GELU_NEAR_CLAMP 0x1.3ffffep+2f
/* below it every lane's k = floor(3.1 a + 1/2) is under 8 (3.1 * 2.41 + 1/2 = 7.971) */
#define GELU_LOW_BOUND 2.41f
GELU_OP gelu_near(V x, V a)
{
  return GELU_BELOW(a, GELU_LOW_BOUND) ? gelu_sixteenths(x, a, 1) : gelu_sixteenths(x, a, 0);
}
GELU_OP gelu_far(V x)
{
  const V a = v_abs(x);
  const M mills = v_lt(a, v_set1(7.5f));
  const V m = v_any(mills) ? gelu_mills(x, v_min(v_set1(0x1.dffffep+2f), a)) : x;
  return GELU_BELOW(a, 7.5f) ? m : v_select(mills, m, v_wide(wide_gelu, x));
}
/* GELU's gradient on vectors whose every |x| < 7.75 as AVX-512's gelu_grad_quarters, but
 * by halves of |x| (gelu_grad_halves.h, build-aux/fit_f32_gelu_grad.py 16: k = floor(2a +
 * 1/2), interval 0 [0, 1/4) and the others centred on k/2; P of degree 5), each table
 * looked up as two 8-entry halves and a blend: D = h + t (|t| < 0.2, rounded once), the
 * result h + t or (1 - h) - t, within half an ULP and 2^-26 of GELU' as the other paths.
 * Lanes from 7.75 on, where D must keep its relative precision into the subnormals, in
 * double (v_wide), each lane's bits the same whatever its neighbours. */
#include "gelu_grad_halves.h"
#define gelu_grad_halves VF(gelu_grad_halves)
GELU_OP gelu_grad_halves(V x, V a, int low)
{
  const VI16 k = v_index16(v_trunc_index(v_fma(a, v_set1(2.0f), v_set1(0.5f))));
  const V y = v_sub(a, LOOKUP16(GELU_D16_B, k, low)), h = LOOKUP16(GELU_D16_HI, k, low);
  const V poly = POLY16_5(GELU_D16, k, y, low);
  const V t = v_fma(y, LOOKUP16(GELU_D16_S1, k, low), v_fma(v_mul(y, y), poly, LOOKUP16(GELU_D16_LO, k, low)));
  return v_select(v_ge(x, v_set1(0.0f)), v_sub(v_sub(v_set1(1.0f), h), t), v_add(h, t));
}
#define GELU_GRAD_NEAR_BOUND 7.75f
#define GELU_GRAD_NEAR_CLAMP 0x1.effffep+2f
/* below it every lane's k = floor(2a + 1/2) is under 8 (2 * 3.74 + 1/2 = 7.98) */
#define GELU_GRAD_LOW_BOUND 3.74f
GELU_OP gelu_grad_near(V x, V a)
{
  return GELU_BELOW(a, GELU_GRAD_LOW_BOUND) ? gelu_grad_halves(x, a, 1) : gelu_grad_halves(x, a, 0);
}
#undef LOOKUP16
GELU_OP gelu_grad_far(V x) { return v_wide(wide_gelu_grad, x); }
#endif
#if NNK_F32_LOOKUP32 || NNK_F32_LOOKUP8
/* A vector's GELU (its gradient's factor): the near path alone where every lane is near,
 * else the near path's lanes and the far path's for the others (the maps' tails; the
 * maps themselves split the work by lanes: gelu_split below). */
GELU_OP op_gelu(V x)
{
  const V a = v_abs(x);
  if (GELU_BELOW(a, GELU_NEAR_BOUND)) return gelu_near(x, a);
  const V near = gelu_near(x, v_min(v_set1(GELU_NEAR_CLAMP), a));
  return v_select(v_lt(a, v_set1(GELU_NEAR_BOUND)), near, gelu_far(x));
}
GELU_OP op_gelu_grad(V x, V dy)
{
  const V a = v_abs(x);
  if (GELU_BELOW(a, GELU_GRAD_NEAR_BOUND)) return v_mul(dy, gelu_grad_near(x, a));
  const V near = gelu_grad_near(x, v_min(v_set1(GELU_GRAD_NEAR_CLAMP), a));
  return v_mul(dy, v_select(v_lt(a, v_set1(GELU_GRAD_NEAR_BOUND)), near, gelu_grad_far(x)));
}
#else
GELU_OP op_gelu(V x) { return v_wide(wide_gelu, x); }
GELU_OP op_gelu_grad(V x, V dy) { return v_mul(dy, v_wide(wide_gelu_grad, x)); }
#endif
#undef GELU_BELOW
GELU_OP op_gelu_tanh(V x) { return v_wide(wide_gelu_tanh, x); }
GELU_OP op_gelu_tanh_grad(V x, V dy) { return v_mul(dy, v_wide(wide_gelu_tanh_grad, x)); }
#undef GELU_OP
#else
/* float64 GELU within 1 ULP on every layer, from G(a) = W(a) e^(-a^2/2), W = a M(a), as
 * float32's on AVX2 and AVX-512 (x/2 erfc(-x/sqrt2) through SLEEF's erfc lost x^2/2 ULP
 * to the rounding of x/sqrt2 and 1.5 to erfc: 1400 ULP near x = -36).  W by the regions of
 * gelu_f64.h (build-aux/fit_f64_gelu.py), each evaluated where a lane of the vector lies
 * in it (one to three for a network's values; on AVX-512, whose 16-entry tables give each
 * lane its own region's numbers, once), as a pair w + w_l:
 *   a < 5:  M(c + y) = m_hi + y s1_hi + (m_lo + y s1_lo + y^2 P(y)), y = a - c exact,
 *           m_hi + y s1_hi made a pair (FMA residual, Fast2Sum), so that only the tail, at
 *           most 0.08 of M, rounds at M's scale; W = a M by the product's FMA residual;
 *   a >= 5: W = f(u) / sqrt(2 pi), f = 1 + (u^2 R(u) - u) by Fast2Sum, u = 1/a^2 (its
 *           rounding moves f by u 2^-53).
 * e^(-a^2/2) = 2^n (e + e_l) from a^2 = s + s_l exactly (FMA): f64_exp_parts' pair of
 * e^(-s/2) (within 2^-60; e_l up to 0.02 of e: not normalised; on AVX-512 from the
 * 2^(j/16) table) times 1 - s_l/2, the whole pair (e_l s_l/2 alone reaches 10 ULP at
 * x = -35).  G 2^-n = g + g_l by the product's residual and every cross term (w_l e_l
 * is 2^-12 of G);
 * GELU = x - 2^n g - 2^n g_l with Fast2Sum's error kept for x >= 0 (x itself beyond 8.5,
 * also for +inf: G < 2^-55 x), -(g + g_l) 2^n for x < 0, the sum rounded once and the
 * scaling exact or (a subnormal result) rounding once more, in two steps so that both
 * powers of two are normal.  a is clamped to 38.6, beyond which G rounds to 0 (-inf gives
 * -0).  tests/test_accuracy.py measures it against mpmath: within 0.6 ULP. */
#include "gelu_f64.h"
#define gelu64_region VF(gelu64_region)
#define gelu64_far VF(gelu64_far)
#define GELU64_CLAMP 38.6
#define GELU64_INV_SQRT_2PI_HI 0x1.9884533d43651p-2
#define GELU64_INV_SQRT_2PI_LO -0x1.cbc0d30ebfd15p-56
/* A region's number from its row of 16: region i's for every lane, or (AVX-512) each
 * lane's own, kv the shifted index of its region (v_lookup16 reads the low four bits). */
#if NNK_F64_LOOKUP16
#define GELU64_NUM(row, i, kv) v_lookup16(row, kv)
#else
#define GELU64_NUM(row, i, kv) v_set1(row[i])
#endif
/* W = a M(a) = returned + *lo on region i (or each lane's, kv) */
NNK_FORCE_INLINE V gelu64_region(V a, int i, V kv, V *lo)
{
  (void)i, (void)kv;
  const V y = v_sub(a, GELU64_NUM(GELU64_C, i, kv)), s1 = GELU64_NUM(GELU64_S1_HI, i, kv);
  const V mh = GELU64_NUM(GELU64_M_HI, i, kv);
  V p = GELU64_NUM(GELU64_P[0], i, kv);
#pragma GCC unroll 16
  for (int j = 1; j < GELU64_TERMS; j++) p = v_fma(p, y, GELU64_NUM(GELU64_P[j], i, kv));
  const V t = v_mul(y, s1), m = v_add(mh, t);
  const V tail = v_fma(v_mul(y, y), p, v_fma(y, GELU64_NUM(GELU64_S1_LO, i, kv), GELU64_NUM(GELU64_M_LO, i, kv)));
  const V ml = v_add(v_add(v_sub(mh, m), t), v_add(v_fma(y, s1, v_neg(t)), tail));
  return times_pair(a, m, ml, lo);
}
/* W = f(u) / sqrt(2 pi) = returned + *lo for a >= 5, s = a^2 rounded */
NNK_FORCE_INLINE V gelu64_far(V s, V *lo)
{
  const V one = v_set1(1.0), kh = v_set1(GELU64_INV_SQRT_2PI_HI), u = v_div(one, s);
  V r = v_set1(GELU64_R[0]);
#pragma GCC unroll 16
  for (size_t j = 1; j < sizeof GELU64_R / sizeof GELU64_R[0]; j++) r = v_fma(r, u, v_set1(GELU64_R[j]));
  const V tail = v_fma(v_mul(u, u), r, v_neg(u));
  const V f = v_add(one, tail), fl = v_add(v_sub(one, f), tail);
  const V w = v_mul(f, kh);
  *lo = v_fma(f, v_set1(GELU64_INV_SQRT_2PI_LO), v_fma(fl, kh, v_fma(f, kh, v_neg(w))));
  return w;
}
NNK_FORCE_INLINE V op_gelu(V x)
{
  const V a = v_min(v_set1(GELU64_CLAMP), v_abs(x)), s = v_mul(a, a), sl = v_fma(a, a, v_neg(s));
  V w = v_set1(0.0), wl = v_set1(0.0);
#if NNK_F64_LOOKUP16
  /* every lane's region at once: its index counted from the regions' ends */
  V kv = v_set1(F64_SHIFTER);
  for (int i = 0; i + 1 < GELU64_REGIONS; i++)
    kv = v_add(kv, v_select(v_ge(a, v_set1(GELU64_END[i])), v_set1(1.0), v_set1(0.0)));
  w = gelu64_region(a, 0, kv, &wl);
  const M far = v_ge(a, v_set1(GELU64_U_FROM));
  if (v_any(far)) {
    V fl, f = gelu64_far(s, &fl);
    w = v_select(far, f, w), wl = v_select(far, fl, wl);
  }
#else
  /* each region where a lane lies in it, from the last, each lane left with the first
   * that holds it */
  if (v_any(v_ge(a, v_set1(GELU64_U_FROM)))) w = gelu64_far(s, &wl);
  for (int i = GELU64_REGIONS - 1; i >= 0; i--)
    if (v_any(v_lt(a, v_set1(GELU64_END[i]))) && (i == 0 || v_any(v_ge(a, v_set1(GELU64_END[i - 1]))))) {
      V l, h = gelu64_region(a, i, a, &l);
      const M in = v_lt(a, v_set1(GELU64_END[i]));
      w = v_select(in, h, w), wl = v_select(in, l, wl);
    }
#endif
  /* e^(-s/2) = 2^n (e + el) */
#if NNK_F64_LOOKUP16 /* from 2^(j/16) (f64_math.h's exp reduction and tables) */
  V k, n16;
  const V q = f64_exp16_reduce(v_mul(s, v_set1(-0.5)), &k, &n16), e = v_lookup16(EXP2_16_HI, k);
  V el = v_fma(e, q, v_lookup16(EXP2_16_LO, k));
#else
  V k, el;
  const V e = f64_exp_parts(v_mul(s, v_set1(-0.5)), &k, &el);
#endif
  el = v_fma(v_add(e, el), v_mul(sl, v_set1(-0.5)), el);
  const V g = v_mul(w, e), gl = v_add(v_fma(w, e, v_neg(g)), v_fma(w, el, v_fma(wl, e, v_mul(wl, el))));
#if NNK_F64_LOOKUP16 /* 2^n by vscalefpd, which rounds once into the subnormals */
  const V gh = v_scalef(g, n16), ghl = v_scalef(gl, n16);
  const V neg = v_neg(v_scalef(v_add(g, gl), n16));
#else /* x >= 0: a <= 8.5, 2^n normal; x < 0: 2^n as 2^n1 2^n2, n1 = max(n, -1000) */
  const V p2 = v_pow2_shifted(k), gh = v_mul(g, p2), ghl = v_mul(gl, p2);
  const V shifter = v_set1(F64_SHIFTER), k1 = v_max(k, v_set1(F64_SHIFTER - 1000.0));
  const V k2 = v_add(v_sub(k, k1), shifter);
  const V neg = v_neg(v_mul(v_mul(v_add(g, gl), v_pow2_shifted(k1)), v_pow2_shifted(k2)));
#endif
  const V d = v_sub(x, gh), pos = v_sub(d, v_sub(ghl, v_sub(v_sub(x, d), gh)));
  return v_select(v_lt(x, v_set1(0.0)), neg, v_select(v_gt(x, v_set1(8.5)), x, pos));
}
#undef GELU64_NUM
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

#if NNK_DT_F32 && NNK_F32_COMPRESS
/* GELU's maps split by lanes (float32 on AVX-512 and AVX2).  The near paths hold |x| below
 * a bound (GELU_NEAR_BOUND, GELU_GRAD_NEAR_BOUND); the far paths cost two to four times as
 * much a vector (Mills's ratio, or double).  A vector of a block whose every lane is near
 * takes the near path, one whose every lane is far the far path, and a mixed one the
 * near path, its far lanes' inputs packed (v_compress) onto the block's list; the far
 * path then takes the list W lanes at a time, and each mixed vector's results are
 * spread back over the near path's (v_expand): a far lane costs a lane's share of the far
 * path, not a vector's.  (With x ~ N(0, 3^2) a tenth of the lanes lie beyond 5, in four
 * fifths of AVX-512's vectors.)  Each lane's bits are its path's, whatever its
 * neighbours; the list holds copies of the inputs, so an output may be an input. */
#define SPLIT_BLOCK (64 * W)
#define far_list VF(far_list)
#define far_list_add VF(far_list_add)
#define far_list_run VF(far_list_run)
#define split_lanes VF(split_lanes)
#define gelu_split VF(gelu_split)
#define gelu_part VF(gelu_part)
#define gelu_map VF(gelu_map)
#define gelu_map_nt VF(gelu_map_nt)
typedef struct {
  T x[SPLIT_BLOCK + W], dy[SPLIT_BLOCK + W]; /* far lanes' inputs, packed (x: then results) */
  struct {
    uint32_t at, bits, from; /* a mixed vector's place in the block, far lanes, first in x */
  } mixed[SPLIT_BLOCK / W + 1];
  size_t n, vectors;
} far_list;
/* the far lanes (bits) of the vector at place j, a record of it where it has any */
NNK_FORCE_INLINE void far_list_add(far_list *l, unsigned bits, size_t j, V x, V dy, int grad)
{
  const VC key = v_compress_key(bits);
  v_store(l->x + l->n, v_compress(x, key));
  if (grad) v_store(l->dy + l->n, v_compress(dy, key));
  l->mixed[l->vectors].at = (uint32_t)j, l->mixed[l->vectors].bits = bits;
  l->mixed[l->vectors].from = (uint32_t)l->n;
  l->n += (size_t)__builtin_popcount(bits), l->vectors += bits != 0;
}
/* the far path on the listed lanes, each mixed vector's results spread over its place in
 * out; the list padded for a vector with its last lane, so that the last vector through
 * the far path and the last one spread read only lanes written */
NNK_FORCE_INLINE void far_list_run(far_list *l, T *out, int grad)
{
  const size_t n = l->n;
  if (n == 0) return;
  for (size_t k = n; k < n + W; k++) {
    l->x[k] = l->x[n - 1];
    if (grad) l->dy[k] = l->dy[n - 1];
  }
  for (size_t k = 0; k < n; k += W) {
    const V x = v_load(l->x + k);
    v_store(l->x + k, grad ? v_mul(v_load(l->dy + k), gelu_grad_far(x)) : gelu_far(x));
  }
  for (size_t v = 0; v < l->vectors; v++) {
    T *o = out + l->mixed[v].at;
    v_store(o, v_expand(v_load(o), l->mixed[v].bits, v_load(l->x + l->mixed[v].from)));
  }
  l->n = 0, l->vectors = 0;
}
/* A vector of a pair with far lanes (bits: those of this one): its GELU (its gradient's
 * factor), its far lanes listed unless all are.  Not inlined where the layer has 16
 * vector registers (AVX2): in the loop it would take some from the near path's two
 * chains (AVX2's near GELU 0.41 -> 0.53 ns an element, Zen 4, two threads); inlined on
 * AVX-512, whose 32 hold both (called, it reloads its tables each time: with N(0, 3^2)
 * inputs 0.29 -> 0.40-0.97 ns, two threads). */
#if VREGS < 32
#define SPLIT_LANES_FN __attribute__((noinline)) static V
#else
#define SPLIT_LANES_FN NNK_FORCE_INLINE V
#endif
SPLIT_LANES_FN split_lanes(far_list *l, V x, V a, V d, unsigned bits, size_t j, int grad)
{
  if (__builtin_expect(bits == (1u << W) - 1, 0)) return grad ? gelu_grad_far(x) : gelu_far(x);
  far_list_add(l, bits, j, x, d, grad);
  return grad ? gelu_grad_near(x, v_min(v_set1(GELU_GRAD_NEAR_CLAMP), a))
              : gelu_near(x, v_min(v_set1(GELU_NEAR_CLAMP), a));
}
/* y = GELU(x) (grad 0) or dy GELU'(x) (grad 1) on [0, n), n a multiple of W, a block at a
 * time; stream (AVX-512's _nt maps, y aligned to a vector): each block into a buffer in
 * the caches, then around them to y. */
NNK_FORCE_INLINE void gelu_split(size_t n, const T *x, const T *dy, T *y, int grad, int stream)
{
  const T bound = grad ? GELU_GRAD_NEAR_BOUND : GELU_NEAR_BOUND;
  T buf[SPLIT_BLOCK] __attribute__((aligned(64)));
  far_list l;
  l.n = 0, l.vectors = 0;
  for (size_t b = 0; b < n; b += SPLIT_BLOCK) {
    const size_t len = n - b < SPLIT_BLOCK ? n - b : SPLIT_BLOCK;
    T *out = stream ? buf : y + b;
    /* two vectors a step (MAP_STEPS): independent chains the core may overlap */
    for (size_t j = 0; j < len; j += 2 * W) {
      const size_t j1 = j + W < len ? j + W : j; /* len an odd number of vectors: j again */
      const V x0 = v_load(x + b + j), x1 = v_load(x + b + j1), a0 = v_abs(x0), a1 = v_abs(x1);
      const V d0 = grad ? v_load(dy + b + j) : x0, d1 = grad ? v_load(dy + b + j1) : x1;
      const unsigned bits0 = v_mask_bits(v_ge(a0, v_set1(bound))), bits1 = v_mask_bits(v_ge(a1, v_set1(bound)));
      V r0, r1;
      if (__builtin_expect((bits0 | bits1) == 0, 1)) {
        r0 = grad ? gelu_grad_near(x0, a0) : gelu_near(x0, a0);
        r1 = grad ? gelu_grad_near(x1, a1) : gelu_near(x1, a1);
      } else {
        /* each listed without asking whether it has far lanes (none: no record), a
         * question that mispredicts as often as a pair's vectors differ */
        r0 = split_lanes(&l, x0, a0, d0, bits0, j, grad);
        r1 = j1 == j ? r0 : split_lanes(&l, x1, a1, d1, bits1, j1, grad);
      }
      v_store(out + j1, grad ? v_mul(d1, r1) : r1);
      v_store(out + j, grad ? v_mul(d0, r0) : r0);
    }
    far_list_run(&l, out, grad);
#if NNK_STREAM_STORES
    if (stream)
      for (size_t j = 0; j < len; j += W) v_stream(y + b + j, v_load(buf + j));
#endif
  }
#if NNK_STREAM_STORES
  if (stream) v_stream_fence();
#else
  (void)buf;
#endif
}
/* count < W elements through a zero-padded vector (the maps' heads and tails) */
NNK_FORCE_INLINE void gelu_part(size_t count, const T *x, const T *dy, T *y, int grad)
{
  if (count == 0) return;
  T bx[W] = {0}, bd[W] = {0};
  memcpy(bx, x, count * sizeof(T));
  if (grad) memcpy(bd, dy, count * sizeof(T));
  v_store(bx, grad ? op_gelu_grad(v_load(bx), v_load(bd)) : op_gelu(v_load(bx)));
  memcpy(y, bx, count * sizeof(T));
}
NNK_FORCE_INLINE void gelu_map(size_t n, const T *x, const T *dy, T *y, int grad)
{
  const size_t m = n - n % W;
  gelu_split(m, x, dy, y, grad, 0);
  gelu_part(n - m, x + m, grad ? dy + m : dy, y + m, grad);
}
#if NNK_STREAM_STORES
/* off elements before y's first address aligned to a vector, then the split map streaming */
NNK_FORCE_INLINE void gelu_map_nt(size_t n, const T *x, const T *dy, T *y, int grad)
{
  if (!streamable(y, n)) {
    gelu_map(n, x, dy, y, grad);
    return;
  }
  const size_t off = stream_head(y), m = (n - off) - (n - off) % W;
  gelu_part(off, x, dy, y, grad);
  gelu_split(m, x + off, grad ? dy + off : dy, y + off, grad, 1);
  gelu_part(n - off - m, x + off + m, grad ? dy + off + m : dy, y + off + m, grad);
}
void KNAME(vgelu_nt)(size_t n, const T *x, T *y) { gelu_map_nt(n, x, NULL, y, 0); }
void KNAME(vgelu_grad_nt)(size_t n, const T *u, const T *dy, T *dx) { gelu_map_nt(n, u, dy, dx, 1); }
#endif
void KNAME(vgelu)(size_t n, const T *x, T *y) { gelu_map(n, x, NULL, y, 0); }
void KNAME(vgelu_grad)(size_t n, const T *u, const T *dy, T *dx) { gelu_map(n, u, dy, dx, 1); }
#endif

#if NNK_STREAM_STORES
#define DEFINE_MAP1(name)                                                          \
  void KNAME(v##name)(size_t n, const T *x, T *y) { MAP1(op_##name) }            \
  void KNAME(v##name##_nt)(size_t n, const T *x, T *y) { MAP1_NT(op_##name) }
#define DEFINE_MAP2(name)                                                          \
  void KNAME(v##name)(size_t n, const T *u, const T *dy, T *dx) { MAP2(op_##name) } \
  void KNAME(v##name##_nt)(size_t n, const T *u, const T *dy, T *dx) { MAP2_NT(op_##name) }
#else
#define DEFINE_MAP1(name)                                                          \
  void KNAME(v##name)(size_t n, const T *x, T *y) { MAP1(op_##name) }
#define DEFINE_MAP2(name)                                                          \
  void KNAME(v##name)(size_t n, const T *u, const T *dy, T *dx) { MAP2(op_##name) }
#endif

DEFINE_MAP1(relu)
DEFINE_MAP1(exp)
DEFINE_MAP1(log)
DEFINE_MAP1(tanh)
DEFINE_MAP1(sigmoid)
#if !(NNK_DT_F32 && NNK_F32_COMPRESS) /* else split by lanes, above */
DEFINE_MAP1(gelu)
#endif
DEFINE_MAP1(gelu_tanh)
DEFINE_MAP2(relu_grad)
DEFINE_MAP2(tanh_grad)
DEFINE_MAP2(sigmoid_grad)
#if !(NNK_DT_F32 && NNK_F32_COMPRESS)
DEFINE_MAP2(gelu_grad)
#endif
DEFINE_MAP2(gelu_tanh_grad)
#undef DEFINE_MAP1 /* (defined again for the next dtype, with or without its _nt twins) */
#undef DEFINE_MAP2

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
