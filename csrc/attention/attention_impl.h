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
 * Only one row of scores lives at a time: no (T x T) matrix per head, let alone per
 * batch, as FlashAttention keeps none.  A head's keys (and, backward, values) are first
 * copied transposed into `scratch` (D rows of the positions, padded with zeros to whole
 * vectors), so that a row of scores is W keys per vector FMA, q's values broadcast,
 * instead of one dot product (and one horizontal sum) per key.  Rows of
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
#define dot_d VF(dot_d)
#define rows_axpy VF(rows_axpy)
#define exp_row VF(exp_row)
#define transposed VF(transposed)
#define scores VF(scores)
#define scores_block VF(scores_block)
#define weighted_sum VF(weighted_sum)

static T dot_d(size_t d, const T *a, const T *b)
{
  V acc = v_set1(0);
  size_t i = 0;
  for (; i + W <= d; i += W) acc = v_fma(v_load(a + i), v_load(b + i), acc);
  if (i < d) acc = v_fma(v_load_part(a + i, d - i), v_load_part(b + i, d - i), acc);
  return v_hsum(acc);
}

/* y += sum_r w[r ws] (row r) over D values, rows r < n at rows + r ldr: y is loaded and
 * stored once for all n rows (in registers between, four vectors at a time), and each
 * value still sums its rows in order r = 0, 1, ..., as n single axpys would. */
static inline __attribute__((always_inline)) void rows_axpy(size_t n, size_t D, const T *w,
                                                            size_t ws, const T *rows,
                                                            size_t ldr, T *y)
{
  size_t d = 0;
  for (; d + 4 * W <= D; d += 4 * W) {
    V a[4];
    _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) a[u] = v_load(y + d + u * W);
    for (size_t r = 0; r < n; r++) {
      const V wr = v_set1(w[r * ws]);
      const T *row = rows + r * ldr + d;
      _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) a[u] = v_fma(wr, v_load(row + u * W), a[u]);
    }
    _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) v_store(y + d + u * W, a[u]);
  }
  for (; d + W <= D; d += W) {
    V a = v_load(y + d);
    for (size_t r = 0; r < n; r++) a = v_fma(v_set1(w[r * ws]), v_load(rows + r * ldr + d), a);
    v_store(y + d, a);
  }
  for (; d < D; d++) {
    T acc = y[d];
    for (size_t r = 0; r < n; r++) acc += w[r * ws] * rows[r * ldr + d];
    y[d] = acc;
  }
}

/* s[j] = exp(s[j] - m) for j < n; returns their sum: the whole vectors' in lanes, then
 * the last one's values below n one by one.  That last vector is taken whole (scores
 * leaves -inf past n, whose exp is 0). */
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
    v_store(s + j, v_exp(v_sub(v_load(s + j), vm)));
    for (; j < n; j++) sum += s[j];
  }
  return sum;
}

/* dst[d * stride + j] = src[j * ld + d] for j < n, d < D; zeros for n <= j < stride. */
static void transposed(size_t n, size_t D, const T *src, size_t ld, T *dst, size_t stride)
{
  for (size_t d = 0; d < D; d++) { /* each destination row written along: contiguous stores */
    T *row = dst + d * stride;
    for (size_t j = 0; j < n; j++) row[j] = src[j * ld + d];
    for (size_t j = n; j < stride; j++) row[j] = 0;
  }
}

/* NV vectors of scores (NV a constant: the accumulators stay in registers) from the
 * keys transposed at kt + j, each in two chains (even and odd d) so that up to eight FMAs
 * are in flight, not one chain of D dependent ones.  Stores whole vectors, the lanes of
 * the last from n on -inf, and returns the largest score. */
static inline __attribute__((always_inline)) T scores_block(size_t j, size_t n, size_t D,
                                                            const T *q, const T *kt,
                                                            size_t stride, V vs, T *s,
                                                            const int NV)
{
  V a[4], b[4];
  _Pragma("GCC unroll 4") for (int u = 0; u < NV; u++) a[u] = b[u] = v_set1(0);
  size_t d = 0;
  for (; d + 2 <= D; d += 2) {
    const V q0 = v_set1(q[d]), q1 = v_set1(q[d + 1]);
    const T *r0 = kt + d * stride + j, *r1 = r0 + stride;
    _Pragma("GCC unroll 4") for (int u = 0; u < NV; u++) {
      a[u] = v_fma(q0, v_load(r0 + u * W), a[u]);
      b[u] = v_fma(q1, v_load(r1 + u * W), b[u]);
    }
  }
  if (d < D)
    _Pragma("GCC unroll 4") for (int u = 0; u < NV; u++)
      a[u] = v_fma(v_set1(q[d]), v_load(kt + d * stride + j + u * W), a[u]);
  static const T lane[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  V top = v_set1(-INFINITY);
  _Pragma("GCC unroll 4") for (int u = 0; u < NV; u++) {
    V r = v_mul(vs, v_add(a[u], b[u]));
    const size_t at = j + u * W;
    if (at + W > n) /* the last, partial vector: -inf from lane n on (exp gives 0 there) */
      r = v_select(v_lt(v_load(lane), v_set1((T)(n - at))), r, v_set1(-INFINITY));
    v_store(s + at, r);
    top = v_max(top, r);
  }
  return v_hmax(top);
}

/* s[j] = scale (q . key j) for j < n, the keys transposed at kt (row d at kt + d stride,
 * stride a multiple of W, zero-padded), four vectors of keys at a time, then the 1-4
 * left (the last one partial); returns the largest score. */
static inline T scores(size_t n, size_t D, const T *q, const T *kt, size_t stride, T scale, T *s)
{
  const V vs = v_set1(scale);
  T m = -INFINITY, t;
  size_t j = 0;
  for (; j + 4 * W <= n; j += 4 * W) {
    t = scores_block(j, n, D, q, kt, stride, vs, s, 4);
    m = t > m ? t : m;
  }
  switch ((n - j + W - 1) / W) { /* vectors left, the last maybe partial */
  case 0: return m;
  case 1: t = scores_block(j, n, D, q, kt, stride, vs, s, 1); break;
  case 2: t = scores_block(j, n, D, q, kt, stride, vs, s, 2); break;
  case 3: t = scores_block(j, n, D, q, kt, stride, vs, s, 3); break;
  default: t = scores_block(j, n, D, q, kt, stride, vs, s, 4); break;
  }
  return t > m ? t : m;
}

/* out = sum_j w[j] (row j), rows of D values at base + j ld, for j < n: four vectors of
 * out kept in registers across all the rows, each in two chains (even and odd j: eight
 * FMAs in flight), then one vector at a time, then the tail through buffers. */
static inline __attribute__((always_inline)) void weighted_sum(size_t n, size_t D, const T *w,
                                                               const T *base, size_t ld, T *out)
{
  size_t d = 0;
  for (; d + 4 * W <= D; d += 4 * W) {
    V a[4], b[4];
    _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) a[u] = b[u] = v_set1(0);
    size_t j = 0;
    for (; j + 2 <= n; j += 2) {
      const V w0 = v_set1(w[j]), w1 = v_set1(w[j + 1]);
      const T *r0 = base + j * ld + d, *r1 = r0 + ld;
      _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) {
        a[u] = v_fma(w0, v_load(r0 + u * W), a[u]);
        b[u] = v_fma(w1, v_load(r1 + u * W), b[u]);
      }
    }
    if (j < n)
      _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++)
        a[u] = v_fma(v_set1(w[j]), v_load(base + j * ld + d + u * W), a[u]);
    _Pragma("GCC unroll 4") for (int u = 0; u < 4; u++) v_store(out + d + u * W, v_add(a[u], b[u]));
  }
  for (; d < D; d += W) {
    const size_t c = D - d < W ? D - d : W;
    V a = v_set1(0), b = v_set1(0);
    size_t j = 0;
    for (; j + 2 <= n; j += 2) {
      const T *r0 = base + j * ld + d, *r1 = r0 + ld;
      a = v_fma(v_set1(w[j]), c == W ? v_load(r0) : v_load_part(r0, c), a);
      b = v_fma(v_set1(w[j + 1]), c == W ? v_load(r1) : v_load_part(r1, c), b);
    }
    if (j < n) a = v_fma(v_set1(w[j]), c == W ? v_load(base + j * ld + d) : v_load_part(base + j * ld + d, c), a);
    T buf[W];
    v_store(buf, v_add(a, b));
    memcpy(out + d, buf, c * sizeof(T));
  }
}

void KNAME(attention)(size_t lo, size_t hi, size_t H, size_t len, size_t first, size_t D,
                      const T *q, const T *k, const T *v, size_t ld, size_t bs, T scale, T *o,
                      size_t ldo, size_t bso, T *lse, T *scratch)
{
  const size_t stride = (len + W - 1) / W * W;
  T *kt = scratch + stride; /* scores first, then the head's keys transposed */
  for (size_t item = lo; item < hi; item++) {
    const size_t b = item / H, h = item % H;
    const T *qb = q + b * bs + h * D, *kb = k + b * bs + h * D, *vb = v + b * bs + h * D;
    transposed(len, D, kb, ld, kt, stride);
    for (size_t i = first; i < len; i++) {
      const T *qi = qb + i * ld;
      const T m = scores(i + 1, D, qi, kt, stride, scale, scratch);
      T sum = exp_row(i + 1, scratch, m), inv = (T)1 / sum;
      for (size_t j = 0; j <= i; j++) scratch[j] *= inv;
      weighted_sum(i + 1, D, scratch, vb, ld, o + b * bso + (i - first) * ldo + h * D);
      if (lse) lse[item * (len - first) + i - first] = m + s_log(sum);
    }
  }
}

void KNAME(attention_grad)(size_t lo, size_t hi, size_t H, size_t len, size_t D, const T *q,
                           const T *k, const T *v, size_t ld, const T *o, const T *dout,
                           size_t ldo, const T *lse, T scale, T *dq, T *dk, T *dv, T *scratch)
{
  const size_t stride = (len + W - 1) / W * W;
  /* the p and ds rows of a block of NNK_ATTENTION_GRAD_ROWS query rows, then the keys
   * and the values transposed */
  T *pb = scratch, *dsb = pb + NNK_ATTENTION_GRAD_ROWS * stride;
  T *kt = dsb + NNK_ATTENTION_GRAD_ROWS * stride, *vt = kt + D * stride;
  for (size_t item = lo; item < hi; item++) {
    const size_t b = item / H, h = item % H, base = b * len;
    transposed(len, D, k + base * ld + h * D, ld, kt, stride);
    transposed(len, D, v + base * ld + h * D, ld, vt, stride);
    for (size_t t = 0; t < len; t++) { /* this head's dk and dv accumulate from zero */
      memset(dk + (base + t) * ld + h * D, 0, D * sizeof(T));
      memset(dv + (base + t) * ld + h * D, 0, D * sizeof(T));
    }
    for (size_t i0 = 0; i0 < len; i0 += NNK_ATTENTION_GRAD_ROWS) {
      const size_t i1 = len - i0 < NNK_ATTENTION_GRAD_ROWS ? len : i0 + NNK_ATTENTION_GRAD_ROWS;
      for (size_t i = i0; i < i1; i++) {
        T *p = pb + (i - i0) * stride, *ds = dsb + (i - i0) * stride;
        const T *qi = q + (base + i) * ld + h * D, *doi = dout + (base + i) * ldo + h * D;
        const T l = lse[item * len + i], di = dot_d(D, doi, o + (base + i) * ldo + h * D);
        scores(i + 1, D, qi, kt, stride, scale, p);
        exp_row(i + 1, p, l); /* p_j = exp(s_j - lse_i) */
        scores(i + 1, D, doi, vt, stride, 1, ds); /* do_i . v_j */
        for (size_t j = 0; j <= i; j++) ds[j] = p[j] * (ds[j] - di) * scale;
        weighted_sum(i + 1, D, ds, k + base * ld + h * D, ld, dq + (base + i) * ld + h * D);
      }
      /* dv_j += p_ij do_i and dk_j += ds_ij q_i over the block's rows i >= j: each dk and
       * dv row loaded and stored once a block, not once a query row */
      for (size_t j = 0; j < i1; j++) {
        const size_t from = j > i0 ? j : i0, rj = (base + j) * ld + h * D;
        rows_axpy(i1 - from, D, pb + (from - i0) * stride + j, stride,
                  dout + (base + from) * ldo + h * D, ldo, dv + rj);
        rows_axpy(i1 - from, D, dsb + (from - i0) * stride + j, stride,
                  q + (base + from) * ld + h * D, ld, dk + rj);
      }
    }
  }
}
