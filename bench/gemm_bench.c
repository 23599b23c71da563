/*
 * C-level GEMM benchmark: GFLOP/s, best of N after a warm-up, for each ISA this CPU
 * runs, square sizes and the MLP shapes.  Usage: gemm_bench [threads] [sizes...]
 * or gemm_bench scaling THREADS sizes... (one thread against THREADS, interleaved).
 * Prints a Markdown table.  Built by `make bench` with the extension's flags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnk.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct { size_t m, n, k; } shape;

/* best seconds of `reps` runs of one GEMM */
static double time_gemm(int f32, shape s, void *a, void *b, void *c, int reps)
{
  double best = 1e30;
  for (int r = 0; r <= reps; r++) { /* r = 0 is the warm-up */
    double t = now();
    if (f32)
      nnk_sgemm(0, 0, s.m, s.n, s.k, 1, a, s.k, b, s.n, 0, c, s.n);
    else
      nnk_dgemm(0, 0, s.m, s.n, s.k, 1, a, s.k, b, s.n, 0, c, s.n);
    t = now() - t;
    if (r && t < best) best = t;
  }
  return best;
}

/* Thread scaling measured side by side: rounds alternate one thread and `threads`,
 * best of each kept, so a noisy neighbour hits both alike. */
static int scaling(int threads, int argc, char **argv)
{
  printf("GEMM thread scaling, best of 5 alternating rounds, %s\n\n", nnk_isa_name(nnk_get_isa()));
  printf("| dtype | n | 1 thread GFLOP/s | %d threads GFLOP/s | speed-up |\n|---|---|---|---|---|\n",
         threads);
  for (int f32 = 1; f32 >= 0; f32--)
    for (int i = 0; i < argc; i++) {
      size_t n = strtoul(argv[i], NULL, 10), esz = f32 ? 4 : 8;
      shape s = {n, n, n};
      void *a = calloc(n * n, esz), *b = calloc(n * n, esz), *c = calloc(n * n, esz);
      double best1 = 1e30, bestn = 1e30;
      for (int round = 0; round < 5; round++) {
        nnk_set_num_threads(1);
        double t = time_gemm(f32, s, a, b, c, 2);
        if (t < best1) best1 = t;
        nnk_set_num_threads(threads);
        t = time_gemm(f32, s, a, b, c, 2);
        if (t < bestn) bestn = t;
      }
      double flops = 2.0 * n * n * n;
      printf("| %s | %zu | %.1f | %.1f | %.2fx |\n", f32 ? "f32" : "f64", n, flops / best1 / 1e9,
             flops / bestn / 1e9, best1 / bestn);
      free(a), free(b), free(c);
    }
  return 0;
}

int main(int argc, char **argv)
{
  if (argc > 2 && strcmp(argv[1], "scaling") == 0)
    return scaling(atoi(argv[2]), argc - 3, argv + 3);
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  shape shapes[32];
  int ns = 0;
  for (int i = 2; i < argc && ns < 32; i++) {
    size_t v = strtoul(argv[i], NULL, 10);
    shapes[ns++] = (shape){v, v, v};
  }
  if (ns == 0) {
    static const size_t sq[] = {4, 16, 64, 128, 256, 512, 1024, 2048};
    for (size_t i = 0; i < sizeof sq / sizeof *sq; i++) shapes[ns++] = (shape){sq[i], sq[i], sq[i]};
    shapes[ns++] = (shape){64, 256, 784}; /* MLP 784-256-10, batch 64: forward layer 1 */
    shapes[ns++] = (shape){64, 10, 256};
    shapes[ns++] = (shape){784, 256, 64}; /* its weight gradient */
  }
  nnk_set_num_threads(threads);
  printf("GEMM, %d thread(s), %s (%s); GFLOP/s, best of N\n\n", threads, nnk_arch(),
         nnk_cpu_features());
  printf("| dtype | m | n | k |");
  for (int isa = 0; isa < NNK_ISA_COUNT; isa++)
    if (nnk_isa_available((nnk_isa)isa)) printf(" %s |", nnk_isa_name((nnk_isa)isa));
  for (int isa = 1; isa < NNK_ISA_COUNT; isa++)
    if (nnk_isa_available((nnk_isa)isa)) printf(" %s/scalar |", nnk_isa_name((nnk_isa)isa));
  printf("\n|---|---|---|---|");
  for (int isa = 0; isa < NNK_ISA_COUNT; isa++)
    if (nnk_isa_available((nnk_isa)isa)) printf(isa ? "---|---|" : "---|");
  printf("\n");
  for (int f32 = 1; f32 >= 0; f32--)
    for (int i = 0; i < ns; i++) {
      shape s = shapes[i];
      size_t esz = f32 ? 4 : 8;
      void *a = malloc(s.m * s.k * esz + 64), *b = malloc(s.k * s.n * esz + 64),
           *c = malloc(s.m * s.n * esz + 64);
      for (size_t j = 0; j < s.m * s.k; j++)
        f32 ? (((float *)a)[j] = (float)(j % 7) - 3) : (((double *)a)[j] = (double)(j % 7) - 3);
      for (size_t j = 0; j < s.k * s.n; j++)
        f32 ? (((float *)b)[j] = (float)(j % 5) - 2) : (((double *)b)[j] = (double)(j % 5) - 2);
      double flops = 2.0 * s.m * s.n * s.k, gf[NNK_ISA_COUNT] = {0};
      printf("| %s | %zu | %zu | %zu |", f32 ? "f32" : "f64", s.m, s.n, s.k);
      for (int isa = 0; isa < NNK_ISA_COUNT; isa++) {
        if (!nnk_isa_available((nnk_isa)isa)) continue;
        nnk_set_isa((nnk_isa)isa);
        /* enough repetitions for ~0.2 s, fewer for the slow scalar path at big sizes */
        double once = time_gemm(f32, s, a, b, c, 1);
        int reps = (int)(0.2 / (once + 1e-9));
        reps = reps < 1 ? 1 : reps > 2000 ? 2000 : reps;
        gf[isa] = flops / time_gemm(f32, s, a, b, c, reps) / 1e9;
        printf(" %.1f |", gf[isa]);
      }
      for (int isa = 1; isa < NNK_ISA_COUNT; isa++)
        if (nnk_isa_available((nnk_isa)isa)) printf(" %.1fx |", gf[isa] / gf[NNK_ISA_SCALAR]);
      printf("\n");
      free(a), free(b), free(c);
    }
  return 0;
}
