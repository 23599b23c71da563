/*
 * Elementwise maps over the thread pool: [0, n) split into one contiguous range per team
 * member.  Each element is computed alone, and every range but the last starts at a
 * multiple of 64 elements (whole vectors on every ISA), so a threaded map gives bitwise
 * what one thread gives.  Small maps stay on the calling thread: below NNK_MAP_THREADED
 * elements the team's start-up would cost more than it saves.
 */
#include "maps.h"

#include "nnk.h"
#include "pool.h"

#define ALIGN 64

typedef struct {
  const nnk_kernel_table *t;
  int f64, op, grad;
  size_t n;
  const void *a, *b;
  void *out;
} map_job;

static void map_member(void *ctx, int tid, int team, nnk_barrier *barrier)
{
  (void)barrier;
  const map_job *j = ctx;
  size_t lo, hi;
  nnk_share((j->n + ALIGN - 1) / ALIGN, tid, team, &lo, &hi);
  lo *= ALIGN, hi = hi * ALIGN < j->n ? hi * ALIGN : j->n;
  if (lo >= hi) return;
  size_t len = hi - lo;
  if (j->f64) {
    const double *a = (const double *)j->a + lo, *b = j->b ? (const double *)j->b + lo : NULL;
    double *out = (double *)j->out + lo;
    if (j->grad) j->t->f64.grad[j->op](len, a, b, out);
    else j->t->f64.map[j->op](len, a, out);
  } else {
    const float *a = (const float *)j->a + lo, *b = j->b ? (const float *)j->b + lo : NULL;
    float *out = (float *)j->out + lo;
    if (j->grad) j->t->f32.grad[j->op](len, a, b, out);
    else j->t->f32.map[j->op](len, a, out);
  }
}

int nnk_map_threads(size_t n)
{
  if (n < NNK_MAP_THREADED) return 1;
  int threads = nnk_get_num_threads();
  size_t most = n / (NNK_MAP_THREADED / 2); /* every member gets a fair share */
  return (size_t)threads > most ? (int)most : threads;
}

static void run(map_job *j) { nnk_parallel(nnk_map_threads(j->n), map_member, j); }

void nnk_map_vunary(const nnk_kernel_table *t, int f64, int op, size_t n, const void *x, void *y)
{
  map_job j = {.t = t, .f64 = f64, .op = op, .n = n, .a = x, .out = y};
  run(&j);
}

void nnk_map_vgrad(const nnk_kernel_table *t, int f64, int op, size_t n, const void *u,
                   const void *g, void *out)
{
  map_job j = {.t = t, .f64 = f64, .op = op, .grad = 1, .n = n, .a = u, .b = g, .out = out};
  run(&j);
}
