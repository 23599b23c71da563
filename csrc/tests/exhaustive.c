/*
 * Every float32 input through float32 exp, log, tanh, sigmoid and GELU, on every ISA
 * this CPU runs: the worst error in ULPs against a float64 reference must be at most 1.
 *
 * The reference is glibc's double function (within a double ULP or two, a relative
 * 2^-52) on the exactly widened input, with the float32 ULP measured at the reference:
 * 2^(e - 23) for a reference in [2^e, 2^(e+1)), 2^-149 below 2^-126.  That is 2^-28 of
 * a float32 ULP from the exact value, far below the 1 ULP being checked; GELU's
 * x/2 erfc(-x/sqrt2) loses at most 2 z^2 <= 200 double roundings to the inexact z = x/sqrt2
 * before its result underflows float32 (|x| < 14.2), still 2^-21 of an ULP.  NaN must
 * give NaN; a reference that rounds to +-inf in float32 must give that infinity (or the
 * largest float, 1 ULP away).
 *
 *   exhaustive [--stride S] [--threads N] [--only NAME]
 *
 * --stride S checks every S-th bit pattern (an emulated CPU: make test-neon runs a
 * strided sample under qemu); --only NAME checks one function (exp, log, tanh,
 * sigmoid, gelu: the quick check of one changed kernel).  Prints one row per function
 * and ISA; exit status 1 when any error exceeds 1 ULP.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../threads/pool.h"
#include "nnk.h"
#include "nnk_kernels.h"

#define CHUNK ((uint64_t)1 << 16) /* bit patterns per piece of work */
#define MAX_ULP 1.0

/* The functions checked: the map kernel and its reference. */
typedef struct {
  const char *name;
  nnk_map_op op;
  double (*ref)(double);
} fn_case;

/* Where a reference has reached its limit in double (the same value glibc returns), it
 * is given without the call: half of all bit patterns lie beyond |x| = 20, and glibc's
 * error handling for them (errno on overflow, log of a negative) costs more than the
 * function. */
static double ref_exp(double x) { return x > 1000 ? INFINITY : x < -1000 ? 0 : exp(x); }
static double ref_log(double x) { return x < 0 ? NAN : log(x); }
static double ref_tanh(double x) { return x > 20 ? 1 : x < -20 ? -1 : tanh(x); }
static double ref_sigmoid(double x)
{
  if (x > 40) return 1; /* 1 - e^-40 rounds to 1 in double */
  if (x < -800) return 0;
  if (x >= 0) return 1 / (1 + exp(-x));
  double e = exp(x);
  return e / (1 + e);
}
static double ref_gelu(double x)
{
  if (x < -40) return -0.0; /* x Phi(x) below double's smallest subnormal */
  if (x > 10) return x;      /* x (1 - Phi(-x)), Phi(-10) = 7.6e-24: x in double */
  return 0.5 * x * erfc(-x * 0.70710678118654752440);
}

static const fn_case cases[] = {
    {"exp", NNK_EXP, ref_exp},
    {"log", NNK_LOG, ref_log},
    {"tanh", NNK_TANH, ref_tanh},
    {"sigmoid", NNK_SIGMOID, ref_sigmoid},
    {"gelu", NNK_GELU, ref_gelu},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Error of y in float32 ULPs at the reference r (INFINITY: a wrong NaN or infinity). */
static double ulp_error(float y, double r)
{
  if (isnan(r)) return isnan(y) ? 0 : INFINITY;
  if (isnan(y)) return INFINITY;
  float rf = (float)r;
  if (isinf(rf)) return y == rf ? 0 : (y == copysignf(3.40282347e38f, rf) ? 1 : INFINITY);
  if (isinf(y)) return INFINITY;
  /* r's binary exponent from its bits (r in [2^e, 2^(e+1))), the ULP 2^(max(e, -126) - 23)
   * built the same way: this runs 10^10 times. */
  uint64_t bits;
  memcpy(&bits, &r, 8);
  int e = (int)((bits >> 52) & 0x7FF) - 1023;
  if (e < -126) e = -126;
  uint64_t ub = (uint64_t)(e - 23 + 1023) << 52;
  double ulp;
  memcpy(&ulp, &ub, 8);
  return fabs((double)y - r) / ulp;
}

typedef struct {
  double worst;
  uint32_t at; /* the input's bit pattern */
} record;

typedef struct {
  const nnk_kernel_table *tables[NNK_ISA_COUNT];
  int isas;
  nnk_isa isa_of[NNK_ISA_COUNT];
  uint64_t stride, chunks;
  const char *only; /* one function's name, or NULL for all */
  _Atomic uint64_t next;
  record rec[64][NCASES][NNK_ISA_COUNT]; /* per thread */
} job;

static void member(void *ctx, int tid, int team, nnk_barrier *barrier)
{
  (void)team, (void)barrier;
  job *j = ctx;
  float *x = malloc(CHUNK * sizeof *x), *y = malloc(CHUNK * sizeof *y);
  double *r = malloc(CHUNK * sizeof *r);
  if (!x || !y || !r) abort();
  for (;;) {
    uint64_t c = atomic_fetch_add(&j->next, 1);
    if (c >= j->chunks) break;
    size_t n = 0;
    for (uint64_t b = c * CHUNK; b < (c + 1) * CHUNK; b++) {
      uint64_t bits = b * j->stride;
      if (bits > UINT32_MAX) break;
      uint32_t u = (uint32_t)bits;
      memcpy(&x[n++], &u, 4);
    }
    for (size_t f = 0; f < NCASES; f++) {
      if (j->only && strcmp(j->only, cases[f].name) != 0) continue;
      for (size_t i = 0; i < n; i++) r[i] = cases[f].ref((double)x[i]);
      for (int k = 0; k < j->isas; k++) {
        j->tables[k]->f32.map[cases[f].op](n, x, y);
        record *rec = &j->rec[tid][f][k];
        for (size_t i = 0; i < n; i++) {
          if (y[i] == (float)r[i] && rec->worst >= 0.5) continue; /* within 0.5 ULP */
          double err = ulp_error(y[i], r[i]);
          if (!(err <= rec->worst)) {
            rec->worst = err;
            memcpy(&rec->at, &x[i], 4);
          }
        }
      }
    }
  }
  free(x), free(y), free(r);
}

int main(int argc, char **argv)
{
  uint64_t stride = 1;
  int threads = nnk_get_num_threads();
  const char *only = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--stride") == 0) stride = strtoull(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--threads") == 0) threads = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--only") == 0) only = argv[i + 1];
  }
  if (stride < 1) stride = 1;
  if (threads < 1) threads = 1;
  if (threads > 64) threads = 64;
  nnk_set_num_threads(threads);

  static job j;
  j.stride = stride;
  j.only = only;
  uint64_t inputs = (((uint64_t)1 << 32) + stride - 1) / stride;
  j.chunks = (inputs + CHUNK - 1) / CHUNK;
  for (int isa = 0; isa < NNK_ISA_COUNT; isa++)
    if (nnk_kernels_for((nnk_isa)isa) && nnk_isa_available((nnk_isa)isa)) {
      j.isa_of[j.isas] = (nnk_isa)isa;
      j.tables[j.isas++] = nnk_kernels_for((nnk_isa)isa);
    }
  printf("float32 maps on %llu inputs (every %llu-th bit pattern), %d threads, %s\n",
         (unsigned long long)inputs, (unsigned long long)stride, threads, nnk_cpu_features());
  nnk_parallel(threads, member, &j);

  int failed = 0;
  printf("\n| function | ISA | worst error (ULP) | at input |\n|---|---|---|---|\n");
  for (size_t f = 0; f < NCASES; f++) {
    if (only && strcmp(only, cases[f].name) != 0) continue;
    for (int k = 0; k < j.isas; k++) {
      record worst = {0, 0};
      for (int t = 0; t < threads; t++)
        if (!(j.rec[t][f][k].worst <= worst.worst)) worst = j.rec[t][f][k];
      float at;
      memcpy(&at, &worst.at, 4);
      int bad = !(worst.worst <= MAX_ULP);
      failed |= bad;
      printf("| %s | %s | %.4f%s | %.9g (0x%08x) |\n", cases[f].name,
             nnk_isa_name(j.isa_of[k]), worst.worst, bad ? " FAIL" : "", at, worst.at);
    }
  }
  printf("\n%s: every error %s %.1f ULP\n", failed ? "FAILED" : "ok", failed ? "not within" : "within",
         MAX_ULP);
  return failed;
}
