/*
 * Row-wise softmax family through the log-sum-exp identity, written once over the
 * helper layer.  Per row: a max pass, an exp-and-sum pass of exp(x - max), then a
 * scale pass (softmax) or a shift pass (log-softmax).  Subtracting the max first means
 * no finite input overflows; x - max <= 0 so exp never exceeds 1.
 *
 * Special rows (the same on every ISA): a row with NaN gives NaN; -inf entries give 0
 * (log: -inf) beside finite ones; a row of all -inf gives NaN for softmax and
 * log-softmax (-inf - -inf, as PyTorch) and -inf for log-sum-exp (log 0); a row holding
 * +inf gives NaN for softmax and log-softmax and +inf for log-sum-exp (PyTorch, SciPy).
 *
 * Gradients, from the output y: softmax dx = y (dy - sum(dy y)), log-softmax
 * dx = dy - exp(y) sum(dy); two passes per row, dx may alias dy.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "nnk_kernels.h"

/* This file's helpers, one set per dtype (it is included once for each: simd/layer.h). */
#define row_max VF(row_max)
#define row_exp_sum VF(row_exp_sum)
#define row_scale VF(row_scale)
#define row_dot VF(row_dot)

static T row_max(size_t n, const T *x)
{
  size_t i = 0;
  T m = -INFINITY;
  if (n >= 4 * W) { /* four running maxima: a max waits on the one before it */
    V m0 = v_load(x), m1 = v_load(x + W), m2 = v_load(x + 2 * W), m3 = v_load(x + 3 * W);
    for (i = 4 * W; i + 4 * W <= n; i += 4 * W) {
      m0 = v_max(m0, v_load(x + i)), m1 = v_max(m1, v_load(x + i + W));
      m2 = v_max(m2, v_load(x + i + 2 * W)), m3 = v_max(m3, v_load(x + i + 3 * W));
    }
    for (; i + W <= n; i += W) m0 = v_max(m0, v_load(x + i));
    m = v_hmax(v_max(v_max(m0, m1), v_max(m2, m3)));
  } else if (n >= W) {
    V vm = v_load(x);
    for (i = W; i + W <= n; i += W) vm = v_max(vm, v_load(x + i));
    m = v_hmax(vm);
  }
  for (; i < n; i++) m = x[i] > m ? x[i] : m;
  /* A NaN may be dropped here (max ignores it on x86); it still reaches the sum
   * through exp(NaN - m), so the row comes out NaN without a separate scan. */
  return m;
}

/* sum_i exp(x_i - m); stores the exponentials to e when e != NULL (e may alias x).
 * ahead (or NULL): the next row, asked for a line at a time as this pass goes, so that
 * its max pass reads the caches.  The hardware's stream prefetchers follow only the max
 * pass (the later passes read this row from L1), so without it each row's max pass waited
 * on memory with nothing to do.  Measured on AMD Zen 3 (AVX2), softmax of 4096 x 4096
 * float32, side by side, best of rounds: one thread 14.5 -> 12.3 ms, two 9.7 -> 6.4;
 * 64 x 1000 (in the caches) the same.  (Asking for the next output row as well, for
 * writing, measured the same.) */
#define ROW_LINE (64 / sizeof(T))
static T row_exp_sum(size_t n, const T *x, T m, T *e, const T *ahead)
{
  V vm = v_set1(m), acc = v_set1(0), acc1 = v_set1(0);
  size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) { /* two exponentials in flight */
    if (ahead && (i & (ROW_LINE - 1)) < 2 * W) /* once a line: each step where 2W < a line */
      for (size_t c = 0; c < 2 * W; c += ROW_LINE) __builtin_prefetch(ahead + i + c, 0, 3);
    V v = v_exp(v_sub(v_load(x + i), vm)), v1 = v_exp(v_sub(v_load(x + i + W), vm));
    if (e) v_store(e + i, v), v_store(e + i + W, v1);
    acc = v_add(acc, v), acc1 = v_add(acc1, v1);
  }
  for (; i + W <= n; i += W) {
    V v = v_exp(v_sub(v_load(x + i), vm));
    if (e) v_store(e + i, v);
    acc = v_add(acc, v);
  }
  T s = v_hsum(v_add(acc, acc1));
  if (i < n) {
    T b[W];
    for (size_t j = 0; j < W; j++) b[j] = -INFINITY; /* pads contribute exp(-inf) = 0 */
    memcpy(b, x + i, (n - i) * sizeof(T));
    V v = v_exp(v_sub(v_load(b), vm));
    v_store(b, v);
    if (e) memcpy(e + i, b, (n - i) * sizeof(T));
    for (size_t j = 0; j < n - i; j++) s += b[j];
  }
  return s;
}

/* y = x * s or y = x + s over a row, by vectors then a buffered tail. */
static void row_scale(size_t n, T *y, T s, int add)
{
  V vs = v_set1(s);
  size_t i = 0;
  for (; i + W <= n; i += W) v_store(y + i, add ? v_add(v_load(y + i), vs) : v_mul(v_load(y + i), vs));
  if (i < n) {
    T b[W] = {0};
    memcpy(b, y + i, (n - i) * sizeof(T));
    v_store(b, add ? v_add(v_load(b), vs) : v_mul(v_load(b), vs));
    memcpy(y + i, b, (n - i) * sizeof(T));
  }
}

void KNAME(softmax_rows)(size_t rows, size_t n, const T *x, T *y)
{
  for (size_t r = 0; r < rows; r++, x += n, y += n) {
    T m = row_max(n, x);
    T s = row_exp_sum(n, x, m, y, r + 1 < rows ? x + n : NULL);
    row_scale(n, y, (T)1 / s, 0);
  }
}

void KNAME(log_softmax_rows)(size_t rows, size_t n, const T *x, T *y)
{
  for (size_t r = 0; r < rows; r++, x += n, y += n) {
    T m = row_max(n, x);
    T ls = s_log(row_exp_sum(n, x, m, NULL, r + 1 < rows ? x + n : NULL));
    /* (x - m) - log(s), one pass: m first, so equal huge inputs cancel exactly
     * (log_softmax([1e8, 1e8])) */
    V vm = v_set1(m), vls = v_set1(ls);
    size_t i = 0;
    for (; i + W <= n; i += W) v_store(y + i, v_sub(v_sub(v_load(x + i), vm), vls));
    if (i < n) {
      T b[W] = {0};
      memcpy(b, x + i, (n - i) * sizeof(T));
      v_store(b, v_sub(v_sub(v_load(b), vm), vls));
      memcpy(y + i, b, (n - i) * sizeof(T));
    }
  }
}

void KNAME(logsumexp_rows)(size_t rows, size_t n, const T *x, T *out)
{
  for (size_t r = 0; r < rows; r++, x += n) {
    T m = row_max(n, x);
    /* Empty or all -inf: log(0) = -inf.  Holding +inf: +inf (x - m would be inf - inf).
     * Either way a NaN in the row wins. */
    if (m == -INFINITY || m == INFINITY) {
      T v = m;
      for (size_t j = 0; j < n; j++)
        if (x[j] != x[j]) v = x[j];
      out[r] = v;
      continue;
    }
    out[r] = m + s_log(row_exp_sum(n, x, m, NULL, r + 1 < rows ? x + n : NULL));
  }
}

/* sum_i a_i b_i (b == NULL: sum_i a_i), by vectors then a zero-padded tail. */
static T row_dot(size_t n, const T *a, const T *b)
{
  V acc = v_set1(0);
  size_t i = 0;
  for (; i + W <= n; i += W) acc = v_add(acc, b ? v_mul(v_load(a + i), v_load(b + i)) : v_load(a + i));
  T s = v_hsum(acc);
  for (; i < n; i++) s += b ? a[i] * b[i] : a[i];
  return s;
}

void KNAME(softmax_grad_rows)(size_t rows, size_t n, const T *y, const T *dy, T *dx)
{
  for (size_t r = 0; r < rows; r++, y += n, dy += n, dx += n) {
    V s = v_set1(row_dot(n, dy, y));
    size_t i = 0;
    for (; i + W <= n; i += W) v_store(dx + i, v_mul(v_load(y + i), v_sub(v_load(dy + i), s)));
    if (i < n) {
      T by[W] = {0}, bd[W] = {0};
      memcpy(by, y + i, (n - i) * sizeof(T));
      memcpy(bd, dy + i, (n - i) * sizeof(T));
      v_store(bd, v_mul(v_load(by), v_sub(v_load(bd), s)));
      memcpy(dx + i, bd, (n - i) * sizeof(T));
    }
  }
}

void KNAME(log_softmax_grad_rows)(size_t rows, size_t n, const T *y, const T *dy, T *dx)
{
  for (size_t r = 0; r < rows; r++, y += n, dy += n, dx += n) {
    V s = v_set1(row_dot(n, dy, NULL));
    size_t i = 0;
    for (; i + W <= n; i += W) v_store(dx + i, v_sub(v_load(dy + i), v_mul(v_exp(v_load(y + i)), s)));
    if (i < n) {
      T by[W] = {0}, bd[W] = {0};
      memcpy(by, y + i, (n - i) * sizeof(T));
      memcpy(bd, dy + i, (n - i) * sizeof(T));
      v_store(bd, v_sub(v_load(bd), v_mul(v_exp(v_load(by)), s)));
      memcpy(dx + i, bd, (n - i) * sizeof(T));
    }
  }
}

/* Cross-entropy from logits and class labels with its gradient, fused: per row the max,
 * one exp pass (the exponentials stored into dx when it is wanted), then
 *   loss = (max - x[label]) + log(sum exp(x - max))   (max first: huge equal logits
 *                                                       cancel exactly)
 *   dx   = scale exp(x - max) / sum - scale onehot(label).
 * A row labelled `ignore` gives loss 0 and dx 0 (PyTorch's ignore_index).  Labels are
 * in [0, n) or `ignore`: the binding checks.  dx may alias x (the label's logit is read
 * first). */
void KNAME(cross_entropy)(size_t rows, size_t n, const T *x, const int64_t *labels,
                          int64_t ignore, T scale, T *loss, T *dx)
{
  for (size_t r = 0; r < rows; r++, x += n) {
    T *d = dx ? dx + r * n : NULL;
    if (labels[r] == ignore) {
      loss[r] = 0;
      if (d) memset(d, 0, n * sizeof(T));
      continue;
    }
    const size_t label = (size_t)labels[r];
    const T xl = x[label], m = row_max(n, x);
    const T s = row_exp_sum(n, x, m, d, r + 1 < rows ? x + n : NULL);
    loss[r] = (m - xl) + s_log(s);
    if (d) {
      row_scale(n, d, scale / s, 0);
      d[label] -= scale;
    }
  }
}
