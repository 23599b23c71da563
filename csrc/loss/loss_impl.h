/*
 * Pointwise losses l(y, t) and their gradients dl/dy, written once over the helper
 * layer.  The loss kernel returns the sum of l over n elements (and stores each l when
 * `each` is not NULL, for reduction="none"); the gradient kernel writes scale * dl/dy,
 * so a mean reduction passes scale = 1/n.
 *
 *   mse         (y - t)^2                     2 (y - t)
 *   mae         |y - t|                       sign(y - t)   (0 at 0, NaN stays NaN)
 *   bce         -(t log p + (1-t) log(1-p))   (p - t) / max(p (1 - p), 1e-12)
 *               each log clamped at -100 as PyTorch does, so p = 0 or 1 stays finite
 *   bce_logits  max(x,0) - x t + log1p(exp(-|x|))     sigmoid(x) - t
 *               (no overflow for any logit: exp only ever sees -|x|)
 */
#include <stddef.h>
#include <string.h>

#include "nnk_kernels.h"

/* This file's helpers, one set per dtype (it is included once for each: simd/layer.h). */
#define l_mse VF(l_mse)
#define g_mse VF(g_mse)
#define l_mae VF(l_mae)
#define g_mae VF(g_mae)
#define clamped_log VF(clamped_log)
#define l_bce VF(l_bce)
#define g_bce VF(g_bce)
#define l_bce_logits VF(l_bce_logits)
#define g_bce_logits VF(g_bce_logits)

static inline V l_mse(V y, V t) { V d = v_sub(y, t); return v_mul(d, d); }
static inline V g_mse(V y, V t) { return v_mul(v_set1(2), v_sub(y, t)); }
static inline V l_mae(V y, V t) { return v_abs(v_sub(y, t)); }
static inline V g_mae(V y, V t)
{
  V d = v_sub(y, t);
  V zero_or_nan = v_mul(d, v_set1(0));
  return v_select(v_gt(d, v_set1(0)), v_set1(1), v_select(v_lt(d, v_set1(0)), v_set1(-1), zero_or_nan));
}
static inline V clamped_log(V x) { V l = v_log(x); return v_select(v_lt(l, v_set1(-100)), v_set1(-100), l); }
static inline V l_bce(V p, V t)
{
  V lp = clamped_log(p), lq = clamped_log(v_sub(v_set1(1), p));
  return v_neg(v_add(v_mul(t, lp), v_mul(v_sub(v_set1(1), t), lq)));
}
static inline V g_bce(V p, V t)
{
  V den = v_mul(p, v_sub(v_set1(1), p));
  den = v_select(v_lt(den, v_set1((T)1e-12)), v_set1((T)1e-12), den);
  return v_div(v_sub(p, t), den);
}
/* max(x,0) - x t is |x| w with w = 1 - t for x > 0 and t otherwise; a zero weight
 * gives 0 even for an infinite logit (inf * 0 would be NaN): bce_with_logits(inf, 0)
 * is inf and (inf, 1) is 0, the limits, where the textbook form gives NaN. */
static inline V l_bce_logits(V x, V t)
{
  V zero = v_set1(0), a = v_abs(x);
  V w = v_select(v_gt(x, zero), v_sub(v_set1(1), t), t);
  V aw = v_mul(a, w); /* w == 0 gives w * 0: zero, and NaN from a NaN target */
  V lin = v_select(v_lt(w, zero), aw, v_select(v_gt(w, zero), aw, v_mul(w, zero)));
  return v_add(lin, v_log1p(v_exp(v_neg(a))));
}
static inline V g_bce_logits(V x, V t)
{
  return v_sub(v_sigmoid(x), t);
}

#define DEFINE_LOSS(name)                                                          \
  T KNAME(loss_##name)(size_t n, const T *y, const T *t, T *each)                  \
  {                                                                                \
    V acc = v_set1(0);                                                             \
    size_t i = 0;                                                                  \
    for (; i + W <= n; i += W) {                                                   \
      V l = l_##name(v_load(y + i), v_load(t + i));                                \
      if (each) v_store(each + i, l);                                              \
      acc = v_add(acc, l);                                                         \
    }                                                                              \
    T s = v_hsum(acc);                                                             \
    if (i < n) {                                                                   \
      T by[W], bt[W];                                                              \
      for (size_t j = 0; j < W; j++) by[j] = (T)0.5, bt[j] = (T)0.5; /* in every domain */ \
      memcpy(by, y + i, (n - i) * sizeof(T));                                      \
      memcpy(bt, t + i, (n - i) * sizeof(T));                                      \
      v_store(by, l_##name(v_load(by), v_load(bt)));                               \
      if (each) memcpy(each + i, by, (n - i) * sizeof(T));                         \
      for (size_t j = 0; j < n - i; j++) s += by[j];                               \
    }                                                                              \
    return s;                                                                      \
  }                                                                                \
  void KNAME(loss_##name##_grad)(size_t n, const T *y, const T *t, T scale, T *dy) \
  {                                                                                \
    V vs = v_set1(scale);                                                          \
    size_t i = 0;                                                                  \
    for (; i + W <= n; i += W)                                                     \
      v_store(dy + i, v_mul(vs, g_##name(v_load(y + i), v_load(t + i))));          \
    if (i < n) {                                                                   \
      T by[W], bt[W];                                                              \
      for (size_t j = 0; j < W; j++) by[j] = (T)0.5, bt[j] = (T)0.5;               \
      memcpy(by, y + i, (n - i) * sizeof(T));                                      \
      memcpy(bt, t + i, (n - i) * sizeof(T));                                      \
      v_store(by, v_mul(vs, g_##name(v_load(by), v_load(bt))));                    \
      memcpy(dy + i, by, (n - i) * sizeof(T));                                     \
    }                                                                              \
  }

DEFINE_LOSS(mse)
DEFINE_LOSS(mae)
DEFINE_LOSS(bce)
DEFINE_LOSS(bce_logits)
