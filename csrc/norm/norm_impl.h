/*
 * LayerNorm over rows of n values, written once over the helper layer.
 *
 * Forward, per row: mean, then the biased variance as the mean of (x - mean)^2 (two
 * passes, not E[x^2] - mean^2, which cancels catastrophically when |mean| >> std), then
 *   y = (x - mean) rstd gamma + beta,  rstd = 1 / sqrt(var + eps).
 * mean and rstd are kept for the backward pass (when asked for).
 *
 * Backward, per row, with xhat = (x - mean) rstd and g = dy gamma:
 *   dx = rstd (g - mean(g) - xhat mean(g xhat))
 *   dgamma += dy xhat,  dbeta += dy   (summed over the rows, in row order)
 * one pass for the two means, one for dx and the parameter gradients.
 *
 * Tails (n not a multiple of the width) run element by element, so nothing is read or
 * written past a row.
 */
#include <math.h>
#include <stddef.h>

#include "nnk_kernels.h"

/* This file's helpers, one set per dtype (it is included once for each: simd/layer.h). */
#define row_sum VF(row_sum)
#define row_sq_dev VF(row_sq_dev)

static T row_sum(size_t n, const T *x)
{
  V acc = v_set1(0);
  size_t i = 0;
  for (; i + W <= n; i += W) acc = v_add(acc, v_load(x + i));
  T s = v_hsum(acc);
  for (; i < n; i++) s += x[i];
  return s;
}

/* sum (x - m)^2 */
static T row_sq_dev(size_t n, const T *x, T m)
{
  V acc = v_set1(0), vm = v_set1(m);
  size_t i = 0;
  for (; i + W <= n; i += W) {
    V d = v_sub(v_load(x + i), vm);
    acc = v_fma(d, d, acc);
  }
  T s = v_hsum(acc);
  for (; i < n; i++) s += (x[i] - m) * (x[i] - m);
  return s;
}

void KNAME(layernorm)(size_t rows, size_t n, const T *x, const T *gamma, const T *beta, T eps,
                      T *y, T *mean, T *rstd)
{
  for (size_t r = 0; r < rows; r++, x += n, y += n) {
    T mu = row_sum(n, x) / (T)n;
    T rs = (T)1 / s_sqrt(row_sq_dev(n, x, mu) / (T)n + eps);
    if (mean) mean[r] = mu;
    if (rstd) rstd[r] = rs;
    V vmu = v_set1(mu), vrs = v_set1(rs);
    size_t i = 0;
    for (; i + W <= n; i += W) {
      V h = v_mul(v_sub(v_load(x + i), vmu), vrs);
      if (gamma) h = v_mul(h, v_load(gamma + i));
      if (beta) h = v_add(h, v_load(beta + i));
      v_store(y + i, h);
    }
    for (; i < n; i++) {
      T h = (x[i] - mu) * rs;
      if (gamma) h *= gamma[i];
      if (beta) h += beta[i];
      y[i] = h;
    }
  }
}

void KNAME(layernorm_grad)(size_t rows, size_t n, const T *x, const T *gamma, const T *mean,
                           const T *rstd, const T *dy, T *dx, T *dgamma, T *dbeta)
{
  for (size_t r = 0; r < rows; r++, x += n, dy += n, dx += n) {
    const T mu = mean[r], rs = rstd[r];
    const V vmu = v_set1(mu), vrs = v_set1(rs);
    /* pass 1: sum g and sum g xhat */
    V sa = v_set1(0), sb = v_set1(0);
    size_t i = 0;
    for (; i + W <= n; i += W) {
      V xh = v_mul(v_sub(v_load(x + i), vmu), vrs), g = v_load(dy + i);
      if (gamma) g = v_mul(g, v_load(gamma + i));
      sa = v_add(sa, g), sb = v_fma(g, xh, sb);
    }
    T a = v_hsum(sa), b = v_hsum(sb);
    for (; i < n; i++) {
      T xh = (x[i] - mu) * rs, g = gamma ? dy[i] * gamma[i] : dy[i];
      a += g, b += g * xh;
    }
    a /= (T)n, b /= (T)n;
    /* pass 2: dx, and the parameters' gradients (dy read before dx may overwrite it) */
    const V va = v_set1(a), vb = v_set1(b);
    for (i = 0; i + W <= n; i += W) {
      V xh = v_mul(v_sub(v_load(x + i), vmu), vrs), d = v_load(dy + i), g = d;
      if (gamma) g = v_mul(g, v_load(gamma + i));
      if (dgamma) v_store(dgamma + i, v_fma(d, xh, v_load(dgamma + i)));
      if (dbeta) v_store(dbeta + i, v_add(v_load(dbeta + i), d));
      v_store(dx + i, v_mul(vrs, v_sub(v_sub(g, va), v_mul(xh, vb))));
    }
    for (; i < n; i++) {
      T xh = (x[i] - mu) * rs, d = dy[i], g = gamma ? d * gamma[i] : d;
      if (dgamma) dgamma[i] += d * xh;
      if (dbeta) dbeta[i] += d;
      dx[i] = rs * ((g - a) - xh * b);
    }
  }
}
