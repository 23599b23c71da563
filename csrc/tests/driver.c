/*
 * The C test driver: every SIMD kernel in the table of every ISA this CPU runs is
 * compared with the scalar kernel (the oracle), and every GEMM with a double-precision
 * reference.  Outputs are pre-filled with NaN so an unwritten element shows, and carry
 * guard elements past the end that must come back untouched.  Built natively, under
 * sanitizers, and for aarch64 under qemu (make test-c / test-asan / test-neon).
 *
 * Exit status 1 on any failure; the last line is "N passed, N failed".
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "nnk.h"
#include "nnk_kernels.h"

static long passed, failed;

#define CHECK(cond, ...)                                                           \
  do {                                                                             \
    if (cond) {                                                                    \
      passed++;                                                                    \
    } else {                                                                       \
      if (failed++ < 40) {                                                         \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
        fprintf(stderr, __VA_ARGS__);                                              \
        fputc('\n', stderr);                                                       \
      }                                                                            \
    }                                                                              \
  } while (0)

/* ---- deterministic inputs ------------------------------------------------ */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double uniform(double lo, double hi)
{
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return lo + (hi - lo) * ((double)(rng_state >> 11) / 9007199254740992.0);
}

/* ---- ULP distance -------------------------------------------------------- */
static int64_t ordered64(double x)
{
  int64_t i;
  memcpy(&i, &x, 8);
  return i < 0 ? INT64_MIN - i : i;
}
static int64_t ordered32(float x)
{
  int32_t i;
  memcpy(&i, &x, 4);
  return i < 0 ? (int64_t)INT32_MIN - i : i;
}
/* Distance in ULPs of the given type; NaN vs NaN is 0, NaN vs number is huge. */
static int64_t ulps(double a, double b, int is_f32)
{
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0 : INT64_MAX;
  if (a == b) return 0;
  int64_t d = is_f32 ? ordered32((float)a) - ordered32((float)b) : ordered64(a) - ordered64(b);
  return d < 0 ? -d : d;
}

/* ---- buffers with guards ------------------------------------------------- */
#define GUARD 16
static const uint8_t GUARD_BYTE = 0xA5;

/* Under AddressSanitizer the guard is also poisoned: a kernel that *reads* past an
 * operand's end (which the guard bytes alone cannot show) is reported at once. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* n elements of size esz followed by GUARD elements of guard bytes; contents NaN. */
static void *guarded(size_t n, size_t esz)
{
  uint8_t *p = malloc((n + GUARD) * esz);
  if (!p) abort();
  for (size_t i = 0; i < n; i++) {
    if (esz == 4) ((float *)p)[i] = NAN;
    else ((double *)p)[i] = NAN;
  }
  memset(p + n * esz, GUARD_BYTE, GUARD * esz);
  POISON(p + n * esz, GUARD * esz);
  return p;
}
static int guard_intact(const void *p, size_t n, size_t esz)
{
  const uint8_t *g = (const uint8_t *)p + n * esz;
  UNPOISON(g, GUARD * esz);
  for (size_t i = 0; i < GUARD * esz; i++)
    if (g[i] != GUARD_BYTE) return 0;
  return 1;
}

/* ---- elementwise ------------------------------------------------------- */
/* Every kernel of the lists in nnk_kernels.h, with its bound and domain from there. */
typedef struct {
  int op;
  const char *name;
  int64_t ulp;
  double lo, hi;
} entry;
#define ENTRY_(E, name, ulp, lo, hi, ...) {NNK_##E, #name, ulp, lo, hi},
static const entry map_list[] = {NNK_MAP_LIST(ENTRY_, )};
static const entry pmap_list[] = {NNK_PMAP_LIST(ENTRY_, )};
static const entry grad_list[] = {NNK_GRAD_LIST(ENTRY_, )};
static const entry pgrad_list[] = {NNK_PGRAD_LIST(ENTRY_, )};
#define COUNT(a) (sizeof(a) / sizeof *(a))

/* Special values appended by fill(): signed zeros, infinities, NaN, denormals, the
 * edges of float and double under- and overflow. */
static const double specials[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1e-40, -1e-40,
                                  1e30, -1e30, 88.7, -103.9, 709.8, -745.2, 0.5, -0.5};
#define NSPECIALS (sizeof specials / sizeof specials[0])

static void fill(double *x, size_t n, double lo, double hi)
{
  for (size_t i = 0; i < n; i++) x[i] = uniform(lo, hi);
  /* every few lengths, specials take the first slots so tails see them too */
  for (size_t i = 0; i < n && i < NSPECIALS; i++)
    if ((n + i) % 3 == 0) x[i] = specials[(n + i) % NSPECIALS];
}

#define MAXN 67 /* every tail length of every vector width, and some whole vectors */
#define PARAM 0.2 /* the parameter of the parametrised maps (leaky ReLU's slope) */

/* One map (pmap: with the parameter) of the ISA against scalar, both dtypes, every length. */
static void test_map(const nnk_kernel_table *ref, const nnk_kernel_table *t, const entry *e,
                     int pmap, double lo, double hi)
{
  for (size_t n = 0; n <= MAXN; n++) {
    double xd[MAXN];
    fill(xd, n, lo, hi);
    float xf[MAXN], *yf = guarded(n, 4), *rf = guarded(n, 4);
    double *yd = guarded(n, 8), *rd = guarded(n, 8);
    for (size_t i = 0; i < n; i++) xf[i] = (float)xd[i];
    if (pmap) {
      t->f32.pmap[e->op](n, xf, yf, (float)PARAM), ref->f32.pmap[e->op](n, xf, rf, (float)PARAM);
      t->f64.pmap[e->op](n, xd, yd, PARAM), ref->f64.pmap[e->op](n, xd, rd, PARAM);
    } else {
      t->f32.map[e->op](n, xf, yf), ref->f32.map[e->op](n, xf, rf);
      t->f64.map[e->op](n, xd, yd), ref->f64.map[e->op](n, xd, rd);
    }
    int64_t worst32 = 0, worst64 = 0;
    size_t at32 = 0, at64 = 0;
    for (size_t i = 0; i < n; i++) {
      int64_t u32 = ulps(yf[i], rf[i], 1), u64 = ulps(yd[i], rd[i], 0);
      if (u32 > worst32) worst32 = u32, at32 = i;
      if (u64 > worst64) worst64 = u64, at64 = i;
    }
    CHECK(worst32 <= e->ulp, "%s f32 %s n=%zu: %lld ULP at x=%.9g (%.9g vs %.9g)",
          nnk_isa_name(t->isa), e->name, n, (long long)worst32, xf[at32], yf[at32], rf[at32]);
    CHECK(worst64 <= e->ulp, "%s f64 %s n=%zu: %lld ULP at x=%.17g (%.17g vs %.17g)",
          nnk_isa_name(t->isa), e->name, n, (long long)worst64, xd[at64], yd[at64], rd[at64]);
    CHECK(guard_intact(yf, n, 4) && guard_intact(yd, n, 8), "%s %s n=%zu wrote past the end",
          nnk_isa_name(t->isa), e->name, n);
    /* in place gives the same as out of place */
    double inplace[MAXN];
    memcpy(inplace, xd, n * sizeof(double));
    if (pmap) t->f64.pmap[e->op](n, inplace, inplace, PARAM);
    else t->f64.map[e->op](n, inplace, inplace);
    CHECK(n == 0 || memcmp(inplace, yd, n * sizeof(double)) == 0, "%s %s in place differs",
          nnk_isa_name(t->isa), e->name);
    free(yf), free(rf), free(yd), free(rd);
  }
}

/* Gradients: within the list's ULP bound, or close relative to the size of the terms. */
static int grad_close(double a, double b, double x, double dy, int is_f32, int64_t ulp)
{
  if (ulps(a, b, is_f32) <= ulp) return 1;
  double eps = is_f32 ? 1.2e-7 : 2.3e-16;
  return fabs(a - b) <= 16 * eps * fabs(dy) * (1 + fabs(x));
}

static void test_grad(const nnk_kernel_table *ref, const nnk_kernel_table *t, const entry *e,
                      int pgrad, double lo, double hi)
{
  for (size_t n = 0; n <= MAXN; n++) {
    double ud[MAXN], gd[MAXN];
    fill(ud, n, lo, hi);
    fill(gd, n, -3, 3);
    float uf[MAXN], gf[MAXN], *yf = guarded(n, 4), *rf = guarded(n, 4);
    double *yd = guarded(n, 8), *rd = guarded(n, 8);
    for (size_t i = 0; i < n; i++) uf[i] = (float)ud[i], gf[i] = (float)gd[i];
    if (pgrad) {
      t->f32.pgrad[e->op](n, uf, gf, yf, (float)PARAM), ref->f32.pgrad[e->op](n, uf, gf, rf, (float)PARAM);
      t->f64.pgrad[e->op](n, ud, gd, yd, PARAM), ref->f64.pgrad[e->op](n, ud, gd, rd, PARAM);
    } else {
      t->f32.grad[e->op](n, uf, gf, yf), ref->f32.grad[e->op](n, uf, gf, rf);
      t->f64.grad[e->op](n, ud, gd, yd), ref->f64.grad[e->op](n, ud, gd, rd);
    }
    int ok = 1;
    for (size_t i = 0; i < n; i++)
      ok &= grad_close(yf[i], rf[i], uf[i], gf[i], 1, e->ulp) &&
            grad_close(yd[i], rd[i], ud[i], gd[i], 0, e->ulp);
    CHECK(ok, "%s %s n=%zu differs from scalar", nnk_isa_name(t->isa), e->name, n);
    CHECK(guard_intact(yf, n, 4) && guard_intact(yd, n, 8), "%s %s n=%zu wrote past the end",
          nnk_isa_name(t->isa), e->name, n);
    free(yf), free(rf), free(yd), free(rd);
  }
}

static void test_elementwise(const nnk_kernel_table *ref, const nnk_kernel_table *t)
{
  /* each on the list's domain, then on its central two thirds, third and sixteenth: a
   * kernel may take other paths for vectors whose every lane is small (on AVX-512: GELU
   * below 5 and 7.75, its gradient below 8, each also with small and large lanes
   * together; sigmoid below 7.99, which only the sixteenth of its domain keeps to) */
  static const double shrink[] = {1, 1.5, 3, 16};
  for (size_t s = 0; s < COUNT(shrink); s++) {
#define DOMAIN(e) (e).lo / shrink[s], (e).hi / shrink[s]
    for (size_t i = 0; i < COUNT(map_list); i++) test_map(ref, t, &map_list[i], 0, DOMAIN(map_list[i]));
    for (size_t i = 0; i < COUNT(pmap_list); i++) test_map(ref, t, &pmap_list[i], 1, DOMAIN(pmap_list[i]));
    for (size_t i = 0; i < COUNT(grad_list); i++) test_grad(ref, t, &grad_list[i], 0, DOMAIN(grad_list[i]));
    for (size_t i = 0; i < COUNT(pgrad_list); i++) test_grad(ref, t, &pgrad_list[i], 1, DOMAIN(pgrad_list[i]));
#undef DOMAIN
  }
}

/* The non-temporal maps and gradients (map_nt, grad_nt) give bitwise what the regular
 * ones give, at every offset of the output from an aligned vector, every tail and in
 * place, writing nothing outside [out, out + n): out at element `off` of a guarded
 * buffer whose other elements must keep their NaN bits. */
static void test_nt_one(const nnk_kernel_table *t, const entry *e, int grad, int f64, size_t n,
                        size_t off, const double *xd, const double *gd)
{
  const size_t esz = f64 ? 8 : 4, w = f64 ? 8 : 16; /* offsets up to the widest vector */
  uint8_t *in = malloc((n + w) * esz), *dy = malloc((n + w) * esz), *want = malloc(n * esz + 1);
  uint8_t *buf = guarded(n + w, esz), *same = guarded(n + w, esz);
  if (!in || !dy || !want) abort();
  for (size_t i = 0; i < n; i++) {
    if (f64) ((double *)in)[off + i] = xd[i], ((double *)dy)[off + i] = gd[i];
    else ((float *)in)[off + i] = (float)xd[i], ((float *)dy)[off + i] = (float)gd[i];
  }
  uint8_t *x = in + off * esz, *g = dy + off * esz, *out = buf + off * esz;
#define MAP_(K, y)                                                                        \
  (f64 ? t->f64.K[e->op](n, (double *)x, (double *)(y)) : t->f32.K[e->op](n, (float *)x, (float *)(y)))
#define GRAD_(K, y)                                                                       \
  (f64 ? t->f64.K[e->op](n, (double *)x, (double *)g, (double *)(y))                      \
       : t->f32.K[e->op](n, (float *)x, (float *)g, (float *)(y)))
#define RUN_(K, y) (grad ? GRAD_(grad##K, y) : MAP_(map##K, y))
  RUN_(, want);
  RUN_(_nt, out);
  CHECK(n == 0 || memcmp(out, want, n * esz) == 0, "%s %s_nt f%d n=%zu at offset %zu differs from %s",
        nnk_isa_name(t->isa), e->name, f64 ? 64 : 32, n, off, e->name);
  CHECK(guard_intact(buf, n + w, esz) && memcmp(buf, same, off * esz) == 0 &&
            memcmp(out + n * esz, same, (w - off) * esz) == 0,
        "%s %s_nt f%d n=%zu at offset %zu wrote outside its output", nnk_isa_name(t->isa),
        e->name, f64 ? 64 : 32, n, off);
  /* in place: the output over its input (a gradient's over u) */
  RUN_(_nt, x);
  CHECK(n == 0 || memcmp(x, want, n * esz) == 0, "%s %s_nt f%d n=%zu at offset %zu in place differs",
        nnk_isa_name(t->isa), e->name, f64 ? 64 : 32, n, off);
#undef RUN_
#undef GRAD_
#undef MAP_
  guard_intact(same, n + w, esz);
  free(in), free(dy), free(want), free(buf), free(same);
}

/* Whether a dtype's layer has non-temporal stores, so _nt kernels (AVX2's float64 has none). */
static int has_nt(const nnk_kernel_table *t, int f64) { return f64 ? t->f64.map_nt[0] != NULL : t->f32.map_nt[0] != NULL; }

static void test_elementwise_nt(const nnk_kernel_table *t)
{
  if (!has_nt(t, 0) && !has_nt(t, 1)) return;
  static const size_t lengths[] = {0, 1, 15, 16, 17, 63, 64, 65, 66, 67, 95, 127, 128, 129, 1000, 1031};
  enum { MOST = 1031 };
  static double xd[MOST], gd[MOST];
  for (int grad = 0; grad <= 1; grad++) {
    const entry *list = grad ? grad_list : map_list;
    size_t count = grad ? COUNT(grad_list) : COUNT(map_list);
    for (size_t k = 0; k < count; k++)
      for (int shrink = 1; shrink <= 16; shrink *= 16) /* small-lane paths too */
        for (size_t li = 0; li < COUNT(lengths); li++) {
          size_t n = lengths[li];
          fill(xd, n, list[k].lo / shrink, list[k].hi / shrink);
          fill(gd, n, -3, 3);
          for (int f64 = 0; f64 <= 1; f64++)
            for (size_t off = 0; has_nt(t, f64) && off < (f64 ? 8u : 16u); off++)
              test_nt_one(t, &list[k], grad, f64, n, off, xd, gd);
        }
  }
}

#define ROWS_ENTRY_(E, name, per_row, ...) {NNK_##E, #name, per_row},
static const struct {
  int op;
  const char *name;
  int per_row;
} rows_list[] = {NNK_ROWS_LIST(ROWS_ENTRY_, )};

static void test_rows(const nnk_kernel_table *ref, const nnk_kernel_table *t)
{
  const size_t rows = 3;
  for (size_t n = 0; n <= 41; n++) {
    size_t total = rows * n;
    double xd[3 * 41];
    float xf[3 * 41];
    fill(xd, total, -30, 30);
    for (size_t i = 0; i < total; i++) {
      if (isnan(xd[i]) || xd[i] == INFINITY) xd[i] = 1.0; /* specials are tested from Python */
      xf[i] = (float)xd[i];
    }
    for (size_t r = 0; r < COUNT(rows_list); r++) {
      int op = rows_list[r].op, log_scale = op != NNK_SOFTMAX; /* values near 1 in size */
      size_t outn = rows_list[r].per_row ? rows : total;
      double *yd = guarded(outn, 8), *rd = guarded(outn, 8);
      float *yf = guarded(outn, 4), *rf = guarded(outn, 4);
      t->f64.rows[op](rows, n, xd, yd), ref->f64.rows[op](rows, n, xd, rd);
      t->f32.rows[op](rows, n, xf, yf), ref->f32.rows[op](rows, n, xf, rf);
      int ok = 1;
      for (size_t i = 0; i < outn; i++) {
        /* sums of n terms in another order: n + 4 roundings, relative to the value */
        double tol64 = (n + 4) * 2.3e-16 * (fabs(rd[i]) + log_scale) + 1e-300;
        double tol32 = (n + 4) * 1.2e-7 * (fabs(rf[i]) + log_scale) + 1e-38;
        ok &= (ulps(yd[i], rd[i], 0) == 0 || fabs(yd[i] - rd[i]) <= tol64) &&
              (ulps(yf[i], rf[i], 1) == 0 || fabs(yf[i] - rf[i]) <= tol32);
      }
      CHECK(ok, "%s %s n=%zu differs from scalar", nnk_isa_name(t->isa), rows_list[r].name, n);
      CHECK(guard_intact(yd, outn, 8) && guard_intact(yf, outn, 4), "%s %s n=%zu overran",
            nnk_isa_name(t->isa), rows_list[r].name, n);
      free(yd), free(rd), free(yf), free(rf);
    }
  }
}

/* Softmax gradients from a softmax (or log-softmax) output y, against scalar. */
static void test_rows_grad(const nnk_kernel_table *ref, const nnk_kernel_table *t)
{
  const size_t rows = 3;
  for (int op = 0; op < NNK_ROWS_GRAD_COUNT; op++)
    for (size_t n = 0; n <= 41; n++) {
      size_t total = rows * n;
      double yd[3 * 41], gd[3 * 41];
      float yf[3 * 41], gf[3 * 41];
      for (size_t i = 0; i < total; i++) {
        double p = uniform(0.001, 1) / (double)n; /* a probability, or its log */
        yd[i] = op == NNK_SOFTMAX_GRAD ? p : log(p), gd[i] = uniform(-3, 3);
        yf[i] = (float)yd[i], gf[i] = (float)gd[i];
      }
      double *dd = guarded(total, 8), *rd = guarded(total, 8);
      float *df = guarded(total, 4), *rf = guarded(total, 4);
      t->f64.rows_grad[op](rows, n, yd, gd, dd), ref->f64.rows_grad[op](rows, n, yd, gd, rd);
      t->f32.rows_grad[op](rows, n, yf, gf, df), ref->f32.rows_grad[op](rows, n, yf, gf, rf);
      int ok = 1;
      for (size_t i = 0; i < total; i++) /* a sum of n terms in another order, times y */
        ok &= fabs(dd[i] - rd[i]) <= (n + 4) * 2.3e-16 * 3 * (1 + fabs(yd[i]) * n) &&
              fabs(df[i] - rf[i]) <= (n + 4) * 1.2e-7 * 3 * (1 + fabs(yf[i]) * n);
      CHECK(ok, "%s rows grad %d n=%zu differs from scalar", nnk_isa_name(t->isa), op, n);
      CHECK(guard_intact(dd, total, 8) && guard_intact(df, total, 4), "%s rows grad %d n=%zu overran",
            nnk_isa_name(t->isa), op, n);
      free(dd), free(rd), free(df), free(rf);
    }
}

/* ---- losses and optimiser steps ----------------------------------------- */
#define LOSS_ENTRY_(E, name, lo, hi, ...) {NNK_##E, #name, 0, lo, hi},
static const entry loss_list[] = {NNK_LOSS_LIST(LOSS_ENTRY_, )};

static void test_losses(const nnk_kernel_table *ref, const nnk_kernel_table *t)
{
  for (size_t l = 0; l < COUNT(loss_list); l++)
    for (size_t n = 0; n <= MAXN; n++) {
      const entry *e = &loss_list[l];
      int op = e->op;
      double y[MAXN], tg[MAXN];
      fill(y, n, e->lo, e->hi);
      fill(tg, n, 0, 1);
      for (size_t i = 0; i < n; i++) /* inputs in the loss's domain; specials by tests in Python */
      {
        if (!(y[i] >= e->lo && y[i] <= e->hi)) y[i] = 0.25;
        if (!(tg[i] >= 0 && tg[i] <= 1)) tg[i] = 0.75; /* targets are probabilities */
      }
      double *ed = guarded(n, 8), *er = guarded(n, 8), *gd = guarded(n, 8), *gr = guarded(n, 8);
      double sd = t->f64.loss[op](n, y, tg, ed), sr = ref->f64.loss[op](n, y, tg, er);
      t->f64.loss_grad[op](n, y, tg, 0.5, gd), ref->f64.loss_grad[op](n, y, tg, 0.5, gr);
      int ok = fabs(sd - sr) <= (n + 4) * 2.3e-16 * (fabs(sr) + 1);
      /* 4 ULP, or relative to the terms, which cancel in bce_logits (max(x,0) - x t + ...) */
      for (size_t i = 0; i < n; i++)
        ok &= (ulps(ed[i], er[i], 0) <= 4 || fabs(ed[i] - er[i]) <= 8 * 2.3e-16 * (1 + fabs(y[i]))) &&
              (ulps(gd[i], gr[i], 0) <= 4 || fabs(gd[i] - gr[i]) <= 8 * 2.3e-16 * (1 + fabs(y[i])));
      CHECK(ok, "%s loss %s n=%zu differs from scalar", nnk_isa_name(t->isa), e->name, n);
      CHECK(guard_intact(ed, n, 8) && guard_intact(gd, n, 8), "%s loss %s n=%zu overran",
            nnk_isa_name(t->isa), e->name, n);
      free(ed), free(er), free(gd), free(gr);
    }
}

static void test_optim(const nnk_kernel_table *ref, const nnk_kernel_table *t)
{
  for (size_t n = 0; n <= MAXN; n++)
    for (int variant = 0; variant < 14; variant++) {
      /* 0: plain SGD, 1: momentum, 2: Nesterov + weight decay, 3: Adam, 4: AdamW,
       * 5: RMSprop, 6: centred RMSprop with momentum and weight decay (m: the gradient
       * average, a third state: the momentum buffer), 7: Adagrad, 8: with weight decay,
       * 9: AMSGrad (the third state: the running maximum of v, some lanes above v and
       * some below), 10: AMSGrad maximising with AdamW's decay; maximising: 11 SGD with
       * momentum, dampening and weight decay, 12 variant 6, 13 Adagrad with decay */
      const int up = variant >= 10 ? NNK_STEP_MAXIMIZE : 0;
      double p0[MAXN], g[MAXN], m0[MAXN], v0[MAXN];
      fill(p0, n, -1, 1), fill(g, n, -1, 1), fill(m0, n, -1, 1), fill(v0, n, 0, 1);
      for (size_t i = 0; i < n; i++) {
        if (!isfinite(p0[i])) p0[i] = 0.5;
        if (!isfinite(g[i])) g[i] = 0.5;
        if (!isfinite(m0[i])) m0[i] = 0.5;
        v0[i] = fabs(v0[i]) > 1 || !isfinite(v0[i]) ? 0.5 : fabs(v0[i]);
      }
      if (variant == 6 || variant == 12) /* centred: v >= gavg^2 keeps the square root real */
        for (size_t i = 0; i < n; i++) m0[i] = 0.5 * sqrt(v0[i]) * (i % 2 ? 1 : -1);
      double *p[2], *m[2], *v[2], *b[2];
      for (int k = 0; k < 2; k++) {
        p[k] = guarded(n, 8), m[k] = guarded(n, 8), v[k] = guarded(n, 8), b[k] = guarded(n, 8);
        memcpy(p[k], p0, n * 8), memcpy(m[k], m0, n * 8), memcpy(v[k], v0, n * 8);
        memcpy(b[k], g, n * 8);
        if (variant == 9 || variant == 10)
          for (size_t i = 0; i < n; i++) b[k][i] = fabs(g[i]) * 0.5;
      }
      const nnk_kernel_table *tab[2] = {t, ref};
      for (int k = 0; k < 2; k++) {
        const int centred = variant == 6 || variant == 12;
        if (variant == 5 || centred)
          tab[k]->f64.rmsprop_step(n, p[k], g, v[k], centred ? m[k] : NULL, centred ? b[k] : NULL,
                                   0.01, 0.99, 1e-8, centred ? 0.01 : 0, centred ? 0.9 : 0, up);
        else if (variant == 7 || variant == 8 || variant == 13)
          tab[k]->f64.adagrad_step(n, p[k], g, v[k], 0.01, 1e-10, variant == 7 ? 0 : 0.01, up);
        else if (variant >= 3 && variant <= 10)
          tab[k]->f64.adam_step(n, p[k], g, m[k], v[k], variant >= 9 ? b[k] : NULL, 1e-3, 0.9,
                                0.999, 1e-8, 0.1, 0.001, 0.01,
                                (variant == 4 || variant == 10 ? NNK_ADAM_DECOUPLED : 0) | up);
        else
          tab[k]->f64.sgd_step(n, p[k], g, variant ? v[k] : NULL, 0.1, 0.9, variant == 11 ? 0.3 : 0,
                               variant >= 2 ? 0.01 : 0, (variant == 2 ? NNK_SGD_NESTEROV : 0) | up);
      }
      int ok = 1;
      for (size_t i = 0; i < n; i++)
        ok &= ulps(p[0][i], p[1][i], 0) <= 2 && ulps(m[0][i], m[1][i], 0) == 0 &&
              ulps(v[0][i], v[1][i], 0) <= 1 && ulps(b[0][i], b[1][i], 0) <= 2;
      CHECK(ok, "%s optimiser variant %d n=%zu differs from scalar", nnk_isa_name(t->isa), variant, n);
      CHECK(guard_intact(p[0], n, 8) && guard_intact(m[0], n, 8) && guard_intact(v[0], n, 8) &&
                guard_intact(b[0], n, 8),
            "%s optimiser variant %d n=%zu overran", nnk_isa_name(t->isa), variant, n);
      for (int k = 0; k < 2; k++) free(p[k]), free(m[k]), free(v[k]), free(b[k]);
    }
}

/* ---- Layers' row kernels (NNK_ROW_LAYER_LIST) ------------------------------ */

/* a close to b: within a few roundings of `mag`, the size of the terms summed. */
static int near(double a, double b, double mag, int is_f32)
{
  double eps = is_f32 ? 1.2e-7 : 2.3e-16;
  return (isnan(a) && isnan(b)) || fabs(a - b) <= 8 * eps * (mag + fabs(b)) + 1e-300;
}

/* LayerNorm forward and backward and the fused cross-entropy of the ISA against scalar,
 * both dtypes, every row length up to MAXN, with and without the optional operands (gamma
 * and beta, gamma alone: LayerNorm(bias=False), neither),
 * rows of different scales (means far from zero: the two-pass variance), guards after
 * every output.  Seven rows: the forward's group of four rows side by side and a rest
 * of three taken one by one. */
static void test_row_layers(const nnk_kernel_table *ref, const nnk_kernel_table *t)
{
  enum { ROWS = 7 };
  for (int is_f32 = 0; is_f32 < 2; is_f32++)
    for (size_t n = 1; n <= MAXN; n++)
      for (int affine = 0; affine < 3; affine++) { /* 0: no gamma, beta; 1: both; 2: gamma alone */
        size_t esz = is_f32 ? 4 : 8, rn = ROWS * n;
        double x[ROWS * MAXN], gm[MAXN], bt[MAXN], dy[ROWS * MAXN];
        for (size_t i = 0; i < rn; i++) x[i] = uniform(-2, 2) + (i / n == 1 ? 1000.0 : i / n == 5 ? -300.0 : 0.0);
        for (size_t i = 0; i < rn; i++) dy[i] = uniform(-1, 1);
        for (size_t i = 0; i < n; i++) gm[i] = uniform(0.5, 1.5), bt[i] = uniform(-1, 1);
        /* operands in the dtype, one set per table (0: ISA, 1: scalar) */
        void *X = malloc(rn * esz), *G = malloc(n * esz), *B = malloc(n * esz), *DY = malloc(rn * esz);
        for (size_t i = 0; i < rn; i++) {
          if (is_f32) ((float *)X)[i] = (float)x[i], ((float *)DY)[i] = (float)dy[i];
          else ((double *)X)[i] = x[i], ((double *)DY)[i] = dy[i];
        }
        for (size_t i = 0; i < n; i++) {
          if (is_f32) ((float *)G)[i] = (float)gm[i], ((float *)B)[i] = (float)bt[i];
          else ((double *)G)[i] = gm[i], ((double *)B)[i] = bt[i];
        }
        void *Y[2], *MU[2], *RS[2], *DX[2], *DG[2], *DB[2], *L[2], *DL[2];
        int64_t labels[ROWS] = {(int64_t)(n - 1), -100, 0, (int64_t)(n / 2), (int64_t)(n - 1), 0, (int64_t)(n / 3)};
        for (int k = 0; k < 2; k++) {
          const nnk_kernel_table *tab = k ? ref : t;
          Y[k] = guarded(rn, esz), MU[k] = guarded(ROWS, esz), RS[k] = guarded(ROWS, esz);
          DX[k] = guarded(rn, esz), DG[k] = guarded(n, esz), DB[k] = guarded(n, esz);
          L[k] = guarded(ROWS, esz), DL[k] = guarded(rn, esz);
          memset(DG[k], 0, n * esz), memset(DB[k], 0, n * esz);
          const void *g = affine ? G : NULL, *b = affine == 1 ? B : NULL;
          if (is_f32) {
            tab->f32.layernorm(ROWS, n, X, g, b, 1e-5f, Y[k], MU[k], RS[k]);
            tab->f32.layernorm_grad(ROWS, n, X, g, MU[k], RS[k], DY, DX[k], affine ? DG[k] : NULL,
                                    affine == 1 ? DB[k] : NULL);
            tab->f32.cross_entropy(ROWS, n, X, labels, -100, 0.5f, L[k], affine ? DL[k] : NULL);
          } else {
            tab->f64.layernorm(ROWS, n, X, g, b, 1e-5, Y[k], MU[k], RS[k]);
            tab->f64.layernorm_grad(ROWS, n, X, g, MU[k], RS[k], DY, DX[k], affine ? DG[k] : NULL,
                                    affine == 1 ? DB[k] : NULL);
            tab->f64.cross_entropy(ROWS, n, X, labels, -100, 0.5, L[k], affine ? DL[k] : NULL);
          }
        }
#define AT(p, i) (is_f32 ? (double)((float *)(p))[i] : ((double *)(p))[i])
        /* x - mean loses |mean| / std of x's digits: that, not the kernels, sizes the
         * differences of two summation orders on the row offset by 1000 */
        double cond[ROWS], worst = 1;
        for (size_t r = 0; r < ROWS; r++)
          cond[r] = 1 + fabs(AT(MU[1], r)) * AT(RS[1], r), worst = cond[r] > worst ? cond[r] : worst;
        int ok = 1;
        for (size_t i = 0; i < rn; i++) {
          ok &= near(AT(Y[0], i), AT(Y[1], i), 4 * cond[i / n], is_f32);
          ok &= near(AT(DX[0], i), AT(DX[1], i), 4 * AT(RS[1], i / n) * cond[i / n], is_f32);
          if (affine) ok &= near(AT(DL[0], i), AT(DL[1], i), 1, is_f32);
        }
        for (size_t r = 0; r < ROWS; r++)
          ok &= near(AT(MU[0], r), AT(MU[1], r), 1000, is_f32) && near(AT(RS[0], r), AT(RS[1], r), AT(RS[1], r), is_f32) &&
                near(AT(L[0], r), AT(L[1], r), 4 + fabs(x[r * n]), is_f32);
        for (size_t i = 0; affine && i < n; i++)
          ok &= near(AT(DG[0], i), AT(DG[1], i), 8 * worst, is_f32) && near(AT(DB[0], i), AT(DB[1], i), 3, is_f32);
        ok &= AT(L[0], 1) == 0; /* the ignored row */
        for (size_t i = 0; affine && i < n; i++) ok &= AT(DL[0], n + i) == 0;
#undef AT
        int guards = guard_intact(Y[0], rn, esz) && guard_intact(MU[0], ROWS, esz) &&
                     guard_intact(RS[0], ROWS, esz) && guard_intact(DX[0], rn, esz) &&
                     guard_intact(DG[0], n, esz) && guard_intact(DB[0], n, esz) &&
                     guard_intact(L[0], ROWS, esz) && guard_intact(DL[0], rn, esz);
        CHECK(ok && guards, "%s %s layernorm / cross_entropy n=%zu affine=%d differ from scalar%s",
              nnk_isa_name(t->isa), is_f32 ? "f32" : "f64", n, affine, guards ? "" : " (overran)");
        for (int k = 0; k < 2; k++)
          free(Y[k]), free(MU[k]), free(RS[k]), free(DX[k]), free(DG[k]), free(DB[k]), free(L[k]), free(DL[k]);
        free(X), free(G), free(B), free(DY);
      }
}

/* Causal attention (NNK_ATTENTION_LIST) of the ISA against scalar: both dtypes, head
 * sizes across every vector tail and past four vectors (the sums' register blocks), rows
 * of 1 to 70 scores (every count of key vectors left after the blocks of four, on
 * every W up to 16, and a partial last one), forward (o, lse) and backward
 * (dq, dk, dv) read from and written into packed (B, len, 3C) rows, guards after each. */
static void test_attention(const nnk_kernel_table *ref, const nnk_kernel_table *t)
{
  static const size_t lens[] = {1, 2, 5, 9, 15, 31, 40, 70}, Ds[] = {1, 3, 8, 13, 17, 33, 67};
  const size_t B = 2, H = 2;
  for (int is_f32 = 0; is_f32 < 2; is_f32++)
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++)
      for (size_t di = 0; di < sizeof Ds / sizeof *Ds; di++) {
        size_t len = lens[li], D = Ds[di], C = H * D, esz = is_f32 ? 4 : 8;
        size_t nq = B * len * 3 * C, no = B * len * C, nl = B * H * len;
        void *qkv = malloc(nq * esz), *dout = malloc(no * esz);
        for (size_t i = 0; i < nq; i++) {
          double v = uniform(-2, 2);
          if (is_f32) ((float *)qkv)[i] = (float)v;
          else ((double *)qkv)[i] = v;
        }
        for (size_t i = 0; i < no; i++) {
          double v = uniform(-1, 1);
          if (is_f32) ((float *)dout)[i] = (float)v;
          else ((double *)dout)[i] = v;
        }
        void *O[2], *L[2], *DQ[2], *S = malloc(NNK_ATTENTION_SCRATCH(len, D, 1) * esz);
        for (int k = 0; k < 2; k++) {
          const nnk_kernel_table *tab = k ? ref : t;
          O[k] = guarded(no, esz), L[k] = guarded(nl, esz), DQ[k] = guarded(nq, esz);
          if (is_f32) {
            const float *q = qkv;
            float sc = 1.0f / sqrtf((float)D);
            tab->f32.attention(0, B * H, H, len, 0, D, q, q + C, q + 2 * C, 3 * C, len * 3 * C, sc,
                               O[k], C, len * C, L[k], S);
            float *d = DQ[k];
            tab->f32.attention_grad(0, B * H, H, len, D, q, q + C, q + 2 * C, 3 * C, O[k], dout, C,
                                    L[k], sc, d, d + C, d + 2 * C, S);
          } else {
            const double *q = qkv;
            double sc = 1.0 / sqrt((double)D);
            tab->f64.attention(0, B * H, H, len, 0, D, q, q + C, q + 2 * C, 3 * C, len * 3 * C, sc,
                               O[k], C, len * C, L[k], S);
            double *d = DQ[k];
            tab->f64.attention_grad(0, B * H, H, len, D, q, q + C, q + 2 * C, 3 * C, O[k], dout, C,
                                    L[k], sc, d, d + C, d + 2 * C, S);
          }
        }
        /* the query rows from `first` on alone give those rows' outputs bit for bit: the
         * last row (a key/value cache's step, lse not kept), and the rows from a third of
         * the way in with their log-sum-exp (register tiles of rows then start anywhere,
         * a tile's rows reaching different counts of key vectors) */
        const size_t firsts[2] = {len - 1, len / 3};
        for (int f = 0; f < 2; f++) {
          const size_t first = firsts[f], nr = len - first;
          if (f == 1 && (first == 0 || first == len - 1)) continue;
          void *part = guarded(B * nr * C, esz), *plse = f ? guarded(B * H * nr, esz) : NULL;
          if (is_f32) {
            const float *q = qkv;
            t->f32.attention(0, B * H, H, len, first, D, q, q + C, q + 2 * C, 3 * C, len * 3 * C,
                             1.0f / sqrtf((float)D), part, C, nr * C, plse, S);
          } else {
            const double *q = qkv;
            t->f64.attention(0, B * H, H, len, first, D, q, q + C, q + 2 * C, 3 * C, len * 3 * C,
                             1.0 / sqrt((double)D), part, C, nr * C, plse, S);
          }
          int same = guard_intact(part, B * nr * C, esz) && (!plse || guard_intact(plse, B * H * nr, esz));
          for (size_t b = 0; b < B; b++)
            same &= memcmp((char *)part + b * nr * C * esz, (char *)O[0] + (b * len + first) * C * esz,
                           nr * C * esz) == 0;
          for (size_t item = 0; plse && item < B * H; item++)
            same &= memcmp((char *)plse + item * nr * esz, (char *)L[0] + (item * len + first) * esz,
                           nr * esz) == 0;
          CHECK(same, "%s %s attention of rows %zu.. alone differs (len=%zu D=%zu)",
                nnk_isa_name(t->isa), is_f32 ? "f32" : "f64", first, len, D);
          free(part), free(plse);
        }
#define AT(p, i) (is_f32 ? (double)((float *)(p))[i] : ((double *)(p))[i])
        int ok = 1;
        for (size_t i = 0; i < no; i++) ok &= near(AT(O[0], i), AT(O[1], i), 2 * (double)D, is_f32);
        for (size_t i = 0; i < nq; i++) ok &= !isnan(AT(DQ[0], i)); /* every gradient written */
        for (size_t i = 0; i < nl; i++) ok &= near(AT(L[0], i), AT(L[1], i), 4 * (double)D, is_f32);
        for (size_t i = 0; i < nq; i++) ok &= near(AT(DQ[0], i), AT(DQ[1], i), 8 * (double)(D * len), is_f32);
#undef AT
        int guards = guard_intact(O[0], no, esz) && guard_intact(L[0], nl, esz) &&
                     guard_intact(DQ[0], nq, esz);
        CHECK(ok && guards, "%s %s attention len=%zu D=%zu differs from scalar%s", nnk_isa_name(t->isa),
              is_f32 ? "f32" : "f64", len, D, guards ? "" : " (overran)");
        for (int k = 0; k < 2; k++) free(O[k]), free(L[k]), free(DQ[k]);
        free(qkv), free(dout), free(S);
      }
}

/* ---- GEMM --------------------------------------------------------------- */

/* C = alpha op(A) op(B) + beta C in double, and the bound sum |alpha a b| + |beta c|. */
static void gemm_expect(int ta, int tb, size_t m, size_t n, size_t k, double alpha,
                        const double *a, size_t lda, const double *b, size_t ldb, double beta,
                        const double *c, size_t ldc, double *exp, double *mag)
{
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0, sa = 0;
      for (size_t p = 0; p < k; p++) {
        double av = ta ? a[p * lda + i] : a[i * lda + p];
        double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
        s += av * bv, sa += fabs(av * bv);
      }
      double cv = beta == 0 ? 0 : beta * c[i * ldc + j];
      exp[i * n + j] = alpha * s + cv;
      mag[i * n + j] = fabs(alpha) * sa + fabs(cv);
    }
}

/* lda: A's row stride, 0 for its row length and pad */
static void test_gemm_case_lda(nnk_isa isa, int is_f32, int ta, int tb, size_t m, size_t n, size_t k,
                               double alpha, double beta, size_t lda)
{
  const size_t pad = 3; /* leading dimensions longer than the rows */
  size_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  size_t ldb = bc + pad, ldc = n + pad;
  if (!lda) lda = ac + pad;
  size_t na = ar * lda, nb = br * ldb, nc = m * ldc;
  double *a = malloc((na + 1) * 8), *b = malloc((nb + 1) * 8), *c = malloc((nc + 1) * 8);
  double *exp = malloc((m * n + 1) * 8), *mag = malloc((m * n + 1) * 8);
  for (size_t i = 0; i < na; i++) a[i] = uniform(-1, 1);
  for (size_t i = 0; i < nb; i++) b[i] = uniform(-1, 1);
  for (size_t i = 0; i < nc; i++) c[i] = uniform(-1, 1);
  if (beta == 0)
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) c[i * ldc + j] = NAN; /* beta = 0 must ignore it */
  if (is_f32) /* the reference sees exactly the float inputs */
    for (size_t i = 0; i < na; i++) a[i] = (float)a[i];
  if (is_f32)
    for (size_t i = 0; i < nb; i++) b[i] = (float)b[i];
  gemm_expect(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, exp, mag);

  size_t esz = is_f32 ? 4 : 8;
  void *A = guarded(na, esz), *B = guarded(nb, esz), *C = guarded(nc, esz);
  for (size_t i = 0; i < na; i++) is_f32 ? (((float *)A)[i] = (float)a[i]) : (((double *)A)[i] = a[i]);
  for (size_t i = 0; i < nb; i++) is_f32 ? (((float *)B)[i] = (float)b[i]) : (((double *)B)[i] = b[i]);
  for (size_t i = 0; i < nc; i++) is_f32 ? (((float *)C)[i] = (float)c[i]) : (((double *)C)[i] = c[i]);
  void *A0 = malloc(na * esz + 1), *B0 = malloc(nb * esz + 1);
  memcpy(A0, A, na * esz), memcpy(B0, B, nb * esz);

  nnk_set_isa(isa);
  if (getenv("NNK_TRACE"))
    printf("\n%s %s ta=%d tb=%d m=%zu n=%zu k=%zu", nnk_isa_name(isa), is_f32 ? "f32" : "f64", ta,
           tb, m, n, k);
  nnk_status st = is_f32 ? nnk_sgemm(ta, tb, m, n, k, (float)alpha, A, lda, B, ldb, (float)beta, C, ldc)
                         : nnk_dgemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  double eps = is_f32 ? 6e-8 : 1.2e-16;
  int ok = st == NNK_OK, pad_ok = 1;
  size_t bad_i = 0, bad_j = 0;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < ldc; j++) {
      double got = is_f32 ? ((float *)C)[i * ldc + j] : ((double *)C)[i * ldc + j];
      if (j >= n) { /* padding of C must be unchanged */
        double was = is_f32 ? (double)(float)c[i * ldc + j] : c[i * ldc + j];
        pad_ok &= got == was;
        continue;
      }
      double e = exp[i * n + j], tol = (k + 3) * eps * mag[i * n + j] + 1e-30;
      if (!(fabs(got - e) <= tol) && ok) ok = 0, bad_i = i, bad_j = j;
    }
  CHECK(ok, "%s %s gemm ta=%d tb=%d m=%zu n=%zu k=%zu alpha=%g beta=%g: wrong at (%zu,%zu)",
        nnk_isa_name(isa), is_f32 ? "f32" : "f64", ta, tb, m, n, k, alpha, beta, bad_i, bad_j);
  CHECK(pad_ok && guard_intact(C, nc, esz), "%s gemm m=%zu n=%zu k=%zu touched C's padding",
        nnk_isa_name(isa), m, n, k);
  CHECK(memcmp(A0, A, na * esz) == 0 && memcmp(B0, B, nb * esz) == 0,
        "%s gemm m=%zu n=%zu k=%zu changed an input", nnk_isa_name(isa), m, n, k);
  free(a), free(b), free(c), free(exp), free(mag), free(A), free(B), free(C), free(A0), free(B0);
}

static void test_gemm_case(nnk_isa isa, int is_f32, int ta, int tb, size_t m, size_t n, size_t k,
                           double alpha, double beta)
{
  test_gemm_case_lda(isa, is_f32, ta, tb, m, n, k, alpha, beta, 0);
}

/* qemu-user (7.2) hangs creating threads in dynamically linked programs, so the
 * emulated run passes --single-thread; the threaded driver code is the same portable C
 * on every ISA and is exercised by the native runs. */
static int max_threads = 2;

static void test_gemm(nnk_isa isa)
{
  /* Sizes around every tile (MR 4/6/8, NR 8/12/16) and the small-path threshold;
   * k beyond KC (256) splits the k loop. */
  static const size_t ms[] = {0, 1, 2, 3, 5, 6, 7, 8, 9, 13, 17, 33};
  static const size_t ns[] = {0, 1, 2, 3, 4, 7, 8, 9, 12, 13, 16, 17, 25, 33};
  static const size_t ks[] = {0, 1, 2, 9, 33, 257};
  static const double ab[][2] = {{1, 0}, {0.7, 1.3}, {1, 1}, {0, 1.3}};
  for (int is_f32 = 0; is_f32 < 2; is_f32++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
          for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
            for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
              size_t c = (mi + ni + ki) % 4; /* a rotating alpha/beta keeps the grid small */
              test_gemm_case(isa, is_f32, ta, tb, ms[mi], ns[ni], ks[ki], ab[c][0], ab[c][1]);
            }
  /* matrix-vector shapes (W x: n = 1; x W: m = 1; either operand transposed) with rows
   * of every length up to 33, every tail of every vector width (masked loads), and
   * counts of rows through the groups of four and eight; then rows longer than a page
   * (x W's and W x's eight-row paths) with a tail */
  for (int is_f32 = 0; is_f32 < 2; is_f32++)
    for (int tr = 0; tr < 2; tr++)
      for (size_t rows = 9; rows <= 33; rows += 8)
        for (size_t len = 1; len <= 33; len++) {
          test_gemm_case(isa, is_f32, tr, 0, rows, 1, len, 1, 0);
          test_gemm_case(isa, is_f32, 0, tr, 1, len, rows, 0.7, 1.3);
        }
  /* every width of a tile up to two AVX-512 tiles and one more column: the direct tiles'
   * partial vectors (masked, or the vector ending at a row's last column) with each
   * alpha/beta, and the same through packed B (B transposed) */
  for (int is_f32 = 0; is_f32 < 2; is_f32++)
    for (size_t n = 1; n <= 65; n++)
      for (int tb = 0; tb < 2; tb++)
        test_gemm_case(isa, is_f32, 0, tb, 7, n, 9, ab[n % 4][0], ab[n % 4][1]);
  for (int is_f32 = 0; is_f32 < 2; is_f32++) {
    size_t len = 4096 / (is_f32 ? 4 : 8) + 21;
    test_gemm_case(isa, is_f32, 0, 0, 19, 1, len, 1, 0);
    test_gemm_case(isa, is_f32, 0, 0, 1, len, 19, 0.7, 1.3);
  }
  /* blocks, both threaded and not: fixed shapes, then for each dtype two MC blocks
   * (one ragged) and k split into KC blocks, from the sizes this ISA's rule gave, and
   * (rule "l2") a C larger than an A block whose k takes one block past KC, and A packed
   * where k takes several blocks and B many panels (gemm_blocked's pack_a), and a few rows
   * against many groups of B's panels (streamed_member's asking ahead); then
   * a C small enough for the L1 model's KC with k just past four of those blocks (A
   * transposed too: a weight gradient), and the same k with a C just too big for it */
  const nnk_kernel_table *t = nnk_kernels_for(isa);
  for (int threads = 1; threads <= max_threads; threads++) {
    nnk_set_num_threads(threads);
    test_gemm_case(isa, 1, 0, 0, 301, 211, 300, 1, 0);
    test_gemm_case(isa, 0, 1, 1, 203, 97, 513, 0.7, 1.3);
    test_gemm_case(isa, 1, 1, 0, 190, 257, 260, 1, 1);
    for (int is_f32 = 0; is_f32 < 2 && t->f32.gemm.ukernel; is_f32++) {
      size_t mc = is_f32 ? t->f32.gemm.mc : t->f64.gemm.mc, kc = is_f32 ? t->f32.gemm.kc : t->f64.gemm.kc;
      size_t mr = is_f32 ? t->f32.gemm.mr : t->f64.gemm.mr;
      test_gemm_case(isa, is_f32, 0, 0, mc + mr + 3, 45, kc + 5, 1, 1);
      test_gemm_case(isa, is_f32, 1, 0, mc + 1, 37, 2 * kc + 1, 0.7, 0);
      /* C more than an A block, k a quarter past KC: the "l2" rule's k in one block */
      size_t a_block = is_f32 ? t->f32.gemm.a_block : t->f64.gemm.a_block;
      if (a_block) test_gemm_case(isa, is_f32, 0, 0, mc + mr + 3, a_block / (mc + mr + 3) + 7, kc + kc / 4, 1, 0.5);
      /* k in several blocks and 32 panels of B or more: A packed though rows allow it in place */
      size_t nr = is_f32 ? t->f32.gemm.nr : t->f64.gemm.nr;
      test_gemm_case(isa, is_f32, 0, 0, mc + mr + 3, 32 * nr + 5, 2 * kc + 3, 1, 1);
      /* n narrower than a tile and k past KC: C itself where A's rows are contiguous (A
       * as it is, and with B transposed), C^T where A is a transposed view */
      test_gemm_case(isa, is_f32, 0, 0, mc + mr + 3, 7, kc + 5, 1, 1);
      test_gemm_case(isa, is_f32, 0, 1, mc + mr + 3, 7, kc + 5, 1, 0.5);
      test_gemm_case(isa, is_f32, 1, 0, mc + mr + 3, 7, kc + 5, 0.7, 0);
      size_t c_in_l2 = is_f32 ? t->f32.gemm.c_in_l2 : t->f64.gemm.c_in_l2, esz = is_f32 ? 4 : 8;
      /* m at most half MC and B not transposed: several groups of panels in each of
       * three k blocks, whose tiles ask for the next group ahead (packed where A is
       * transposed or a member has 32 panels or more, direct where it has fewer: 31
       * panels); with L3 taken as unknown (0), so that they ask whatever B's size (the
       * table is the library's own, writable behind its const view) */
      const size_t groups_n = 4 * (2 * c_in_l2 / (kc * nr * esz) + 1) * nr + 5;
      nnk_kernel_table *w = (nnk_kernel_table *)t;
      const size_t l3 = is_f32 ? w->f32.gemm.l3 : w->f64.gemm.l3;
      if (is_f32) w->f32.gemm.l3 = 0; else w->f64.gemm.l3 = 0;
      test_gemm_case(isa, is_f32, 0, 0, 2 * mr + 1, groups_n, 2 * kc + 3, 1, 0.5);
      test_gemm_case(isa, is_f32, 1, 0, 2 * mr + 1, groups_n, 2 * kc + 3, 0.7, 0);
      test_gemm_case(isa, is_f32, 0, 0, 2 * mr + 1, 30 * nr + 5, 2 * kc + 3, 1, 0);
      if (is_f32) w->f32.gemm.l3 = l3; else w->f64.gemm.l3 = l3;
      /* A's rows a whole number of L1 ways apart, k past KC: read in place where a block
       * serves few panels of B (8 or fewer), packed where it serves more; few rows and
       * many */
      const size_t way = (is_f32 ? t->f32.gemm.l1_way : t->f64.gemm.l1_way) / esz;
      const size_t lda_way = (kc + 5 + way - 1) / way * way;
      for (size_t panels = 1; panels <= 9; panels += 8) {
        test_gemm_case_lda(isa, is_f32, 0, 0, 2 * mr + 1, panels * nr - 3, kc + 5, 1, 0.5, lda_way);
        test_gemm_case_lda(isa, is_f32, 0, 0, mc + mr + 3, panels * nr + 5, kc + 5, 0.7, 0, lda_way);
      }
      size_t k_small = (is_f32 ? t->f32.gemm.k_c_in_l2 : t->f64.gemm.k_c_in_l2) + 7;
      test_gemm_case(isa, is_f32, 1, 0, 2 * mr + 1, 75, k_small, 1, 0);
      test_gemm_case(isa, is_f32, 0, 1, 3 * mr, 40, k_small, 0.5, 2);
      test_gemm_case(isa, is_f32, 1, 0, 24, c_in_l2 / (24 * esz) + 1, k_small, 1, 0);
    }
  }
}

/* The ISA's pack kernel (csrc/gemm/pack.c) against its definition, for both of the
 * tile's widths, every count of real rows, kc over every tail of the transposes, rows
 * further apart than kc: exact values, zeros past r, nothing written past kc * width. */
static void test_gemm_pack(const nnk_kernel_table *t)
{
  for (int is_f32 = 0; is_f32 < 2; is_f32++) {
    const size_t esz = is_f32 ? 4 : 8;
    const size_t widths[2] = {is_f32 ? t->f32.gemm.mr : t->f64.gemm.mr,
                              is_f32 ? t->f32.gemm.nr : t->f64.gemm.nr};
    if (!(is_f32 ? (void *)t->f32.gemm.pack : (void *)t->f64.gemm.pack)) continue;
    for (int wi = 0; wi < 2; wi++)
      for (size_t r = 0; r <= widths[wi]; r++)
        for (size_t kc = 0; kc <= 37; kc++) {
          size_t width = widths[wi], ld = kc + 3, nd = kc * width;
          double *src = malloc((r * ld + 1) * sizeof(double));
          for (size_t i = 0; i < r * ld; i++) src[i] = (double)(i + 1);
          void *s = malloc((r * ld + 1) * esz), *d = guarded(nd, esz);
          for (size_t i = 0; i < r * ld; i++) {
            if (is_f32) ((float *)s)[i] = (float)src[i];
            else ((double *)s)[i] = src[i];
          }
          if (is_f32) t->f32.gemm.pack(r, kc, s, (ptrdiff_t)ld, width, d);
          else t->f64.gemm.pack(r, kc, s, (ptrdiff_t)ld, width, d);
          int ok = 1;
          for (size_t p = 0; p < kc; p++)
            for (size_t i = 0; i < width; i++) {
              double want = i < r ? src[i * ld + p] : 0;
              double got = is_f32 ? ((float *)d)[p * width + i] : ((double *)d)[p * width + i];
              ok &= got == want;
            }
          CHECK(ok && guard_intact(d, nd, esz), "%s %s gemm pack r=%zu kc=%zu width=%zu",
                nnk_isa_name(t->isa), is_f32 ? "f32" : "f64", r, kc, width);
          free(src), free(s), free(d);
        }
  }
}

/* The ISA's microkernel alone on packed panels (alpha 1, beta 0, no bias), every kc
 * tail of a k loop unrolled by up to eight and a few KC-sized ones: each sum must be
 * the scalar chain of fused multiply-adds in k order, bit for bit (what makes a product's
 * bits independent of how its k loop is written or unrolled), and nothing but the tile's
 * MR x NR values of C written (a row stride past NR, the gaps and the guard checked). */
static void test_gemm_ukernel_sums(const nnk_kernel_table *t)
{
  static const size_t kcs[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 31, 64, 257, 443};
  for (int is_f32 = 0; is_f32 < 2; is_f32++) {
    if (!(is_f32 ? (void *)t->f32.gemm.ukernel : (void *)t->f64.gemm.ukernel)) continue;
    const size_t mr = is_f32 ? t->f32.gemm.mr : t->f64.gemm.mr, nr = is_f32 ? t->f32.gemm.nr : t->f64.gemm.nr;
    const size_t esz = is_f32 ? 4 : 8, rs_c = nr + 3, nc = mr * rs_c;
    for (size_t ki = 0; ki < sizeof kcs / sizeof *kcs; ki++) {
      const size_t kc = kcs[ki];
      void *a = guarded(mr * kc, esz), *b = guarded(kc * nr, esz), *c = guarded(nc, esz);
      for (size_t i = 0; i < mr * kc; i++)
        if (is_f32) ((float *)a)[i] = (float)uniform(-1, 1);
        else ((double *)a)[i] = uniform(-1, 1);
      for (size_t i = 0; i < kc * nr; i++)
        if (is_f32) ((float *)b)[i] = (float)uniform(-1, 1);
        else ((double *)b)[i] = uniform(-1, 1);
      if (is_f32) t->f32.gemm.ukernel(kc, 1, a, b, 0, c, (ptrdiff_t)rs_c, NULL, NULL);
      else t->f64.gemm.ukernel(kc, 1, a, b, 0, c, (ptrdiff_t)rs_c, NULL, NULL);
      int ok = 1;
      for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < rs_c; j++) {
          if (is_f32) {
            const float *af = a, *bf = b, got = ((float *)c)[i * rs_c + j];
            float want = 0;
            for (size_t p = 0; p < kc && j < nr; p++) want = fmaf(af[p * mr + i], bf[p * nr + j], want);
            ok &= j < nr ? got == want : isnan(got);
          } else {
            const double *ad = a, *bd = b, got = ((double *)c)[i * rs_c + j];
            double want = 0;
            for (size_t p = 0; p < kc && j < nr; p++) want = fma(ad[p * mr + i], bd[p * nr + j], want);
            ok &= j < nr ? got == want : isnan(got);
          }
        }
      CHECK(ok && guard_intact(c, nc, esz) && guard_intact(a, mr * kc, esz) && guard_intact(b, kc * nr, esz),
            "%s %s gemm ukernel kc=%zu: sums not the FMA chain's, or C written outside its tile",
            nnk_isa_name(t->isa), is_f32 ? "f32" : "f64", kc);
      free(a), free(b), free(c);
    }
  }
}

/* Two thread counts give bitwise the same C: each tile has one writer and one k order. */
static void test_gemm_threads_deterministic(nnk_isa isa)
{
  if (max_threads < 2) return;
  size_t m = 257, n = 263, k = 300;
  float *a = malloc(m * k * 4), *b = malloc(k * n * 4), *c1 = malloc(m * n * 4), *c2 = malloc(m * n * 4);
  for (size_t i = 0; i < m * k; i++) a[i] = (float)uniform(-1, 1);
  for (size_t i = 0; i < k * n; i++) b[i] = (float)uniform(-1, 1);
  nnk_set_isa(isa);
  nnk_set_num_threads(1);
  nnk_sgemm(0, 0, m, n, k, 1, a, k, b, n, 0, c1, n);
  nnk_set_num_threads(2);
  nnk_sgemm(0, 0, m, n, k, 1, a, k, b, n, 0, c2, n);
  CHECK(memcmp(c1, c2, m * n * 4) == 0, "%s gemm differs between 1 and 2 threads", nnk_isa_name(isa));
  free(a), free(b), free(c1), free(c2);
  /* matrix-vector products shared by threads: a long dot product (fixed blocks), row
   * dots with an odd last group, axpys with a ragged last piece, axpys in row blocks
   * (two, and three with a short last one), a skinny product */
  static const size_t mv[][5] = {{1, 1, 300007, 0, 0}, {1003, 1, 517, 0, 0}, {1, 1003, 519, 0, 0},
                                 {1, 1001, 1040, 0, 0}, {1, 700, 2003, 0, 0},
                                 {517, 1, 1001, 1, 0}, {1999, 3, 301, 0, 0}, {1, 1001, 517, 0, 1},
                                 {3, 1001, 517, 0, 1}};
  for (size_t s = 0; s < sizeof mv / sizeof *mv; s++) {
    size_t mm = mv[s][0], nn = mv[s][1], kk = mv[s][2];
    int ta = (int)mv[s][3], tb = (int)mv[s][4];
    double *A = malloc(mm * kk * 8), *B = malloc(kk * nn * 8), *C1 = malloc(mm * nn * 8),
           *C2 = malloc(mm * nn * 8);
    for (size_t i = 0; i < mm * kk; i++) A[i] = uniform(-1, 1);
    for (size_t i = 0; i < kk * nn; i++) B[i] = uniform(-1, 1);
    nnk_set_num_threads(1);
    nnk_dgemm(ta, tb, mm, nn, kk, 1, A, ta ? mm : kk, B, tb ? kk : nn, 0, C1, nn);
    nnk_set_num_threads(2);
    nnk_dgemm(ta, tb, mm, nn, kk, 1, A, ta ? mm : kk, B, tb ? kk : nn, 0, C2, nn);
    CHECK(memcmp(C1, C2, mm * nn * 8) == 0, "%s matrix-vector %zux%zux%zu differs between 1 and 2 threads",
          nnk_isa_name(isa), mm, nn, kk);
    free(A), free(B), free(C1), free(C2);
  }
}

/* The block-size rules on caches of several CPUs (and absurdly small ones): every block
 * is a multiple of its tile and at least one tile; by "l1" the B micro-panel fits L1
 * with a way to spare and the A block fits L2; by "l2" the A block fits L2 but two
 * ways, fills at least all of it but a tile's row and column, and KC is within a step
 * of sqrt(2 X) for the X elements it may hold. */
static void test_gemm_blocks_rule(void)
{
  static const nnk_cache cpus[][4] = {
    {{0}, {32 << 10, 64, 8, 64, "zen"}, {512 << 10, 64, 8, 1024, "zen"}, {32 << 20, 64, 16, 32768, "zen"}},
    {{0}, {48 << 10, 64, 12, 64, "icelake"}, {1280 << 10, 64, 20, 1024, "icelake"}, {48 << 20, 64, 12, 65536, "icelake"}},
    {{0}, {128 << 10, 128, 8, 128, "m1"}, {12 << 20, 128, 12, 8192, "m1"}, {8 << 20, 128, 16, 4096, "m1"}},
    {{0}, {1 << 10, 64, 2, 8, "tiny"}, {4 << 10, 64, 2, 32, "tiny"}, {8 << 10, 64, 1, 128, "tiny"}},
  };
  static const size_t tiles[][3] = {{6, 16, 4}, {6, 8, 8}, {8, 32, 4}, {8, 16, 8}, {8, 12, 4}, {4, 8, 8}};
  const nnk_gemm_blocks_rule *rules[] = {&nnk_gemm_blocks_l1, &nnk_gemm_blocks_l2};
  for (size_t r = 0; r < 2; r++)
    for (size_t c = 0; c < sizeof cpus / sizeof *cpus; c++)
      for (size_t t = 0; t < sizeof tiles / sizeof *tiles; t++) {
        size_t mr = tiles[t][0], nr = tiles[t][1], esz = tiles[t][2], mc, kc, nc, a_block;
        rules[r]->sizes(cpus[c], esz, mr, nr, &mc, &kc, &nc, &a_block);
        const nnk_cache *l1 = &cpus[c][1], *l2 = &cpus[c][2];
        int tiny = strcmp(l1->source, "tiny") == 0;
        CHECK(mc >= mr && kc >= 8 && nc >= nr && mc % mr == 0 && nc % nr == 0 && kc % 8 == 0,
              "%s blocks %zu %zu %zu for %zux%zu on %s", rules[r]->name, mc, kc, nc, mr, nr,
              l1->source);
        if (tiny) continue;
        if (r == 0) {
          CHECK(a_block == 0, "l1 lets a product's KC pass its own on %s", l1->source);
          CHECK(kc * nr * esz * l1->ways <= l1->size * (l1->ways - 1) && mc * kc * esz <= l2->size,
                "l1 blocks MC %zu KC %zu for %zux%zu esz %zu overflow the caches of %s", mc, kc,
                mr, nr, esz, l1->source);
          continue;
        }
        double x = (double)l2->size * (double)(l2->ways - 2) / (double)l2->ways / (double)esz;
        CHECK(a_block == (size_t)x, "l2's A block %zu elements on %s, not %g", a_block, l1->source, x);
        CHECK((double)(mc * kc) <= x && (double)((mc + mr) * kc) >= x &&
                  fabs((double)kc - sqrt(2 * x)) < 8,
              "l2 blocks MC %zu KC %zu for %zux%zu esz %zu do not fill L2 of %s as balanced", mc,
              kc, mr, nr, esz, l1->source);
      }
}

int main(int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--single-thread") == 0) max_threads = 1;
  nnk_set_num_threads(max_threads);
  setvbuf(stdout, NULL, _IONBF, 0); /* progress shows even if a run is cut short */
  const nnk_kernel_table *ref = nnk_kernels_for(NNK_ISA_SCALAR);
  printf("nnk C driver on %s (features: %s)\n", nnk_arch(), nnk_cpu_features());
  test_gemm_blocks_rule();
  for (int isa = 0; isa < NNK_ISA_COUNT; isa++) {
    if (!nnk_kernels_for((nnk_isa)isa)) continue;
    if (!nnk_isa_available((nnk_isa)isa)) {
      printf("SKIP %s: this CPU cannot run it\n", nnk_isa_name((nnk_isa)isa));
      continue;
    }
    const nnk_kernel_table *t = nnk_kernels_for((nnk_isa)isa);
    long before = failed;
    printf("%s:", nnk_isa_name((nnk_isa)isa));
    if (isa != NNK_ISA_SCALAR) {
      test_elementwise(ref, t);
      test_elementwise_nt(t);
      printf(" elementwise");
      test_rows(ref, t);
      test_rows_grad(ref, t);
      printf(" rows");
      test_losses(ref, t);
      printf(" losses");
      test_optim(ref, t);
      printf(" optim");
      test_row_layers(ref, t);
      printf(" layernorm cross_entropy");
      test_attention(ref, t);
      printf(" attention");
    }
    test_gemm_pack(t);
    test_gemm_ukernel_sums(t);
    test_gemm((nnk_isa)isa);
    printf(" gemm");
    test_gemm_threads_deterministic((nnk_isa)isa);
    printf(" threads\n");
    printf("%-6s %s\n", nnk_isa_name((nnk_isa)isa), failed == before ? "ok" : "FAILED");
  }
  printf("%ld passed, %ld failed\n", passed, failed);
  return failed ? 1 : 0;
}
