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

/* Forward takes rows together: a row's two sums are chains of dependent adds (a row of
 * 128 float32 is eight AVX-512 vectors, sixteen AVX2 ones: that many adds, a horizontal
 * sum, then as many FMAs and another), and row by row each waited on the last; LN_ROWS
 * rows' chains go side by side instead, each row's operations in the order a row alone
 * takes them, so that its bits are the same in a group or alone (1024 x 128, Zen 4, one
 * thread, side by side: float32 29.5 -> 28.0 us, float64 68.7 -> 52.0; AVX2 58.2 -> 27.9
 * and 98.8 -> 51.4).  Backward's two passes were no faster so (its second pass's rows
 * share dgamma and dbeta, which it loads and stores once for four rows: 33.5 -> 34.7 us,
 * AVX2 41.5 -> 43.0, float64 alike) and go a row at a time. */
#define LN_ROWS 4

/* This file's helpers, one set per dtype (it is included once for each: simd/layer.h). */
#define rows_stats VF(rows_stats)

/* mu[r] and rs[r] (the mean and 1/sqrt(var + eps)) of rows r < R at x + r n. */
NNK_FORCE_INLINE void rows_stats(const int R, size_t n, const T *x, T eps, T *mu, T *rs)
{
  V acc[LN_ROWS];
  size_t i;
  _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) acc[r] = v_set1(0);
  for (i = 0; i + W <= n; i += W)
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) acc[r] = v_add(acc[r], v_load(x + r * n + i));
  _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
    T s = v_hsum(acc[r]);
    for (size_t j = i; j < n; j++) s += x[r * n + j];
    mu[r] = s / (T)n;
    acc[r] = v_set1(0);
  }
  /* sum (x - mean)^2 */
  for (i = 0; i + W <= n; i += W)
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
      V d = v_sub(v_load(x + r * n + i), v_set1(mu[r]));
      acc[r] = v_fma(d, d, acc[r]);
    }
  _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
    T s = v_hsum(acc[r]);
    for (size_t j = i; j < n; j++) s += (x[r * n + j] - mu[r]) * (x[r * n + j] - mu[r]);
    rs[r] = (T)1 / s_sqrt(s / (T)n + eps);
  }
}

void KNAME(layernorm)(size_t rows, size_t n, const T *x, const T *gamma, const T *beta, T eps,
                      T *y, T *mean, T *rstd)
{
  for (size_t r0 = 0; r0 < rows; r0 += LN_ROWS) {
    const size_t R = rows - r0 < LN_ROWS ? rows - r0 : LN_ROWS;
    T mu[LN_ROWS], rs[LN_ROWS];
    if (R == LN_ROWS) rows_stats(LN_ROWS, n, x + r0 * n, eps, mu, rs);
    else
      for (size_t r = 0; r < R; r++) rows_stats(1, n, x + (r0 + r) * n, eps, mu + r, rs + r);
    for (size_t r = 0; r < R; r++) {
      const T *xr = x + (r0 + r) * n;
      T *yr = y + (r0 + r) * n;
      if (mean) mean[r0 + r] = mu[r];
      if (rstd) rstd[r0 + r] = rs[r];
      V vmu = v_set1(mu[r]), vrs = v_set1(rs[r]);
      size_t i = 0;
      for (; i + W <= n; i += W) {
        V h = v_mul(v_sub(v_load(xr + i), vmu), vrs);
        if (gamma) h = v_mul(h, v_load(gamma + i));
        if (beta) h = v_add(h, v_load(beta + i));
        v_store(yr + i, h);
      }
      for (; i < n; i++) {
        T h = (xr[i] - mu[r]) * rs[r];
        if (gamma) h *= gamma[i];
        if (beta) h += beta[i];
        yr[i] = h;
      }
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
