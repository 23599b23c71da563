/*
 * Matrix-vector products written once over the helper layer (csrc/simd/), for GEMM's
 * shapes with m or n equal to 1.  Both stream the matrix once and keep what they sum in
 * vector registers:
 *   gemv_dots   one dot product per row and vector: with one vector, four rows at a time
 *               share each load of it (one accumulator each) and a single row keeps four
 *               accumulators, so a long dot product is not one chain of dependent adds;
 *               with two to four vectors (a skinny product), two rows at a time;
 *   gemv_axpys  y = sum_r x[r] a_r: a chunk of sums stays in L1 while the rows stream by,
 *               four rows added per pass (one load and store of the sums per four rows);
 *               several vectors take one pass each.
 * Both ask for the next rows a pass ahead (__builtin_prefetch, a hint that reads
 * nothing): the hardware prefetchers alone left x W at half of NumPy's speed.
 * Every element is read inside [0, n): whole vectors, then the tail through a
 * zero-padded buffer (dots) or scalar code (axpys).  The summation order depends only on
 * the shape, so equal calls give equal bits.
 */
#include <stddef.h>
#include <string.h>

#include "nnk_kernels.h"

/* This file's helpers, one set per dtype (it is included once for each: simd/layer.h). */
#define load_part VF(load_part)
#define dot_row VF(dot_row)
#define dot_4_rows VF(dot_4_rows)
#define dots_2_rows VF(dots_2_rows)
#define axpys_1 VF(axpys_1)
#define scaled VF(scaled)

/* Columns of y summed at once by gemv_axpys: 4-8 KiB of sums at home in L1 while the
 * rows stream past, each row's piece a page or two (so the walk down the rows is
 * friendly to the prefetchers and the TLB). */
#define AXPY_CHUNK 4096

/* The first count (< W) values at p, zero-padded to a whole vector. */
static inline V load_part(const T *p, size_t count)
{
  T b[W] = {0};
  memcpy(b, p, count * sizeof(T));
  return v_load(b);
}

/* alpha d + beta y, reading y only when beta != 0 (BLAS: beta = 0 ignores NaN in y). */
static inline T scaled(T alpha, T d, T beta, const T *y) { return beta == 0 ? alpha * d : alpha * d + beta * *y; }

static T dot_row(size_t n, const T *a, const T *x)
{
  V s0 = v_set1(0), s1 = s0, s2 = s0, s3 = s0;
  size_t p = 0;
  for (; p + 4 * W <= n; p += 4 * W) {
    s0 = v_add(s0, v_mul(v_load(a + p), v_load(x + p)));
    s1 = v_add(s1, v_mul(v_load(a + p + W), v_load(x + p + W)));
    s2 = v_add(s2, v_mul(v_load(a + p + 2 * W), v_load(x + p + 2 * W)));
    s3 = v_add(s3, v_mul(v_load(a + p + 3 * W), v_load(x + p + 3 * W)));
  }
  for (; p + W <= n; p += W) s0 = v_add(s0, v_mul(v_load(a + p), v_load(x + p)));
  if (p < n) s1 = v_add(s1, v_mul(load_part(a + p, n - p), load_part(x + p, n - p)));
  return v_hsum(v_add(v_add(s0, s1), v_add(s2, s3)));
}

/* Four rows; `next` (or NULL) the four after them, asked for a pass ahead. */
static void dot_4_rows(size_t n, const T *a, size_t lda, const T *x, T *d, const T *next)
{
  const T *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
  V s0 = v_set1(0), s1 = s0, s2 = s0, s3 = s0;
  size_t p = 0;
  for (; p + W <= n; p += W) {
    if (next && p % (64 / sizeof(T)) == 0) {
      __builtin_prefetch(next + p), __builtin_prefetch(next + lda + p);
      __builtin_prefetch(next + 2 * lda + p), __builtin_prefetch(next + 3 * lda + p);
    }
    V xv = v_load(x + p);
    s0 = v_add(s0, v_mul(v_load(a0 + p), xv));
    s1 = v_add(s1, v_mul(v_load(a1 + p), xv));
    s2 = v_add(s2, v_mul(v_load(a2 + p), xv));
    s3 = v_add(s3, v_mul(v_load(a3 + p), xv));
  }
  if (p < n) {
    size_t c = n - p;
    V xv = load_part(x + p, c);
    s0 = v_add(s0, v_mul(load_part(a0 + p, c), xv));
    s1 = v_add(s1, v_mul(load_part(a1 + p, c), xv));
    s2 = v_add(s2, v_mul(load_part(a2 + p, c), xv));
    s3 = v_add(s3, v_mul(load_part(a3 + p, c), xv));
  }
  d[0] = v_hsum(s0), d[1] = v_hsum(s1), d[2] = v_hsum(s2), d[3] = v_hsum(s3);
}

/* Rows r0, r0 + 1 against NX vectors: 2 x NX accumulators (8 at most), each load of a
 * row shared by the NX vectors, each load of a vector by the two rows. */
static inline __attribute__((always_inline)) void dots_2_rows(size_t n, const T *a, size_t lda,
                                                              const T *x, size_t ldx,
                                                              const int NX, T *d)
{
  /* Inlined with a constant NX and the loops over it unrolled: the accumulators are
   * registers (left as an array in memory, each step loaded and stored all eight). */
  V s[2][4];
  _Pragma("GCC unroll 4") for (int v = 0; v < NX; v++) s[0][v] = s[1][v] = v_set1(0);
  size_t p = 0;
  for (; p + W <= n; p += W) {
    V a0 = v_load(a + p), a1 = v_load(a + lda + p);
    _Pragma("GCC unroll 4") for (int v = 0; v < NX; v++) {
      V xv = v_load(x + v * ldx + p);
      s[0][v] = v_add(s[0][v], v_mul(a0, xv));
      s[1][v] = v_add(s[1][v], v_mul(a1, xv));
    }
  }
  if (p < n) {
    V a0 = load_part(a + p, n - p), a1 = load_part(a + lda + p, n - p);
    _Pragma("GCC unroll 4") for (int v = 0; v < NX; v++) {
      V xv = load_part(x + v * ldx + p, n - p);
      s[0][v] = v_add(s[0][v], v_mul(a0, xv));
      s[1][v] = v_add(s[1][v], v_mul(a1, xv));
    }
  }
  _Pragma("GCC unroll 4") for (int v = 0; v < NX; v++) d[v] = v_hsum(s[0][v]), d[4 + v] = v_hsum(s[1][v]);
}

void KNAME(gemv_dots)(size_t rows, size_t n, size_t nx, T alpha, const T *a, size_t lda,
                      const T *x, size_t ldx, T beta, T *y, size_t ldy)
{
  size_t r = 0;
  if (nx == 1) { /* one vector: four rows share each load of it */
    for (; r + 4 <= rows; r += 4) {
      T d[4];
      dot_4_rows(n, a + r * lda, lda, x, d, r + 8 <= rows ? a + (r + 4) * lda : NULL);
      for (size_t i = 0; i < 4; i++) y[(r + i) * ldy] = scaled(alpha, d[i], beta, y + (r + i) * ldy);
    }
    for (; r < rows; r++) y[r * ldy] = scaled(alpha, dot_row(n, a + r * lda, x), beta, y + r * ldy);
    return;
  }
  for (; r < rows; r += 2) {
    T d[8];
    const T *ar = a + r * lda;
    size_t step = r + 1 < rows ? lda : 0; /* a last odd row pairs with itself, stored once */
    switch (nx) { /* constant NX per case: the accumulators stay in registers */
    case 2: dots_2_rows(n, ar, step, x, ldx, 2, d); break;
    case 3: dots_2_rows(n, ar, step, x, ldx, 3, d); break;
    default: dots_2_rows(n, ar, step, x, ldx, 4, d); break;
    }
    for (size_t i = 0; i < 2 && r + i < rows; i++)
      for (size_t v = 0; v < nx; v++) {
        T *yv = y + (r + i) * ldy + v;
        *yv = scaled(alpha, d[4 * i + v], beta, yv);
      }
  }
}

/* One vector x: y = alpha sum_r x[r] a_r + beta y. */
static void axpys_1(size_t rows, size_t n, T alpha, const T *a, size_t lda, const T *x, T beta,
                    T *y)
{
  T acc[AXPY_CHUNK];
  for (size_t j0 = 0; j0 < n; j0 += AXPY_CHUNK) {
    size_t w = n - j0 < AXPY_CHUNK ? n - j0 : AXPY_CHUNK, wv = w - w % W;
    memset(acc, 0, w * sizeof(T));
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) { /* four rows per pass over the chunk of acc */
      const T *a0 = a + r * lda + j0, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
      V x0 = v_set1(x[r]), x1 = v_set1(x[r + 1]), x2 = v_set1(x[r + 2]), x3 = v_set1(x[r + 3]);
      const T *next = a3 + lda; /* the next four rows, asked for a pass ahead */
      for (size_t j = 0; j < wv; j += W) {
        if (j % (64 / sizeof(T)) == 0 && r + 8 <= rows) {
          __builtin_prefetch(next + j), __builtin_prefetch(next + lda + j);
          __builtin_prefetch(next + 2 * lda + j), __builtin_prefetch(next + 3 * lda + j);
        }
        V s01 = v_add(v_mul(x0, v_load(a0 + j)), v_mul(x1, v_load(a1 + j)));
        V s23 = v_add(v_mul(x2, v_load(a2 + j)), v_mul(x3, v_load(a3 + j)));
        v_store(acc + j, v_add(v_load(acc + j), v_add(s01, s23)));
      }
      for (size_t j = wv; j < w; j++)
        acc[j] += (x[r] * a0[j] + x[r + 1] * a1[j]) + (x[r + 2] * a2[j] + x[r + 3] * a3[j]);
    }
    for (; r < rows; r++) {
      const T *ar = a + r * lda + j0;
      V xr = v_set1(x[r]);
      for (size_t j = 0; j < wv; j += W) v_store(acc + j, v_add(v_load(acc + j), v_mul(xr, v_load(ar + j))));
      for (size_t j = wv; j < w; j++) acc[j] += x[r] * ar[j];
    }
    for (size_t j = 0; j < w; j++) y[j0 + j] = scaled(alpha, acc[j], beta, y + j0 + j);
  }
}

void KNAME(gemv_axpys)(size_t rows, size_t n, size_t nx, T alpha, const T *a, size_t lda,
                       const T *x, size_t ldx, T beta, T *y, size_t ldy)
{
  for (size_t v = 0; v < nx; v++) axpys_1(rows, n, alpha, a, lda, x + v * ldx, beta, y + v * ldy);
}
