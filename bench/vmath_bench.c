/*
 * C-level elementwise benchmark and the machine's limits.
 *
 * Each elementwise kernel on each ISA this CPU runs, float32, sizes 1K .. 16M: best of N
 * after a warm-up, ns/element and GB/s (4 bytes read + 4 written per element), on inputs
 * spread over its test domain and, where that reaches beyond, over [-4, 4] (what a
 * network's pre-activations are, nearly all: some kernels take a faster path for
 * vectors whose every input is small, AVX-512's sigmoid and GELU).  Then the
 * physical limits every figure can be read against: copy bandwidth (memcpy of 256 MiB)
 * and the GEMM microkernel of each ISA on L1-resident panels (its FMA peak in practice).
 * Prints Markdown.  Built by `make bench` with the extension's flags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnk.h"
#include "nnk_kernels.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The rows: every map of the list, on inputs spread over its domain. */
#define ROW_(E, name, ulp, lo, hi, ...) {NNK_##E, #name, lo, hi},
static const struct {
  int op;
  const char *name;
  double lo, hi;
} maps[] = {NNK_MAP_LIST(ROW_, )};

int main(void)
{
  static const size_t sizes[] = {1 << 10, 1 << 14, 1 << 18, 1 << 20, 1 << 24};
  const size_t nsizes = sizeof sizes / sizeof *sizes, maxn = 1 << 24;
  float *x = malloc(maxn * 4), *y = malloc(maxn * 4);
  printf("Elementwise, float32, one thread, %s (%s): ns/element (GB/s)\n\n", nnk_arch(),
         nnk_cpu_features());
  printf("| kernel | ISA |");
  for (size_t s = 0; s < nsizes; s++) printf(" n=%zu |", sizes[s]);
  printf("\n|---|---|");
  for (size_t s = 0; s < nsizes; s++) printf("---|");
  printf("\n");
  for (size_t row = 0; row < 2 * sizeof maps / sizeof *maps; row++) {
    size_t m = row / 2;
    double lo = maps[m].lo, hi = maps[m].hi;
    if (row % 2) { /* the domain within [-4, 4], where it reaches beyond */
      if (lo >= -4 && hi <= 4) continue;
      lo = lo < -4 ? -4 : lo, hi = hi > 4 ? 4 : hi;
    }
    for (size_t i = 0; i < maxn; i++) /* 2001 points across the domain, none at its ends */
      x[i] = (float)(lo + (hi - lo) * ((double)(i % 2001) + 0.5) / 2001);
    for (int isa = 0; isa < NNK_ISA_COUNT; isa++) {
      if (!nnk_isa_available((nnk_isa)isa)) continue;
      void (*f) NNK_SIG_MAP(float) = nnk_kernels_for((nnk_isa)isa)->f32.map[maps[m].op];
      printf("| %s%s | %s |", maps[m].name, row % 2 ? " in [-4, 4]" : "", nnk_isa_name((nnk_isa)isa));
      for (size_t s = 0; s < nsizes; s++) {
        size_t n = sizes[s];
        int reps = (int)(4e7 / n / (isa ? 1 : 10)) + 1;
        double best = 1e30;
        for (int r = 0; r < 3; r++) {
          f(n, x, y); /* warm-up */
          double t = now();
          for (int k = 0; k < reps; k++) f(n, x, y);
          t = (now() - t) / reps;
          if (t < best) best = t;
        }
        printf(" %.2f (%.1f) |", best / n * 1e9, 8.0 * n / best / 1e9);
      }
      printf("\n");
    }
  }

  /* copy bandwidth: 256 MiB each way */
  size_t bytes = (size_t)256 << 20;
  char *a = malloc(bytes), *b = malloc(bytes);
  memset(a, 1, bytes), memset(b, 2, bytes);
  double best = 1e30;
  for (int r = 0; r < 5; r++) {
    double t = now();
    memcpy(b, a, bytes);
    t = now() - t;
    if (t < best) best = t;
  }
  printf("\nMachine limits, one thread:\n\n| limit | value |\n|---|---|\n");
  printf("| copy bandwidth (memcpy 256 MiB, read + write) | %.1f GB/s |\n", 2.0 * bytes / best / 1e9);

  /* each ISA's GEMM microkernel on panels that stay in L1: its FMA peak in practice */
  for (int isa = 0; isa < NNK_ISA_COUNT; isa++) {
    if (!nnk_isa_available((nnk_isa)isa)) continue;
    const nnk_kernel_table *t = nnk_kernels_for((nnk_isa)isa);
    for (int f32 = 1; f32 >= 0; f32--) {
      size_t mr = f32 ? t->f32.gemm.mr : t->f64.gemm.mr, nr = f32 ? t->f32.gemm.nr : t->f64.gemm.nr;
      if (!(f32 ? (void *)t->f32.gemm.ukernel : (void *)t->f64.gemm.ukernel)) continue;
      size_t kc = 256, esz = f32 ? 4 : 8;
      void *pa = aligned_alloc(64, mr * kc * esz), *pb = aligned_alloc(64, nr * kc * esz),
           *pc = aligned_alloc(64, mr * nr * esz);
      memset(pa, 0, mr * kc * esz), memset(pb, 0, nr * kc * esz), memset(pc, 0, mr * nr * esz);
      double tb = 1e30;
      for (int r = 0; r < 5; r++) {
        double t0 = now();
        for (int k = 0; k < 20000; k++) {
          if (f32)
            t->f32.gemm.ukernel(kc, 1, pa, pb, 1, pc, (ptrdiff_t)nr, NULL, NULL);
          else
            t->f64.gemm.ukernel(kc, 1, pa, pb, 1, pc, (ptrdiff_t)nr, NULL, NULL);
        }
        t0 = now() - t0;
        if (t0 < tb) tb = t0;
      }
      printf("| %s %s GEMM microkernel %zux%zu in L1 | %.1f GFLOP/s |\n", nnk_isa_name((nnk_isa)isa),
             f32 ? "f32" : "f64", mr, nr, 2.0 * mr * nr * kc * 20000 / tb / 1e9);
      free(pa), free(pb), free(pc);
    }
  }
  free(x), free(y), free(a), free(b);
  return 0;
}
