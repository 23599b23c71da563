/*
 * Packing for the blocked GEMM driver (gemm_impl.h includes it once per dtype, with its
 * T, FN and CONFIG): blocks of A into MR-tall panels and of B into NR-wide panels,
 * zero-padded, in the layout the microkernels read (nnk_kernels.h).  The ISA's own
 * pack kernels (csrc/gemm/pack.c) transpose in registers where an operand lies across
 * its panels; everything else is here, in portable C.
 */

/* Rows ahead that pack_b asks for while it copies one, and pack_a_steps (a transposed A's
 * rows) where it copies a row at a time.  A member's piece of a row is a few cache lines
 * (128 bytes to 1 KiB in a GPT step) a row length apart, and in a step B is often a
 * layer's input from the forward pass, gone to L3 or memory: the hardware's stream
 * prefetchers, which follow runs within a page, start over on every few rows (Zen 4, the
 * GPT step's pack_b cycles: weight gradients 15-30 % fewer with the rows asked for 2, 4,
 * 8 or 16 ahead, alike; the step 61.2-61.7 -> 59.9-60.3 ms on one thread, 32.2-33.1 ->
 * 32.3 on two).  A's rows (a layer's dy) likewise: pack_a's share of the step 2.0-2.3 ->
 * 1.4-1.7 % (AVX-512, side by side); AVX2's eight rows at a time (pack_a_steps) rose
 * from 2.3-2.6 to 2.7-3.0 % when the next eight were asked for, and are not. */
#ifndef PACK_AHEAD
#define PACK_AHEAD 4
#endif

/* pack_a_steps's two walks (below).  Eight steps at a time, panel by panel; bytes a
 * step's (fixed where the caller names it: vector moves) or 0 (mr values one by one).
 * Each size gets its own copy of the loops: with the choice inside them, GCC put the
 * moves out of the loop's line, two taken branches a step, and their speed hung on
 * where the loop fell (this function 8 -> 11.6 % of dy^T x of 1024 x 384 -> 128 when
 * unrelated code moved it; Zen 3). */
static inline __attribute__((always_inline)) void FN(pack_a_eights)(size_t mr, size_t whole, size_t kc,
                                                                    const T *a, ptrdiff_t cs_a,
                                                                    T *restrict ap, size_t bytes)
{
  for (size_t p0 = 0; p0 < kc; p0 += 8) {
    const size_t pe = p0 + 8 < kc ? p0 + 8 : kc;
    for (size_t i0 = 0; i0 < whole; i0 += mr) {
      T *dst = ap + i0 * kc + p0 * mr;
      for (size_t p = p0; p < pe; p++, dst += mr) {
        const T *src = a + (ptrdiff_t)p * cs_a + i0;
        if (bytes) memcpy(dst, src, bytes);
        else for (size_t i = 0; i < mr; i++) dst[i] = src[i];
      }
    }
  }
}

/* A step (a row of the view) at a time, cut into the panels' steps; bytes as above. */
static inline __attribute__((always_inline)) void FN(pack_a_rows)(size_t mr, size_t mc, size_t whole,
                                                                  size_t kc, const T *a, ptrdiff_t cs_a,
                                                                  T *restrict ap, size_t bytes)
{
  for (size_t p = 0; p < kc; p++) {
    const T *src = a + (ptrdiff_t)p * cs_a;
    T *dst = ap + p * mr;
    if (p + PACK_AHEAD < kc)
      for (size_t c = 0; c < mc; c += 64 / sizeof(T)) __builtin_prefetch(src + PACK_AHEAD * cs_a + c, 0, 3);
    for (size_t i0 = 0; i0 < whole; i0 += mr, dst += mr * kc)
      if (bytes) memcpy(dst, src + i0, bytes);
      else for (size_t i = 0; i < mr; i++) dst[i] = src[i0 + i];
  }
}

/* The whole panels of a block of a transposed view of A (its columns contiguous, rs_a =
 * 1: the dy of a weight gradient dy^T x).  Where a panel's k step (mr values) divides a
 * cache line: each k step's mc values, contiguous, are cut into the panels' steps, so
 * that the view's rows are read once, whole and in order, and each line of a panel is
 * written whole by consecutive steps.  Panel by panel instead, every step read mr
 * values of a row a row's length apart: GPT's weight gradients (k = 1024) ran 6-7 %
 * slower (Zen 4, AVX-512, side by side).  Where mr values straddle lines (AVX2's 6
 * values) that step-wise walk was the slower (0.85-0.94x: a panel's lines are then
 * written a piece at a time), and panel by panel each step's load waited on L2: eight
 * steps at a time instead, their eight rows read in L1 by every panel in turn, and each
 * panel's 8 mr values written whole (dy^T x of 1024 x 384 -> 128 and 512 -> 128 1-2 %
 * faster in float32 and 2-4 % in float64 on one and two threads, 128 -> 512 within
 * -1 %, Zen 4 running AVX2, side by side).  Returns the rows packed. */
static size_t FN(pack_a_steps)(size_t mr, size_t mc, size_t kc, const T *a, ptrdiff_t cs_a,
                               T *restrict ap)
{
  const size_t whole = mc - mc % mr, step = mr * sizeof(T);
  if (64 % step) {
    switch (step) {
    case 24: FN(pack_a_eights)(mr, whole, kc, a, cs_a, ap, 24); break;
    case 48: FN(pack_a_eights)(mr, whole, kc, a, cs_a, ap, 48); break;
    default: FN(pack_a_eights)(mr, whole, kc, a, cs_a, ap, 0);
    }
    return whole;
  }
  switch (step) {
  case 16: FN(pack_a_rows)(mr, mc, whole, kc, a, cs_a, ap, 16); break;
  case 32: FN(pack_a_rows)(mr, mc, whole, kc, a, cs_a, ap, 32); break;
  case 64: FN(pack_a_rows)(mr, mc, whole, kc, a, cs_a, ap, 64); break;
  default: FN(pack_a_rows)(mr, mc, whole, kc, a, cs_a, ap, 0);
  }
  return whole;
}

/* A block (mc x kc) -> ceil(mc/mr) panels, each kc columns of mr values, zero-padded.
 * Rows of A contiguous (the usual layout) go through the ISA's pack kernel, a transpose
 * in registers, when it has one; a transposed view's whole panels through
 * pack_a_steps (its last, partial one value by value, as any other layout's). */
static void FN(pack_a)(const CONFIG *cfg, size_t mc, size_t kc, const T *a, ptrdiff_t rs_a,
                       ptrdiff_t cs_a, T *restrict ap)
{
  const size_t mr = cfg->mr;
  const size_t done = rs_a == 1 ? FN(pack_a_steps)(mr, mc, kc, a, cs_a, ap) : 0;
  ap += done * kc;
  for (size_t i0 = done; i0 < mc; i0 += mr) {
    size_t mb = mc - i0 < mr ? mc - i0 : mr;
    if (cs_a == 1 && cfg->pack) {
      cfg->pack(mb, kc, FN(at)(a, i0, rs_a, 0, cs_a), rs_a, mr, ap);
    } else {
      for (size_t i = 0; i < mb; i++) { /* rows of A contiguous (cs_a == 1) or neither */
        const T *src = FN(at)(a, i0 + i, rs_a, 0, cs_a);
        for (size_t p = 0; p < kc; p++) ap[p * mr + i] = src[(ptrdiff_t)p * cs_a];
      }
      for (size_t i = mb; i < mr; i++)
        for (size_t p = 0; p < kc; p++) ap[p * mr + i] = 0;
    }
    ap += mr * kc;
  }
}

/* pack_b's rows (B's rows contiguous), each cut into the panels' rows; bytes a panel
 * row's where whole panel rows are one or two cache lines (the x86 tiles), copied by a
 * fixed-size move: straight-line 16-byte moves (this file has no ISA flags), where the
 * fours below are a loop of them (dy^T x of 1024 x 128 -> 128 and -> 512 float32
 * 0.8-1.3 % slower with the loop, Zen 4, AVX2 and AVX-512, side by side); 0 otherwise.
 * Each size its own copy of the loops, as pack_a_steps's walks. */
static inline __attribute__((always_inline)) void FN(pack_b_rows)(size_t nr, size_t kc, size_t nc,
                                                                  size_t jp_lo, size_t jp_hi, const T *b,
                                                                  ptrdiff_t rs_b, T *restrict bp, size_t bytes)
{
  const size_t c_lo = jp_lo * nr, c_hi = jp_hi * nr < nc ? jp_hi * nr : nc;
  for (size_t p = 0; p < kc; p++) {
    const T *src = b + (ptrdiff_t)p * rs_b;
    if (p + PACK_AHEAD < kc) /* the same columns of a row PACK_AHEAD rows on */
      for (size_t c = c_lo; c < c_hi; c += 64 / sizeof(T))
        __builtin_prefetch(src + PACK_AHEAD * rs_b + c, 0, 3);
    for (size_t jp = jp_lo; jp < jp_hi; jp++) {
      size_t j0 = jp * nr, nb = nc - j0 < nr ? nc - j0 : nr;
      T *dst = bp + j0 * kc + p * nr;
      if (bytes && __builtin_expect(nb == nr, 1)) /* (in line: all but the last panel) */
        memcpy(dst, src + j0, bytes);
      else if (nb == nr) /* in fours: the compiler keeps it inline instead of calling memmove */
        for (size_t j = 0; j < nr; j += 4) {
          T v0 = src[j0 + j], v1 = src[j0 + j + 1], v2 = src[j0 + j + 2], v3 = src[j0 + j + 3];
          dst[j] = v0, dst[j + 1] = v1, dst[j + 2] = v2, dst[j + 3] = v3;
        }
      else { /* the last panel, nb < nr columns: its values, then zeros */
        size_t j = 0;
        for (; j < nb; j++) dst[j] = src[j0 + j];
        for (; j < nr; j++) dst[j] = 0;
      }
    }
  }
}

/* Panels jp_lo..jp_hi-1 of a block of B (kc x nc) -> each kc rows of nr values,
 * zero-padded past nc; panel jp lands at bp + jp * nr * kc.  B's rows are read whole,
 * left to right, for every panel at once: a panel at a time would read one short piece
 * of each row (64 bytes in 4 KiB steps at n = 1024), a cache line from L3 per row that
 * no prefetcher follows across pages (measured: packing B was 4 % of sgemm 1024^3). */
static void FN(pack_b)(const CONFIG *cfg, size_t kc, size_t nc, size_t jp_lo, size_t jp_hi,
                       const T *b, ptrdiff_t rs_b, ptrdiff_t cs_b, T *restrict bp)
{
  const size_t nr = cfg->nr;
  if (cs_b == 1 && nr % 4 == 0) {
    switch (nr * sizeof(T)) {
    case 64: FN(pack_b_rows)(nr, kc, nc, jp_lo, jp_hi, b, rs_b, bp, 64); break;
    case 128: FN(pack_b_rows)(nr, kc, nc, jp_lo, jp_hi, b, rs_b, bp, 128); break;
    default: FN(pack_b_rows)(nr, kc, nc, jp_lo, jp_hi, b, rs_b, bp, 0);
    }
    return;
  }
  for (size_t jp = jp_lo; jp < jp_hi; jp++) {
    size_t j0 = jp * nr, nb = nc - j0 < nr ? nc - j0 : nr;
    const T *bj = FN(at)(b, 0, rs_b, j0, cs_b);
    T *dst = bp + j0 * kc;
    if (rs_b == 1 && cfg->pack) { /* op(B) is a transposed view (x @ W^T): columns contiguous */
      cfg->pack(nb, kc, bj, cs_b, nr, dst);
      continue;
    }
    for (size_t p = 0; p < kc; p++, dst += nr) {
      const T *src = FN(at)(bj, p, rs_b, 0, cs_b);
      size_t j = 0;
      for (; j < nb; j++) dst[j] = src[(ptrdiff_t)j * cs_b];
      for (; j < nr; j++) dst[j] = 0;
    }
  }
}
