/*
 * Causal scaled dot-product attention over heads, row by row, written once over the
 * helper layer.  For one (batch, head) and query row i, keys and values j <= i:
 *
 *   forward   s_j = scale q_i . k_j,  lse_i = log sum_j exp(s_j)   (through the row max)
 *             o_i = sum_j exp(s_j - lse_i) v_j
 *   backward  p_j = exp(s_j - lse_i)            (recomputed from the saved lse)
 *             ds_j = p_j (do_i . v_j - do_i . o_i)
 *             dq_i = scale sum_j ds_j k_j,  dk_j += scale ds_j q_i,  dv_j += p_j do_i
 *
 * Only one row of scores lives at a time (`scratch`, len values; 2 len backward): no
 * (T x T) matrix per head, let alone per batch, as FlashAttention keeps none.  Rows of
 * q, k, v (and dq, dk, dv) are `ld` apart, a head's D values at h D in its row: the
 * (B, T, 3C) output of the qkv projection is read in place.  Items lo..hi-1 are
 * (batch, head) pairs, item = b H + h, so a caller splits them across threads.
 * Vectors run over D; a tail of D goes through zero-padded buffers.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "nnk_kernels.h"

/* This file's helpers, one set per dtype (it is included once for each: simd/layer.h). */
#define part VF(part)
#define dot_d VF(dot_d)
#define axpy_d VF(axpy_d)
#define exp_row VF(exp_row)
#define log_one VF(log_one)

/* The first count (< W) values at p, zero-padded. */
static inline V part(const T *p, size_t count)
{
  T b[W] = {0};
  memcpy(b, p, count * sizeof(T));
  return v_load(b);
}

static T dot_d(size_t d, const T *a, const T *b)
{
  V acc = v_set1(0);
  size_t i = 0;
  for (; i + W <= d; i += W) acc = v_fma(v_load(a + i), v_load(b + i), acc);
  if (i < d) acc = v_fma(part(a + i, d - i), part(b + i, d - i), acc);
  return v_hsum(acc);
}

/* y += a x over d values */
static void axpy_d(size_t d, T a, const T *x, T *y)
{
  const V va = v_set1(a);
  size_t i = 0;
  for (; i + W <= d; i += W) v_store(y + i, v_fma(va, v_load(x + i), v_load(y + i)));
  for (; i < d; i++) y[i] += a * x[i];
}

/* s[j] = exp(s[j] - m) for j < n; returns their sum. */
static T exp_row(size_t n, T *s, T m)
{
  const V vm = v_set1(m);
  V acc = v_set1(0);
  size_t j = 0;
  for (; j + W <= n; j += W) {
    V e = v_exp(v_sub(v_load(s + j), vm));
    v_store(s + j, e);
    acc = v_add(acc, e);
  }
  T sum = v_hsum(acc);
  if (j < n) {
    T b[W];
    for (size_t i = 0; i < W; i++) b[i] = i < n - j ? s[j + i] : m;
    v_store(b, v_exp(v_sub(v_load(b), vm)));
    for (size_t i = 0; i < n - j; i++) s[j + i] = b[i], sum += b[i];
  }
  return sum;
}

/* log of one value through the ISA's SLEEF log. */
static T log_one(T x)
{
  T b[W];
  for (size_t i = 0; i < W; i++) b[i] = x;
  v_store(b, v_log(v_load(b)));
  return b[0];
}

void KNAME(attention)(size_t lo, size_t hi, size_t H, size_t len, size_t first, size_t D,
                      const T *q, const T *k, const T *v, size_t ld, size_t bs, T scale, T *o,
                      size_t ldo, size_t bso, T *lse, T *scratch)
{
  for (size_t item = lo; item < hi; item++) {
    const size_t b = item / H, h = item % H;
    const T *qb = q + b * bs + h * D, *kb = k + b * bs + h * D, *vb = v + b * bs + h * D;
    for (size_t i = first; i < len; i++) {
      const T *qi = qb + i * ld;
      T m = -INFINITY;
      for (size_t j = 0; j <= i; j++) {
        scratch[j] = scale * dot_d(D, qi, kb + j * ld);
        m = scratch[j] > m ? scratch[j] : m;
      }
      T sum = exp_row(i + 1, scratch, m), inv = (T)1 / sum;
      T *oi = o + b * bso + (i - first) * ldo + h * D;
      memset(oi, 0, D * sizeof(T));
      for (size_t j = 0; j <= i; j++) axpy_d(D, scratch[j] * inv, vb + j * ld, oi);
      if (lse) lse[item * (len - first) + i - first] = m + log_one(sum);
    }
  }
}

void KNAME(attention_grad)(size_t lo, size_t hi, size_t H, size_t len, size_t D, const T *q,
                           const T *k, const T *v, size_t ld, const T *o, const T *dout,
                           size_t ldo, const T *lse, T scale, T *dq, T *dk, T *dv, T *scratch)
{
  T *p = scratch, *ds = scratch + len;
  for (size_t item = lo; item < hi; item++) {
    const size_t b = item / H, h = item % H, base = b * len;
    for (size_t t = 0; t < len; t++) { /* this head's dk and dv accumulate from zero */
      memset(dk + (base + t) * ld + h * D, 0, D * sizeof(T));
      memset(dv + (base + t) * ld + h * D, 0, D * sizeof(T));
    }
    for (size_t i = 0; i < len; i++) {
      const T *qi = q + (base + i) * ld + h * D, *doi = dout + (base + i) * ldo + h * D;
      const T l = lse[item * len + i], di = dot_d(D, doi, o + (base + i) * ldo + h * D);
      for (size_t j = 0; j <= i; j++) p[j] = scale * dot_d(D, qi, k + (base + j) * ld + h * D);
      exp_row(i + 1, p, l); /* p_j = exp(s_j - lse_i) */
      T *dqi = dq + (base + i) * ld + h * D;
      memset(dqi, 0, D * sizeof(T));
      for (size_t j = 0; j <= i; j++) {
        const size_t rj = (base + j) * ld + h * D;
        ds[j] = p[j] * (dot_d(D, doi, v + rj) - di) * scale;
        axpy_d(D, p[j], doi, dv + rj);
        axpy_d(D, ds[j], k + rj, dqi);
        axpy_d(D, ds[j], qi, dk + rj);
      }
    }
  }
}
