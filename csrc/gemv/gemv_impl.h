/*
 * Matrix-vector products written once over the helper layer (csrc/simd/), for GEMM's
 * shapes with m or n equal to 1.  Both stream the matrix once and keep what they sum in
 * vector registers:
 *   gemv_dots   one dot product per row and vector: with one vector, four rows at a time
 *               share each load of it (two accumulators each; eight rows, one each,
 *               where rows are longer than a page) and a single row keeps eight, so
 *               that no dot product is one chain of dependent FMAs; with two
 *               to four vectors (a skinny product), two rows at a time;
 *   gemv_axpys  y = sum_r x[r] a_r: a chunk of sums stays in L1 while the rows stream by,
 *               eight rows added per pass (one load and store of the sums per pass), four
 *               where rows are 3/4 of a page to a page apart (axpys_eight); several
 *               vectors take one pass each.
 * Both ask for the next rows a pass ahead (__builtin_prefetch, a hint that reads
 * nothing) only where the matrix comes from memory, beyond a share of the last cache
 * (ask_ahead, judged by `whole`, the rows of the matrix a call takes part of: a
 * thread's share or a block of it looks smaller than what streams), and only where that
 * pass fits in L2 beside the one being read (ahead_fits: on Zen 3's 512 KiB L2 a
 * float64 2000-wide pass did not, and asking cost 15-25 %): from memory the hardware
 * prefetchers alone left x W at half of NumPy's speed, while from L2 or L3 the lines
 * asked for only took L1's and L2's load slots and miss buffers (a 128 x 1024 float32
 * W x in L2: 0.72x NumPy's speed with them, 1.0x without; a 1000^2 one in L3: 0.91x
 * with, 1.00x without).  Rows longer than a page, which the hardware's stream
 * prefetchers follow on their own, from half the last cache on (Zen 4, side by side in
 * one process: W x float32 2000^2 1.04-1.07x as fast, float64 1000^2 1.16-1.18x, 500 x
 * 2000 1.13x; from memory the same).  The rows are asked into L2, not L1 (locality 1):
 * each is read once, so in L1 they would only push out x and the sums and hold L1's
 * few miss buffers that the loads themselves need (Zen 4, one thread, side by side
 * with NumPy: float64 W x and x W 2000^2 and 8000 x 512 0.9-1.1x -> 1.4-1.9x, float32
 * 2000^2 0.8-0.96x -> 1.0-1.2x).
 * Every element is read inside [0, n): whole vectors, then a row's tail as one more
 * vector by the layer's masked load (v_load_part: AVX-512's and AVX2's own, a
 * zero-padded buffer elsewhere).  Through a buffer (a memcpy call, and a wide load of
 * narrower stores) W x with rows of 500 float32 ran at 0.7x NumPy's speed (1000 x 500:
 * 18.1 us against 12.6), masked at 1.0-1.1x (Zen 4, AVX-512 and AVX2).  The lanes of a
 * tail round as the scalar code did, so the bits are those of before.  The summation
 * order depends only on the shape, so equal calls give equal bits.  Products and sums
 * are fused (v_fma) where the ISA has FMA.
 */
#include <stddef.h>
#include <string.h>

#include "nnk.h"
#include "nnk_kernels.h"

/* This file's helpers, one set per dtype (it is included once for each: simd/layer.h). */
#define dot_row VF(dot_row)
#define dot_4_rows VF(dot_4_rows)
#define dot_8_rows VF(dot_8_rows)
#define dots_2_rows VF(dots_2_rows)
#define axpys_1 VF(axpys_1)
#define scaled VF(scaled)
#define beyond_last VF(beyond_last)
#define past_a_page VF(past_a_page)
#define axpys_eight VF(axpys_eight)
#define ask_ahead VF(ask_ahead)
#define ahead_fits VF(ahead_fits)
#define axpys_8_rows VF(axpys_8_rows)

/* Columns of y summed at once by gemv_axpys: 4-8 KiB of sums at home in L1 while the
 * rows stream past, each row's piece a page or two (so the walk down the rows is
 * friendly to the prefetchers and the TLB). */
#define AXPY_CHUNK 4096

/* Whether rows x cols elements at row stride ld outgrow a share of the last cache (L3,
 * or L2 where there is none): a matrix well inside it stays there from call to call,
 * and beyond it its rows come from memory, in part or all. */
static inline int beyond_last(size_t rows, size_t ld, double share)
{
  return (double)rows * (double)ld * sizeof(T) > share * (double)nnk_cache_last();
}

/* Whether rows at stride ld are longer than a page: read eight at a time (dot_8_rows,
 * axpys_8_rows).  By the stride, not a call's width: a team's members split the
 * columns, and each must sum as one thread does. */
static inline int past_a_page(size_t ld) { return ld * sizeof(T) > 4096; }

/* Whether x W adds eight rows a pass (axpys_8_rows) rather than four: all but rows 3/4
 * of a page to a page apart (by the stride, as past_a_page).  There, eight rows' runs,
 * each nearly a page, were the slower (float64 500 wide: 4000 x 500 and 500^2 3-4 %,
 * 8000 x 512 of a page: 1.7x NumPy -> 1.4x); elsewhere the sums' one load and store per
 * eight rows instead of four is the faster (Zen 4, one thread, side by side, against
 * NumPy, float32 unless named: 8000 x 512 0.96-1.00x -> 1.05-1.13x, 4000 x 500 0.85-0.88x
 * -> 0.94-0.97x, 500^2 0.89-0.93x -> 0.99-1.03x, 700^2 0.94x -> 0.99-1.02x, 128 x 256
 * 1.03-1.06x -> 1.17-1.18x, float64 256 x 100 0.98x -> 1.08x; AVX2 alike, 1.0-1.1x). */
static inline int axpys_eight(size_t ld)
{
  return ld * sizeof(T) > 4096 || ld * sizeof(T) <= 3072;
}

/* Whether the lines asked for a pass ahead can wait in L2 until their pass: that pass's
 * rows and the one being read (pass_rows rows of `width` values each) within a quarter
 * of L2, the rest left to the hardware prefetchers' own lines running ahead in every
 * row, to the vector and the sums.  Larger passes push the asked-for lines out before
 * they are read, and the asking only costs.  Zen 3 (L2 512 KiB), one thread, in turns
 * with NumPy in one process: W x float64 2000^2 (two passes 256 KiB) 0.93-1.01x NumPy
 * asking against 0.99-1.17x not, 4000^2 0.81-0.96x against 1.06-1.12x, float32 4000^2
 * 0.88-0.95x against 1.02-1.14x; x W float64 2000^2 0.97-0.99x against 1.15-1.17x; but
 * W x float64 16000 x 600 (76 KiB) 1.13-1.15x asking against 1.01-1.07x not, float32
 * 16000 x 1100 (70 KiB) 1.01-1.03x against 0.96x; float32 8000 x 2000 (128 KiB, the
 * quarter itself, still asked for) 0.96x against 1.04-1.07x.  A pass ahead in the same
 * rows at 1 or 4 KiB, or asked into L1 or past the caches (locality 3, 0), measured no
 * better on Zen 3.  With a 1 MiB L2 (Zen 4, Cascade Lake) every shape measured above
 * still asks. */
static inline int ahead_fits(size_t pass_rows, size_t width)
{
  size_t l2 = nnk_cache_size(2, NULL, NULL, NULL);
  return !l2 || 2 * pass_rows * width * sizeof(T) <= l2 / 4;
}

/* Whether to ask for the rows a pass ahead: only where they come from memory.  From L3
 * the hardware's prefetchers keep up alone and the asking only takes load slots and
 * miss buffers; rows longer than a page (runs the stream prefetchers follow) beyond
 * half the last cache, shorter rows (many short runs) from 3/8 of it on.  Zen 4, one
 * thread, side by side with NumPy, float32 unless named: without asking, W x 1000^2
 * (4 MB) 0.91x -> 1.00x, 4000 x 500 0.93x -> 0.97x, float64 500^2 0.89x -> 1.01x;
 * x W 1000^2 0.86x -> 0.95x, 3000 x 1000 (12 MB) 0.87x -> 0.93x, float64 500^2 0.91x ->
 * 1.00x; but x W 8000 x 512 (16 MB, half of L3) 1.01x with against 0.87x without, and
 * from memory (64 MB) 1.6-1.75x with against 0.95-1.0x without.  And only where a
 * pass of pass_rows rows of `width` values fits in L2 beside the next (ahead_fits).
 * `rows` and `ld`: the whole matrix the call takes part of. */
static inline int ask_ahead(size_t rows, size_t ld, size_t pass_rows, size_t width)
{
  return beyond_last(rows, ld, past_a_page(ld) ? 0.5 : 0.375) && ahead_fits(pass_rows, width);
}

/* Where column p starts a cache line, ask for that line of each of `rows` rows from next
 * on, a pass ahead (into L2: locality 1, see above); the callers' only use of
 * __builtin_prefetch. */
#define ask_line VF(ask_line)
NNK_FORCE_INLINE void ask_line(const T *next, size_t lda, int rows, size_t p)
{
  if (p % (64 / sizeof(T)) == 0)
    _Pragma("GCC unroll 8") for (int q = 0; q < rows; q++) __builtin_prefetch(next + q * lda + p, 0, 1);
}

/* alpha d + beta y, reading y only when beta != 0 (BLAS: beta = 0 ignores NaN in y). */
static inline T scaled(T alpha, T d, T beta, const T *y) { return beta == 0 ? alpha * d : alpha * d + beta * *y; }

/* Eight accumulators: FMA's latency (4-5 cycles) times two units, so that a long dot
 * product from L1 or L2 is not one chain of dependent adds. */
static T dot_row(size_t n, const T *a, const T *x)
{
  V s[8];
  _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) s[i] = v_set1(0);
  size_t p = 0;
  for (; p + 8 * W <= n; p += 8 * W)
    _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++)
      s[i] = v_fma(v_load(a + p + i * W), v_load(x + p + i * W), s[i]);
  for (int i = 0; p + W <= n; p += W, i++) s[i] = v_fma(v_load(a + p), v_load(x + p), s[i]);
  if (p < n) s[7] = v_fma(v_load_part(a + p, n - p), v_load_part(x + p, n - p), s[7]);
  return v_hsum(v_add(v_add(v_add(s[0], s[1]), v_add(s[2], s[3])),
                      v_add(v_add(s[4], s[5]), v_add(s[6], s[7]))));
}

/* Four rows, two accumulators each (eight chains, as dot_row); `next` (or NULL) the
 * four after them, asked for a pass ahead. */
static void dot_4_rows(size_t n, const T *a, size_t lda, const T *x, T *d, const T *next)
{
  const T *r[4] = {a, a + lda, a + 2 * lda, a + 3 * lda};
  V s[4], t[4];
  _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) s[i] = t[i] = v_set1(0);
  size_t p = 0;
  for (; p + 2 * W <= n; p += 2 * W) {
    if (next) ask_line(next, lda, 4, p), ask_line(next, lda, 4, p + W);
    V x0 = v_load(x + p), x1 = v_load(x + p + W);
    _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) {
      s[i] = v_fma(v_load(r[i] + p), x0, s[i]);
      t[i] = v_fma(v_load(r[i] + p + W), x1, t[i]);
    }
  }
  if (p + W <= n) {
    V xv = v_load(x + p);
    _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) s[i] = v_fma(v_load(r[i] + p), xv, s[i]);
    p += W;
  }
  if (p < n) {
    size_t c = n - p;
    V xv = v_load_part(x + p, c);
    _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) t[i] = v_fma(v_load_part(r[i] + p, c), xv, t[i]);
  }
  _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) d[i] = v_hsum(v_add(s[i], t[i]));
}

/* Rows r0, r0 + 1 against NX vectors: 2 x NX accumulators (8 at most), each load of a
 * row shared by the NX vectors, each load of a vector by the two rows. */
NNK_FORCE_INLINE void dots_2_rows(size_t n, const T *a, size_t lda, const T *x, size_t ldx,
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
      s[0][v] = v_fma(a0, xv, s[0][v]);
      s[1][v] = v_fma(a1, xv, s[1][v]);
    }
  }
  if (p < n) {
    V a0 = v_load_part(a + p, n - p), a1 = v_load_part(a + lda + p, n - p);
    _Pragma("GCC unroll 4") for (int v = 0; v < NX; v++) {
      V xv = v_load_part(x + v * ldx + p, n - p);
      s[0][v] = v_fma(a0, xv, s[0][v]);
      s[1][v] = v_fma(a1, xv, s[1][v]);
    }
  }
  _Pragma("GCC unroll 4") for (int v = 0; v < NX; v++) d[v] = v_hsum(s[0][v]), d[4 + v] = v_hsum(s[1][v]);
}

/* Eight rows, one accumulator each (eight chains), for rows longer than a page: twice
 * the rows streaming at once (Zen 4, side by side in one process: W x float32 2000^2
 * 1.11-1.31x as fast as four rows, 3000 x 2000 1.11-1.19x, float64 1000^2 1.10-1.13x,
 * 2000^2 0.86-1.16x on AVX2 and 1.09-1.16x on AVX-512; rows of a page or less lost up to
 * 0.76x, and keep four); `next` as dot_4_rows'. */
static void dot_8_rows(size_t n, const T *a, size_t lda, const T *x, T *d, const T *next)
{
  V s[8];
  _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) s[i] = v_set1(0);
  size_t p = 0;
  for (; p + W <= n; p += W) {
    if (next) ask_line(next, lda, 8, p);
    V xv = v_load(x + p);
    _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) s[i] = v_fma(v_load(a + i * lda + p), xv, s[i]);
  }
  if (p < n) {
    size_t c = n - p;
    V xv = v_load_part(x + p, c);
    _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) s[i] = v_fma(v_load_part(a + i * lda + p, c), xv, s[i]);
  }
  _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) d[i] = v_hsum(s[i]);
}

void KNAME(gemv_dots)(size_t rows, size_t n, size_t nx, T alpha, const T *a, size_t lda,
                      const T *x, size_t ldx, T beta, T *y, size_t ldy, size_t whole)
{
  size_t r = 0;
  if (nx == 1) { /* one vector: four rows share each load of it */
    const int ahead = ask_ahead(whole, lda, past_a_page(lda) ? 8 : 4, n);
    if (past_a_page(lda))
      for (; r + 8 <= rows; r += 8) {
        T d[8];
        dot_8_rows(n, a + r * lda, lda, x, d, ahead && r + 16 <= rows ? a + (r + 8) * lda : NULL);
        for (size_t i = 0; i < 8; i++) y[(r + i) * ldy] = scaled(alpha, d[i], beta, y + (r + i) * ldy);
      }
    for (; r + 4 <= rows; r += 4) {
      T d[4];
      dot_4_rows(n, a + r * lda, lda, x, d, ahead && r + 8 <= rows ? a + (r + 4) * lda : NULL);
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

/* acc[j:j+W] += sum_q x[q] a_q[j:j+W] over eight rows, rows 4..7 addressed from rows
 * 0..3 by 4 lda (r[4]: their pointers; one index register for each half instead of eight
 * pointers, which left GCC two to reload from the stack every vector): two chains of four,
 * added at the end. */
#define axpys_8_at VF(axpys_8_at)
NNK_FORCE_INLINE void axpys_8_at(size_t j, const T *const r[4], size_t l4, const V xs[8], T *acc)
{
  const size_t k = j + l4;
  V s = v_fma(xs[0], v_load(r[0] + j), v_load(acc + j)), t = v_mul(xs[4], v_load(r[0] + k));
  _Pragma("GCC unroll 3") for (int q = 1; q < 4; q++) {
    s = v_fma(xs[q], v_load(r[q] + j), s);
    t = v_fma(xs[q + 4], v_load(r[q] + k), t);
  }
  v_store(acc + j, v_add(s, t));
}
/* acc[0:w] += sum_q x[q] a_q over eight rows a_q = a + q lda, two vectors a step (as
 * OpenBLAS's sgemv_n kernels; against one a step, Zen 3, one thread, both builds in one
 * process in turns with NumPy, five to eight runs a shape: float32 x W 2000^2, 4000^2
 * and 8000 x 512 (asking ahead) and float64 8000 x 512 0-11 % faster, float64 2000^2 -3
 * to +6 %, W x unchanged), the next eight rows asked for a pass ahead when `ahead`.  Each
 * sum in the same order as one a step: the same bits.  The loop is written twice so that
 * the one not asking ahead carries no test of `ahead`. */
static void axpys_8_rows(size_t w, const T *a, size_t lda, const T *x, T *acc, int ahead)
{
  const size_t wv = w - w % W;
  V xs[8];
  _Pragma("GCC unroll 8") for (int q = 0; q < 8; q++) xs[q] = v_set1(x[q]);
  const T *const r[4] = {a, a + lda, a + 2 * lda, a + 3 * lda}, *next = a + 8 * lda;
  const size_t l4 = 4 * lda;
  size_t j = 0;
  if (ahead)
    for (; j + 2 * W <= wv; j += 2 * W) {
      ask_line(next, lda, 8, j), ask_line(next, lda, 8, j + W);
      axpys_8_at(j, r, l4, xs, acc), axpys_8_at(j + W, r, l4, xs, acc);
    }
  else
    for (; j + 2 * W <= wv; j += 2 * W) axpys_8_at(j, r, l4, xs, acc), axpys_8_at(j + W, r, l4, xs, acc);
  if (j < wv) {
    if (ahead) ask_line(next, lda, 8, j);
    axpys_8_at(j, r, l4, xs, acc);
  }
  if (wv < w) { /* the tail: the rows' last values by masked loads (axpys_1's acc) */
    const size_t c = w - wv;
    V s = v_fma(xs[0], v_load_part(a + wv, c), v_load(acc + wv));
    V t = v_mul(xs[4], v_load_part(a + 4 * lda + wv, c));
    _Pragma("GCC unroll 3") for (int q = 1; q < 4; q++) {
      s = v_fma(xs[q], v_load_part(a + q * lda + wv, c), s);
      t = v_fma(xs[q + 4], v_load_part(a + (q + 4) * lda + wv, c), t);
    }
    v_store(acc + wv, v_add(s, t));
  }
}

/* One vector x: y = alpha sum_r x[r] a_r + beta y, eight rows a pass or four
 * (axpys_eight), asked for ahead only from memory (ask_ahead).  Eight where rows are
 * longer than a page, measured on Zen 4 (one thread, side by side, old and new in turns
 * in one process, two runs): float32 x W 2000^2 1.12-1.13x as fast (0.86-0.89x ->
 * 0.97-1.00x NumPy), 512 x 8000 1.06-1.09x, 6000 x 2000 (46 MiB) 1.09-1.11x; float64
 * 1000^2 1.22-1.23x, 2000^2 1.17-1.21x. */
static void axpys_1(size_t rows, size_t n, T alpha, const T *a, size_t lda, const T *x, T beta,
                    T *y, size_t whole)
{
  T acc[AXPY_CHUNK];
  const int eight = axpys_eight(lda);
  const int ahead = ask_ahead(whole, lda, eight ? 8 : 4, n < AXPY_CHUNK ? n : AXPY_CHUNK);
  for (size_t j0 = 0; j0 < n; j0 += AXPY_CHUNK) {
    size_t w = n - j0 < AXPY_CHUNK ? n - j0 : AXPY_CHUNK, wv = w - w % W;
    /* acc's tail read and written as a whole vector (AXPY_CHUNK being a multiple of W,
     * it lies inside acc), its lanes past w zeros and never copied to y */
    memset(acc, 0, (wv < w ? wv + W : w) * sizeof(T));
    size_t r = 0;
    if (eight)
      for (; r + 8 <= rows; r += 8) axpys_8_rows(w, a + r * lda + j0, lda, x + r, acc, ahead && r + 16 <= rows);
    for (; r + 4 <= rows; r += 4) { /* four rows per pass over the chunk of acc */
      const T *a0 = a + r * lda + j0, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
      V x0 = v_set1(x[r]), x1 = v_set1(x[r + 1]), x2 = v_set1(x[r + 2]), x3 = v_set1(x[r + 3]);
      const T *next = a3 + lda; /* the next four rows, asked for a pass ahead */
      for (size_t j = 0; j < wv; j += W) {
        if (ahead && r + 8 <= rows) ask_line(next, lda, 4, j);
        V s = v_fma(x0, v_load(a0 + j), v_load(acc + j));
        s = v_fma(x1, v_load(a1 + j), s);
        s = v_fma(x2, v_load(a2 + j), s);
        v_store(acc + j, v_fma(x3, v_load(a3 + j), s));
      }
      if (wv < w) { /* the tail: the rows' last values by masked loads */
        const size_t c = w - wv;
        V s = v_fma(x0, v_load_part(a0 + wv, c), v_load(acc + wv));
        s = v_fma(x1, v_load_part(a1 + wv, c), s);
        s = v_fma(x2, v_load_part(a2 + wv, c), s);
        v_store(acc + wv, v_fma(x3, v_load_part(a3 + wv, c), s));
      }
    }
    for (; r < rows; r++) {
      const T *ar = a + r * lda + j0;
      V xr = v_set1(x[r]);
      for (size_t j = 0; j < wv; j += W) v_store(acc + j, v_fma(xr, v_load(ar + j), v_load(acc + j)));
      if (wv < w) v_store(acc + wv, v_fma(xr, v_load_part(ar + wv, w - wv), v_load(acc + wv)));
    }
    /* y = alpha acc + beta y as scaled() rounds it (no contraction), whole vectors then
     * one by one: element by element, with beta's test each time, this copy took a
     * fifth of a 64 x 1024 float32 x W (3.9 us) */
    const V va = v_set1(alpha), vb = v_set1(beta);
    T *yc = y + j0;
    size_t j = 0;
    if (beta == 0)
      for (; j < wv; j += W) v_store(yc + j, v_mul(va, v_load(acc + j)));
    else
      for (; j < wv; j += W) v_store(yc + j, v_add(v_mul(va, v_load(acc + j)), v_mul(vb, v_load(yc + j))));
    for (; j < w; j++) yc[j] = scaled(alpha, acc[j], beta, yc + j);
  }
}

void KNAME(gemv_axpys)(size_t rows, size_t n, size_t nx, T alpha, const T *a, size_t lda,
                       const T *x, size_t ldx, T beta, T *y, size_t ldy, size_t whole)
{
  for (size_t v = 0; v < nx; v++) axpys_1(rows, n, alpha, a, lda, x + v * ldx, beta, y + v * ldy, whole);
}
