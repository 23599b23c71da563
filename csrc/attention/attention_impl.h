/*
 * Causal scaled dot-product attention over heads, written once over the helper layer.
 * For one (batch, head) and query row i, keys and values j <= i:
 *
 *   forward   s_j = scale q_i . k_j,  m = max_j s_j,  e_j = exp(s_j - m)
 *             o_i = (sum_j e_j v_j) / sum_j e_j,  lse_i = m + log sum_j e_j
 *   backward  p_j = exp(s_j - lse_i)            (recomputed from the saved lse)
 *             ds_j = p_j (do_i . v_j - do_i . o_i) scale
 *             dq_i = sum_j ds_j k_j,  dk_j += ds_j q_i,  dv_j += p_j do_i
 *
 * Query rows go in blocks and every product is a register tile, as a GEMM's are (TR rows,
 * VREGS / 4: 8 on the 32-register layers, 4 on AVX2): the scores of TR rows against two
 * vectors of keys (the head's keys transposed once, so TR broadcast values of q and two
 * loads feed 2 TR FMAs); the outputs of TR rows over two vectors of D (each row's weights
 * broadcast, a value row loaded); backward, dk and dv of TR keys over two vectors of D
 * from a block's rows.  Row by row, a head of 32 float32 values is two AVX-512 vectors:
 * its sums were one or two chains of dependent FMAs, bound by their latency.
 *
 * Only a block's rows of scores live at a time: no (T x T) matrix per head, let alone per
 * batch, as FlashAttention keeps none.  Causality: a block's rows share the keys before
 * the block, and the diagonal part is a triangle (row r of the block takes the block's
 * keys up to itself), so no key past a row ever enters its sums, even as a zero weight.
 *
 * Every result element is one chain in a fixed order (a score over d, an output over j,
 * dk and dv over the query rows in order), whatever the block: the rows first..len-1
 * alone (a key/value cache's new rows) give what the whole forward gives them, bit for
 * bit.  Rows of q, k, v (and dq, dk, dv) are `ld` apart, a head's D values at h D in its
 * row: the (B, T, 3C) output of the qkv projection is read in place.  When D is not a
 * whole number of vectors, the rows read as vectors are first copied into zero-padded
 * rows of DW values, and results go out through such rows.  Items lo..hi-1 are (batch,
 * head) pairs, item = b H + h, so a caller splits them across threads.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "nnk_kernels.h"

/* Rows (or keys) of a register tile; two vectors wide, so 2 TR accumulators. */
#define TR (VREGS / 4)

/* This file's helpers, one set per dtype (it is included once for each: simd/layer.h). */
#define dot_d VF(dot_d)
#define block_exp VF(block_exp)
#define tile_weights VF(tile_weights)
#define transposed VF(transposed)
#define padded VF(padded)
#define tile_start VF(tile_start)
#define tile_step VF(tile_step)
#define score_tile VF(score_tile)
#define scores VF(scores)
#define key_lanes VF(key_lanes)
#define causal_exp VF(causal_exp)
#define head_lse VF(head_lse)
#define row_tile VF(row_tile)
#define rows_out VF(rows_out)
#define key_tile VF(key_tile)
#define keys_update VF(keys_update)
#define ask_rows VF(ask_rows)

static T dot_d(size_t d, const T *a, const T *b)
{
  V acc = v_set1(0);
  size_t i = 0;
  for (; i + W <= d; i += W) acc = v_fma(v_load(a + i), v_load(b + i), acc);
  if (i < d) acc = v_fma(v_load_part(a + i, d - i), v_load_part(b + i, d - i), acc);
  return v_hsum(acc);
}

/* The keys j0 .. j0 + W - 1 of a vector, as values: a lane's key against a row's count
 * of keys (v_lt) is the causal mask. */
static inline V key_lanes(size_t j0)
{
  static const T lane[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  return v_add(v_load(lane), v_set1((T)j0));
}

/* exp(s - sub) in the lanes whose key j is below n (a row's count of keys), 0 in the
 * others: those are not exponentiated, since an exp that underflows costs more. */
NNK_FORCE_INLINE V causal_exp(V s, V sub, V j, size_t n)
{
  const M in = v_lt(j, v_set1((T)n));
  const V zero = v_set1(0);
  return v_select(in, v_exp(v_select(in, v_sub(s, sub), zero)), zero);
}

/* The softmax numerators of a block's rows r < rows (at most TR), row r holding the
 * scores of keys 0..i0+r at s + r lds: each row's largest m[r], its e_j = exp(s_j - m[r])
 * in place (and zeros to the end of its last vector, causal_exp) and their sum[r],
 * every vector's added in lanes (the last one's zeros past the row included) and the
 * lanes added at the end.
 * A vector of every row in turn: TR independent chains and the constants loaded once a
 * block, where row by row each row's short chain waited on the last; the vectors every
 * row fills go unmasked, so that on AVX2's 16 registers the rows' maxima and sums stay
 * beside exp's constants (16 x 4 heads x 64 x 32 float32, Zen 4, side by side: forward
 * 321 -> 299 us, AVX2 360 -> 348; backward's tile_weights likewise 662 -> 630, AVX2 687
 * -> 670; masking every vector was no faster than row by row on AVX2).  A row's numbers
 * are those of the row alone, whatever the block holds.  Rows past `rows` are neither
 * read nor written. */
NNK_FORCE_INLINE void block_exp(size_t rows, size_t i0, T *s, size_t lds, T m[TR], T sum[TR],
                                const int RR)
{
  /* vectors 0..full-1 hold keys of every row; from there to nv, the mask of each row */
  const size_t full = (i0 + 1) / W, nv = (i0 + rows + W - 1) / W;
  const V ninf = v_set1(-INFINITY), zero = v_set1(0);
  V top[TR], acc[TR], vm[TR];
  _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) top[r] = ninf, acc[r] = vm[r] = zero;
  for (size_t v = 0; v < full; v++)
    _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
      if ((size_t)r >= rows) break;
      top[r] = v_max(top[r], v_load(s + r * lds + v * W));
    }
  for (size_t v = full; v < nv; v++) {
    const V j = key_lanes(v * W);
    _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
      if ((size_t)r >= rows) break;
      const M in = v_lt(j, v_set1((T)(i0 + (size_t)r + 1)));
      top[r] = v_max(top[r], v_select(in, v_load(s + r * lds + v * W), ninf));
    }
  }
  _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
    if ((size_t)r >= rows) break;
    m[r] = v_hmax(top[r]), vm[r] = v_set1(m[r]);
  }
  for (size_t v = 0; v < full; v++)
    _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
      if ((size_t)r >= rows) break;
      T *sv = s + r * lds + v * W;
      const V e = v_exp(v_sub(v_load(sv), vm[r]));
      v_store(sv, e);
      acc[r] = v_add(acc[r], e);
    }
  for (size_t v = full; v < nv; v++) {
    const V j = key_lanes(v * W);
    _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
      if ((size_t)r >= rows) break;
      T *sv = s + r * lds + v * W;
      const V e = causal_exp(v_load(sv), vm[r], j, i0 + (size_t)r + 1);
      v_store(sv, e);
      acc[r] = v_add(acc[r], e);
    }
  }
  _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
    if ((size_t)r >= rows) break;
    sum[r] = v_hsum(acc[r]);
  }
}

/* Backward's weights of a tile of rows r < rows (query rows i0 + r, at most TR), from
 * their scores at p and do . v at ds (rows lds apart): p_j = exp(s_j - lse[r]) and ds_j =
 * p_j (ds_j - di[r]) scale in place for j <= i0 + r, and p_j = 0 after it to the end of
 * the last vector (ds_j there is any: no sum reads it).  A vector of every row in turn,
 * as block_exp. */
NNK_FORCE_INLINE void tile_weights(size_t rows, size_t i0, T *p, T *ds, size_t lds, const T *lse,
                                   const T *di, T scale, const int RR)
{
  const size_t full = (i0 + 1) / W, nv = (i0 + rows + W - 1) / W; /* as block_exp's */
  const V vs = v_set1(scale);
  V vl[TR], vd[TR];
  _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
    const size_t rr = (size_t)r < rows ? (size_t)r : rows - 1;
    vl[r] = v_set1(lse[rr]), vd[r] = v_set1(di[rr]);
  }
  for (size_t v = 0; v < full; v++)
    _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
      if ((size_t)r >= rows) break;
      T *pv = p + r * lds + v * W, *dv = ds + r * lds + v * W;
      const V e = v_exp(v_sub(v_load(pv), vl[r]));
      v_store(pv, e);
      v_store(dv, v_mul(v_mul(e, v_sub(v_load(dv), vd[r])), vs));
    }
  for (size_t v = full; v < nv; v++) {
    const V j = key_lanes(v * W);
    _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
      if ((size_t)r >= rows) break;
      T *pv = p + r * lds + v * W, *dv = ds + r * lds + v * W;
      const V e = causal_exp(v_load(pv), vl[r], j, i0 + (size_t)r + 1);
      v_store(pv, e);
      v_store(dv, v_mul(v_mul(e, v_sub(v_load(dv), vd[r])), vs));
    }
  }
}

/* lse[r] += log(sum[r]) for r < rows (lse holding each row's largest score), a head's
 * rows W logs at a time (a lane's log is the vector function's, as s_log gives it one by
 * one), where a block's TR rows took one call each (AVX2 half a vector, AVX-512 half). */
static void head_lse(size_t rows, const T *sum, T *lse)
{
  size_t r = 0;
  for (; r + W <= rows; r += W) v_store(lse + r, v_add(v_load(lse + r), v_log(v_load(sum + r))));
  if (r < rows) {
    T b[W];
    for (size_t u = 0; u < W; u++) b[u] = r + u < rows ? sum[r + u] : 1;
    v_store(b, v_log(v_load(b)));
    for (size_t u = 0; r + u < rows; u++) lse[r + u] += b[u];
  }
}

#if W > 1
void KNAME(gemm_pack) NNK_SIG_GEMM_PACK(T);
#endif

/* dst[d * stride + j] = src[j * ld + d] for j < n, d < D; zeros for n <= j < stride:
 * the GEMM's packing kernel of the ISA (transposes in registers), on the scalar layer
 * element by element. */
static void transposed(size_t n, size_t D, const T *src, size_t ld, T *dst, size_t stride)
{
#if W > 1
  KNAME(gemm_pack)(n, D, src, (ptrdiff_t)ld, stride, dst);
#else
  for (size_t d = 0; d < D; d++) { /* each destination row written along: contiguous stores */
    T *row = dst + d * stride;
    for (size_t j = 0; j < n; j++) row[j] = src[j * ld + d];
    for (size_t j = n; j < stride; j++) row[j] = 0;
  }
#endif
}

/* Asks for the cache lines of rows lo..hi-1 (D values each, ld apart) at p, for reading or
 * (write) for writing, into L2: the next (batch, head) pair's rows, a slice while each
 * block of this pair's rows computes.  In a training step a layer's q, k, v, outputs and
 * gradients come back from L3 or memory, a head's rows one or two lines each a row's
 * length apart, where the hardware's stream prefetchers start over every page or two
 * (Zen 4, one thread, 16 x 4 heads x 64 x 32 float32 from memory, side by side: forward
 * 430-450 -> 330-335 us, backward 960-985 -> 685-735; from L2 or L3 within 2 %; the GPT
 * step 60.2-61.1 -> 58.9-59.5 ms, on AVX2 63.5 -> 61.3, two threads 32.0-32.4 -> 31.6).
 * Forced inline: a helper of prefetches alone is a function without side effects to GCC,
 * whose calls it drops (-O2). */
NNK_FORCE_INLINE void ask_rows(size_t lo, size_t hi, size_t D, const T *p, size_t ld, int write)
{
  const size_t step = 64 / sizeof(T);
  for (size_t r = lo; r < hi; r++) {
    const T *row = p + r * ld;
    if (write) {
      for (size_t c = 0; c < D; c += step) __builtin_prefetch(row + c, 1, 2);
      __builtin_prefetch(row + D - 1, 1, 2);
    } else {
      for (size_t c = 0; c < D; c += step) __builtin_prefetch(row + c, 0, 2);
      __builtin_prefetch(row + D - 1, 0, 2);
    }
  }
}

/* Row r of dst (DW values) = row r of src (D values, ld apart) and zeros, r < n. */
static void padded(size_t n, size_t D, size_t DW, const T *src, size_t ld, T *dst)
{
  for (size_t r = 0; r < n; r++) {
    memcpy(dst + r * DW, src + r * ld, D * sizeof(T));
    memset(dst + r * DW + D, 0, (DW - D) * sizeof(T));
  }
}

/* A register tile's rows: pr[r] = base + r ld for r < rows, the rows past `rows` (up to
 * RR) repeating the last, and their accumulators zero. */
NNK_FORCE_INLINE void tile_start(V acc[TR][2], const T *pr[TR], const T *base, size_t ld,
                                 size_t rows, const int RR)
{
  _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
    pr[r] = base + ((size_t)r < rows ? (size_t)r : rows - 1) * ld;
    acc[r][0] = acc[r][1] = v_set1(0);
  }
}

/* One step of a register tile: acc[r] += pr[r][s] (NV vectors at b) for r0 <= r < RR,
 * each row's value broadcast, one FMA per vector. */
NNK_FORCE_INLINE void tile_step(V acc[TR][2], const T *const pr[TR], size_t s, const T *b,
                                const int r0, const int RR, const int NV)
{
  const V b0 = v_load(b), b1 = NV > 1 ? v_load(b + W) : b0;
  _Pragma("GCC unroll 8") for (int r = r0; r < RR; r++) {
    const V a = v_set1(pr[r][s]);
    acc[r][0] = v_fma(a, b0, acc[r][0]);
    if (NV > 1) acc[r][1] = v_fma(a, b1, acc[r][1]);
  }
}

/* s[r][j .. j + NV W) = scale (x_r . key) for rows r < rows, x_r at x + r ldx (D values,
 * broadcast), the keys transposed at kt (row d at kt + d stride).  RR (>= rows) and NV
 * are constants, so the accumulators stay in registers; rows past `rows` repeat the
 * last and are not stored.  One chain per score, over d in order. */
NNK_FORCE_INLINE void score_tile(size_t rows, size_t D, const T *x, size_t ldx, const T *kt,
                                 size_t stride, size_t j, V vs, T *s, size_t lds, const int RR,
                                 const int NV)
{
  const T *xr[TR];
  V acc[TR][2];
  tile_start(acc, xr, x, ldx, rows, RR);
  for (size_t d = 0; d < D; d++) tile_step(acc, xr, d, kt + d * stride + j, 0, RR, NV);
  _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
    if ((size_t)r >= rows) break;
    v_store(s + r * lds + j, v_mul(vs, acc[r][0]));
    if (NV > 1) v_store(s + r * lds + j + W, v_mul(vs, acc[r][1]));
  }
}

/* The scores of rows r < rows (at most TR) against the keys 0..n-1, in whole vectors
 * (past n: whatever the padding gives; the caller masks). */
static void scores(size_t rows, size_t n, size_t D, const T *x, size_t ldx, const T *kt,
                   size_t stride, T scale, T *s, size_t lds)
{
  const V vs = v_set1(scale);
  const size_t end = (n + W - 1) / W * W;
  size_t j = 0;
  if (rows == 1) { /* one row (a cache's new row): a tile of one, not TR copies of it */
    for (; j + 2 * W <= end; j += 2 * W) score_tile(1, D, x, ldx, kt, stride, j, vs, s, lds, 1, 2);
    if (j < end) score_tile(1, D, x, ldx, kt, stride, j, vs, s, lds, 1, 1);
    return;
  }
  for (; j + 2 * W <= end; j += 2 * W) score_tile(rows, D, x, ldx, kt, stride, j, vs, s, lds, TR, 2);
  if (j < end) score_tile(rows, D, x, ldx, kt, stride, j, vs, s, lds, TR, 1);
}

/* out_r = c_r sum_j w[r][j] y_j over NV vectors of a row, for rows r < rows: the row at
 * i0 + r of a block takes keys 0..i0-1 (shared by all) and then i0..i0+r (the diagonal
 * triangle); y_j at y + j ldy, w row r at w + r ldw, c_r = scale[r] (NULL: 1).  RR and
 * NV constants as in score_tile.  One chain per value, over j in order. */
NNK_FORCE_INLINE void row_tile(size_t rows, size_t i0, const T *w, size_t ldw, const T *y,
                               size_t ldy, const T *scale, T *out, size_t ldo, const int RR,
                               const int NV)
{
  const T *wr[TR];
  V acc[TR][2];
  tile_start(acc, wr, w, ldw, rows, RR);
  for (size_t j = 0; j < i0; j++) tile_step(acc, wr, j, y + j * ldy, 0, RR, NV);
  _Pragma("GCC unroll 8") for (int jj = 0; jj < RR; jj++) {
    if ((size_t)jj >= rows) break;
    tile_step(acc, wr, i0 + (size_t)jj, y + (i0 + (size_t)jj) * ldy, jj, RR, NV);
  }
  _Pragma("GCC unroll 8") for (int r = 0; r < RR; r++) {
    if ((size_t)r >= rows) break;
    const V c = v_set1(scale ? scale[r] : (T)1);
    v_store(out + r * ldo, scale ? v_mul(c, acc[r][0]) : acc[r][0]);
    if (NV > 1) v_store(out + r * ldo + W, scale ? v_mul(c, acc[r][1]) : acc[r][1]);
  }
}

/* row_tile over rows of DW values (a whole number of vectors), two vectors at a time. */
static void rows_out(size_t rows, size_t i0, const T *w, size_t ldw, const T *y, size_t ldy,
                     size_t DW, const T *scale, T *out, size_t ldo)
{
  size_t d = 0;
  if (rows == 1) {
    for (; d + 2 * W <= DW; d += 2 * W) row_tile(1, i0, w, ldw, y + d, ldy, scale, out + d, ldo, 1, 2);
    if (d < DW) row_tile(1, i0, w, ldw, y + d, ldy, scale, out + d, ldo, 1, 1);
    return;
  }
  for (; d + 2 * W <= DW; d += 2 * W) row_tile(rows, i0, w, ldw, y + d, ldy, scale, out + d, ldo, TR, 2);
  if (d < DW) row_tile(rows, i0, w, ldw, y + d, ldy, scale, out + d, ldo, TR, 1);
}

/* acc_j += sum over a block's rows r < rows (query row i0 + r) with i0 + r >= j of
 * w[r][j] x_r, for keys j = jt..jt+keys-1 (keys <= TR), NV vectors of each row: x_r at
 * x + r ldx, w row r at w + r ldw, acc_j at a + j lda, which starts from zero in the
 * block that holds key j (the blocks go in order; TR divides their size).  Keys past
 * `keys` repeat the last and are not stored.  One chain per value, over the rows in order. */
NNK_FORCE_INLINE void key_tile(size_t keys, size_t jt, size_t i0, size_t rows, const T *w,
                               size_t ldw, const T *x, size_t ldx, T *a, size_t lda, const int NV)
{
  T *ar[TR];
  size_t col[TR];
  V acc[TR][2];
  const int fresh = jt >= i0; /* the block holding a key is the first to reach it */
  _Pragma("GCC unroll 8") for (int u = 0; u < TR; u++) {
    col[u] = jt + ((size_t)u < keys ? (size_t)u : keys - 1);
    ar[u] = a + col[u] * lda;
    acc[u][0] = fresh ? v_set1(0) : v_load(ar[u]);
    acc[u][1] = fresh || NV < 2 ? v_set1(0) : v_load(ar[u] + W);
  }
  if (jt + TR <= i0 + 1) { /* below the diagonal: every row reaches every key */
    for (size_t r = 0; r < rows; r++) {
      const T *xr = x + r * ldx, *wr = w + r * ldw;
      const V x0 = v_load(xr), x1 = NV > 1 ? v_load(xr + W) : x0;
      _Pragma("GCC unroll 8") for (int u = 0; u < TR; u++) {
        const V c = v_set1(wr[col[u]]);
        acc[u][0] = v_fma(c, x0, acc[u][0]);
        if (NV > 1) acc[u][1] = v_fma(c, x1, acc[u][1]);
      }
    }
  } else { /* the diagonal: row r reaches the keys up to i0 + r */
    for (size_t r = jt > i0 ? jt - i0 : 0; r < rows; r++) {
      const T *xr = x + r * ldx, *wr = w + r * ldw;
      const V x0 = v_load(xr), x1 = NV > 1 ? v_load(xr + W) : x0;
      _Pragma("GCC unroll 8") for (int u = 0; u < TR; u++) {
        if (col[u] > i0 + r) continue;
        const V c = v_set1(wr[col[u]]);
        acc[u][0] = v_fma(c, x0, acc[u][0]);
        if (NV > 1) acc[u][1] = v_fma(c, x1, acc[u][1]);
      }
    }
  }
  _Pragma("GCC unroll 8") for (int u = 0; u < TR; u++) {
    if ((size_t)u >= keys) break;
    v_store(ar[u], acc[u][0]);
    if (NV > 1) v_store(ar[u] + W, acc[u][1]);
  }
}

/* key_tile over rows of DW values, two vectors at a time. */
static void keys_update(size_t keys, size_t jt, size_t i0, size_t rows, const T *w, size_t ldw,
                        const T *x, size_t ldx, size_t DW, T *a, size_t lda)
{
  size_t d = 0;
  for (; d + 2 * W <= DW; d += 2 * W) key_tile(keys, jt, i0, rows, w, ldw, x + d, ldx, a + d, lda, 2);
  if (d < DW) key_tile(keys, jt, i0, rows, w, ldw, x + d, ldx, a + d, lda, 1);
}

void KNAME(attention)(size_t lo, size_t hi, size_t H, size_t len, size_t first, size_t D,
                      const T *q, const T *k, const T *v, size_t ld, size_t bs, T scale, T *o,
                      size_t ldo, size_t bso, T *lse, T *scratch)
{
  const size_t stride = (len + W - 1) / W * W, DW = (D + W - 1) / W * W;
  const int direct = DW == D; /* rows of whole vectors: read and written in place */
  /* a block's scores, the keys transposed, the head's rows' sums; then, when D is not
   * whole vectors, the values padded and the block's output rows */
  T *s = scratch, *kt = s + TR * stride, *sums = kt + D * stride, *vp = sums + stride,
    *ob = vp + len * DW;
  for (size_t item = lo; item < hi; item++) {
    const size_t b = item / H, h = item % H;
    const T *qb = q + b * bs + h * D, *kb = k + b * bs + h * D, *vb = v + b * bs + h * D;
    T *out = o + b * bso + h * D;
    /* the next pair's rows, asked for a slice a block (ask_rows) */
    const int ask = item + 1 < hi;
    const size_t nd = (item + 1) / H * bs + (item + 1) % H * D;
    const size_t no = (item + 1) / H * bso + (item + 1) % H * D;
    transposed(len, D, kb, ld, kt, stride);
    const T *vx = vb;
    size_t ldv = ld;
    if (!direct) padded(len, D, DW, vb, ld, vp), vx = vp, ldv = DW;
    for (size_t i0 = first; i0 < len; i0 += TR) {
      const size_t rows = len - i0 < TR ? len - i0 : TR;
      if (ask) { /* the next pair's rows i0.. (its keys before first too) */
        const size_t j0 = i0 == first ? 0 : i0;
        ask_rows(i0, i0 + rows, D, q + nd, ld, 0), ask_rows(j0, i0 + rows, D, k + nd, ld, 0);
        ask_rows(j0, i0 + rows, D, v + nd, ld, 0);
        ask_rows(i0 - first, i0 - first + rows, D, o + no, ldo, 1);
      }
      scores(rows, i0 + rows, D, qb + i0 * ld, ld, kt, stride, scale, s, stride);
      T m[TR], *sum = sums + i0 - first, inv[TR];
      if (rows == 1) block_exp(1, i0, s, stride, m, sum, 1);
      else block_exp(rows, i0, s, stride, m, sum, TR);
      for (size_t r = 0; r < rows; r++) inv[r] = (T)1 / sum[r];
      if (lse) memcpy(lse + item * (len - first) + i0 - first, m, rows * sizeof(T));
      T *orow = out + (i0 - first) * ldo;
      rows_out(rows, i0, s, stride, vx, ldv, DW, inv, direct ? orow : ob, direct ? ldo : DW);
      if (!direct)
        for (size_t r = 0; r < rows; r++) memcpy(orow + r * ldo, ob + r * DW, D * sizeof(T));
    }
    if (lse) head_lse(len - first, sums, lse + item * (len - first));
  }
}

void KNAME(attention_grad)(size_t lo, size_t hi, size_t H, size_t len, size_t D, const T *q,
                           const T *k, const T *v, size_t ld, const T *o, const T *dout,
                           size_t ldo, const T *lse, T scale, T *dq, T *dk, T *dv, T *scratch)
{
  const size_t stride = (len + W - 1) / W * W, DW = (D + W - 1) / W * W;
  const size_t RB = NNK_ATTENTION_GRAD_ROWS;
  _Static_assert(NNK_ATTENTION_GRAD_ROWS % TR == 0, "key tiles must not straddle blocks");
  const int direct = DW == D;
  /* the p and ds rows of a block of RB query rows, the keys and the values transposed;
   * then, when D is not whole vectors, q, k and dout padded, the dk and dv sums and the
   * dq rows of a tile */
  T *pb = scratch, *dsb = pb + RB * stride, *kt = dsb + RB * stride, *vt = kt + D * stride;
  T *qp = vt + D * stride, *kp = qp + len * DW, *dop = kp + len * DW, *dkp = dop + len * DW,
    *dvp = dkp + len * DW, *ob = dvp + len * DW;
  for (size_t item = lo; item < hi; item++) {
    const size_t b = item / H, h = item % H, base = b * len;
    const T *qh = q + base * ld + h * D, *kh = k + base * ld + h * D, *vh = v + base * ld + h * D;
    const T *oh = o + base * ldo + h * D, *doh = dout + base * ldo + h * D;
    T *dqh = dq + base * ld + h * D, *dkh = dk + base * ld + h * D, *dvh = dv + base * ld + h * D;
    /* the next pair's rows, asked for a slice a tile (ask_rows) */
    const int ask = item + 1 < hi;
    const size_t nd = (item + 1) / H * len * ld + (item + 1) % H * D;
    const size_t no = (item + 1) / H * len * ldo + (item + 1) % H * D;
    transposed(len, D, kh, ld, kt, stride);
    transposed(len, D, vh, ld, vt, stride);
    /* the rows read as vectors (q for dk, k for dq, dout for dv) and the dk, dv sums */
    const T *qx = qh, *kx = kh, *dox = doh;
    size_t ldx = ld, ldd = ldo; /* q and k rows, dout rows; dk and dv as q */
    T *dka = dkh, *dva = dvh;
    if (!direct) {
      padded(len, D, DW, qh, ld, qp), padded(len, D, DW, kh, ld, kp), padded(len, D, DW, doh, ldo, dop);
      qx = qp, kx = kp, dox = dop, ldx = ldd = DW, dka = dkp, dva = dvp;
    }
    for (size_t i0 = 0; i0 < len; i0 += RB) {
      const size_t nb = len - i0 < RB ? len - i0 : RB, i1 = i0 + nb;
      /* p = exp(s - lse) and ds = p (do . v - do . o) scale, the block's rows, a tile of
       * rows at a time */
      for (size_t r0 = 0; r0 < nb; r0 += TR) {
        const size_t rows = nb - r0 < TR ? nb - r0 : TR, i = i0 + r0, n = i + rows;
        T *p = pb + r0 * stride, *ds = dsb + r0 * stride, di[TR];
        if (ask) { /* the next pair's rows i..n-1 of its eight operands */
          ask_rows(i, n, D, q + nd, ld, 0), ask_rows(i, n, D, k + nd, ld, 0);
          ask_rows(i, n, D, v + nd, ld, 0), ask_rows(i, n, D, o + no, ldo, 0);
          ask_rows(i, n, D, dout + no, ldo, 0), ask_rows(i, n, D, dq + nd, ld, 1);
          ask_rows(i, n, D, dk + nd, ld, 1), ask_rows(i, n, D, dv + nd, ld, 1);
        }
        scores(rows, n, D, qh + i * ld, ld, kt, stride, scale, p, stride);
        scores(rows, n, D, doh + i * ldo, ldo, vt, stride, 1, ds, stride);
        for (size_t r = 0; r < rows; r++) di[r] = dot_d(D, doh + (i + r) * ldo, oh + (i + r) * ldo);
        if (rows == 1) tile_weights(1, i, p, ds, stride, lse + item * len + i, di, scale, 1);
        else tile_weights(rows, i, p, ds, stride, lse + item * len + i, di, scale, TR);
      }
      /* dq_i = sum_j ds_ij k_j, a tile of rows at a time */
      for (size_t r0 = 0; r0 < nb; r0 += TR) {
        const size_t rows = nb - r0 < TR ? nb - r0 : TR;
        T *drow = dqh + (i0 + r0) * ld;
        rows_out(rows, i0 + r0, dsb + r0 * stride, stride, kx, ldx, DW, NULL, direct ? drow : ob,
                 direct ? ld : DW);
        if (!direct)
          for (size_t r = 0; r < rows; r++) memcpy(drow + r * ld, ob + r * DW, D * sizeof(T));
      }
      /* dk_j += ds_ij q_i and dv_j += p_ij do_i over the block's rows i >= j, TR keys at
       * a time: each dk and dv row loaded and stored once a block */
      for (size_t jt = 0; jt < i1; jt += TR) {
        const size_t keys = i1 - jt < TR ? i1 - jt : TR;
        keys_update(keys, jt, i0, nb, dsb, stride, qx + i0 * ldx, ldx, DW, dka, ldx);
        keys_update(keys, jt, i0, nb, pb, stride, dox + i0 * ldd, ldd, DW, dva, ldx);
      }
    }
    if (!direct)
      for (size_t t = 0; t < len; t++) {
        memcpy(dkh + t * ld, dkp + t * DW, D * sizeof(T));
        memcpy(dvh + t * ld, dvp + t * DW, D * sizeof(T));
      }
  }
}
