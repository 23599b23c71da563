/*
 * Row kernels over the thread pool (LayerNorm, the fused cross-entropy, the softmax
 * family and its gradients): the rows split into one contiguous share per team
 * member, each member calling the kernel on its own rows.  A row is computed the same
 * way whichever member computes it, so the result is bitwise that of one thread.  Below
 * NNK_MAP_THREADED elements the calling thread does it all (the team's start-up would
 * cost more): the team is the maps' (nnk_map_threads).
 */
#include "rows.h"

#include "maps.h"
#include "nnk.h"
#include "pool.h"

typedef struct {
  const nnk_kernel_table *t;
  int f64, kind, op; /* kind 0: layernorm, 1: cross_entropy, 2: rows[op], 3: rows_grad[op] */
  size_t rows, n;
  const void *x, *gamma, *beta;
  const int64_t *labels;
  int64_t ignore;
  double eps, scale;
  void *y, *mean, *rstd; /* cross_entropy: y = dx, mean = loss; rows_grad: gamma = dy */
  int per_row;           /* rows[op] gives one value per row */
} rows_job;

/* p advanced by `count` elements of the job's dtype (NULL stays NULL). */
static const void *at(const rows_job *j, const void *p, size_t count)
{
  return p ? (const char *)p + count * (j->f64 ? sizeof(double) : sizeof(float)) : NULL;
}

static void rows_member(void *ctx, int tid, int team, nnk_barrier *barrier)
{
  (void)barrier;
  const rows_job *j = ctx;
  size_t lo, hi;
  nnk_share(j->rows, tid, team, &lo, &hi);
  if (lo >= hi) return;
  size_t r = hi - lo, n = j->n;
  void *y = (void *)at(j, j->y, lo * n), *m = (void *)at(j, j->mean, lo);
  void *s = (void *)at(j, j->rstd, lo);
  const void *x = at(j, j->x, lo * n);
  if (j->kind == 2) {
    void *out = (void *)at(j, j->y, j->per_row ? lo : lo * n);
    if (j->f64) j->t->f64.rows[j->op](r, n, x, out);
    else j->t->f32.rows[j->op](r, n, x, out);
  } else if (j->kind == 3) {
    const void *dy = at(j, j->gamma, lo * n);
    if (j->f64) j->t->f64.rows_grad[j->op](r, n, x, dy, y);
    else j->t->f32.rows_grad[j->op](r, n, x, dy, y);
  } else if (j->kind == 0 && j->f64)
    j->t->f64.layernorm(r, n, x, j->gamma, j->beta, j->eps, y, m, s);
  else if (j->kind == 0)
    j->t->f32.layernorm(r, n, x, j->gamma, j->beta, (float)j->eps, y, m, s);
  else if (j->f64)
    j->t->f64.cross_entropy(r, n, x, j->labels + lo, j->ignore, j->scale, m, y);
  else
    j->t->f32.cross_entropy(r, n, x, j->labels + lo, j->ignore, (float)j->scale, m, y);
}

static void run(rows_job *j)
{
  int threads = nnk_map_threads(j->rows * j->n);
  if ((size_t)threads > j->rows) threads = (int)j->rows; /* a row is not split */
  nnk_parallel(threads > 0 ? threads : 1, rows_member, j);
}

void nnk_rows_layernorm(const nnk_kernel_table *t, int f64, size_t rows, size_t n, const void *x,
                        const void *gamma, const void *beta, double eps, void *y, void *mean,
                        void *rstd)
{
  rows_job j = {.t = t, .f64 = f64, .kind = 0, .rows = rows, .n = n, .x = x, .gamma = gamma,
                .beta = beta, .eps = eps, .y = y, .mean = mean, .rstd = rstd};
  run(&j);
}

void nnk_rows_cross_entropy(const nnk_kernel_table *t, int f64, size_t rows, size_t n,
                            const void *x, const int64_t *labels, int64_t ignore, double scale,
                            void *loss, void *dx)
{
  rows_job j = {.t = t, .f64 = f64, .kind = 1, .rows = rows, .n = n, .x = x, .labels = labels,
                .ignore = ignore, .scale = scale, .y = dx, .mean = loss};
  run(&j);
}

void nnk_rows_softmax(const nnk_kernel_table *t, int f64, int op, size_t rows, size_t n,
                      const void *x, void *y)
{
  static const int per_row[] = {
#define PER_ROW_(E, name, per_row, ...) per_row,
      NNK_ROWS_LIST(PER_ROW_, )};
  rows_job j = {.t = t, .f64 = f64, .kind = 2, .op = op, .rows = rows, .n = n, .x = x, .y = y,
                .per_row = per_row[op]};
  run(&j);
}

void nnk_rows_softmax_grad(const nnk_kernel_table *t, int f64, int op, size_t rows, size_t n,
                           const void *y, const void *dy, void *dx)
{
  rows_job j = {.t = t, .f64 = f64, .kind = 3, .op = op, .rows = rows, .n = n, .x = y,
                .gamma = dy, .y = dx};
  run(&j);
}
