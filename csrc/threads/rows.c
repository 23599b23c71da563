/*
 * Row kernels over the thread pool (LayerNorm, the fused cross-entropy, the softmax
 * family and its gradients): the rows split into one contiguous share per team
 * member, each member calling the kernel on its own rows.  A row is computed the same
 * way whichever member computes it, so the result is bitwise that of one thread.  Below
 * NNK_MAP_THREADED elements the calling thread does it all (the team's start-up would
 * cost more): the team is the maps' (nnk_map_threads).  LayerNorm's backward also sums
 * over the rows (its parameters' gradients): see nnk_rows_layernorm_grad.
 */
#include "rows.h"

#include <stdlib.h>
#include <string.h>

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
  const void *dy;        /* layernorm_grad: x, gamma, mean, rstd, dy in; y = dx out */
  void *partial;         /* its blocks' parameter gradients, dgamma's then dbeta's, each */
  size_t half;           /* n values padded to whole cache lines (bytes) */
  int dgamma, dbeta;     /* which of them are wanted */
  size_t block;
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

/* layernorm_grad on blocks lo..hi-1 of `block` rows (blocks_member's share), each
 * block's parameter gradients summed from zero in its own partial. */
static void layernorm_grad_blocks(const rows_job *j, size_t lo, size_t hi)
{
  const size_t n = j->n;
  for (size_t b = lo; b < hi; b++) {
    size_t r0 = b * j->block, r = j->rows - r0 < j->block ? j->rows - r0 : j->block;
    char *pg = j->partial ? (char *)j->partial + 2 * j->half * b : NULL, *pb = pg ? pg + j->half : NULL;
    if (pg) memset(pg, 0, 2 * j->half);
    const void *x = at(j, j->x, r0 * n), *mean = at(j, j->mean, r0), *rstd = at(j, j->rstd, r0);
    const void *dy = at(j, j->dy, r0 * n);
    void *dx = (void *)at(j, j->y, r0 * n);
    if (j->f64)
      j->t->f64.layernorm_grad(r, n, x, j->gamma, mean, rstd, dy, dx, j->dgamma ? (double *)pg : NULL,
                               j->dbeta ? (double *)pb : NULL);
    else
      j->t->f32.layernorm_grad(r, n, x, j->gamma, mean, rstd, dy, dx, j->dgamma ? (float *)pg : NULL,
                               j->dbeta ? (float *)pb : NULL);
  }
}

static void blocks_member(void *ctx, int tid, int team, nnk_barrier *barrier)
{
  (void)barrier;
  const rows_job *j = ctx;
  size_t lo, hi;
  nnk_share((j->rows + j->block - 1) / j->block, tid, team, &lo, &hi);
  layernorm_grad_blocks(j, lo, hi);
}

static void run(rows_job *j)
{
  nnk_parallel(nnk_map_team(j->rows * j->n, j->rows), rows_member, j); /* a row is not split */
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

/* Blocks of at least this many elements (a few per member: each costs its partial's
 * clearing and adding), and at most LN_GRAD_BLOCKS of them: the partials (2 n values a
 * block) stay small beside the rows (4096 x 4096: 16 blocks, 512 KB against 64 MB of x;
 * with 64 blocks, 2 MB, one thread ran 3-5 % slower than the row-order sums). */
#define LN_GRAD_BLOCK_ELEMENTS ((size_t)1 << 15)
#define LN_GRAD_BLOCKS 16

int nnk_rows_layernorm_grad(const nnk_kernel_table *t, int f64, size_t rows, size_t n,
                            const void *x, const void *gamma, const void *mean,
                            const void *rstd, const void *dy, void *dx, void *dgamma,
                            void *dbeta)
{
  if (rows * n < NNK_MAP_THREADED) { /* one thread, the sums in row order */
    if (f64)
      t->f64.layernorm_grad(rows, n, x, gamma, mean, rstd, dy, dx, dgamma, dbeta);
    else
      t->f32.layernorm_grad(rows, n, x, gamma, mean, rstd, dy, dx, dgamma, dbeta);
    return 0;
  }
  size_t block = (LN_GRAD_BLOCK_ELEMENTS + n - 1) / n, fewest = (rows + LN_GRAD_BLOCKS - 1) / LN_GRAD_BLOCKS;
  if (block < fewest) block = fewest;
  const size_t blocks = (rows + block - 1) / block, esz = f64 ? sizeof(double) : sizeof(float);
  rows_job j = {.t = t, .f64 = f64, .rows = rows, .n = n, .x = x, .gamma = gamma,
                .mean = (void *)mean, .rstd = (void *)rstd, .dy = dy, .y = dx,
                .dgamma = dgamma != NULL, .dbeta = dbeta != NULL, .block = block};
  /* each partial on cache lines, as the kernel's whole vectors of it are (malloc's 16
   * bytes split every 64-byte load and store of them: one thread 15 % slower at 1024 x
   * 128) */
  j.half = (n * esz + 63) / 64 * 64;
  if ((dgamma || dbeta) && !(j.partial = aligned_alloc(64, 2 * j.half * blocks))) return -1;
  nnk_parallel(nnk_map_team(rows * n, blocks), blocks_member, &j);
  for (size_t b = 0; j.partial && b < blocks; b++) { /* in block order, whatever the team */
    const char *pg = (const char *)j.partial + 2 * j.half * b, *pb = pg + j.half;
    if (dgamma && f64) t->f64.axpy(n, 1, (const double *)pg, dgamma);
    else if (dgamma) t->f32.axpy(n, 1, (const float *)pg, dgamma);
    if (dbeta && f64) t->f64.axpy(n, 1, (const double *)pb, dbeta);
    else if (dbeta) t->f32.axpy(n, 1, (const float *)pb, dbeta);
  }
  free(j.partial);
  return 0;
}
