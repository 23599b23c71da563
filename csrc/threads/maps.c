/*
 * Elementwise work over the thread pool: maps, gradients, the parametrised maps,
 * pointwise losses (their sums and gradients) and the optimisers' updates.  [0, n) is
 * split into one contiguous range per team member; each element is computed alone,
 * and every range but the last starts at a multiple of 64 elements (whole vectors on
 * every ISA), so a threaded call gives bitwise what one thread gives.  A loss's sum is
 * taken over fixed blocks of NNK_LOSS_BLOCK elements (ranges start at whole blocks)
 * and the block sums are added in order, on one thread as on many: the same bits
 * whatever the team.  Small inputs stay on the calling thread: below NNK_MAP_THREADED
 * elements the team's start-up would cost more than it saves.  A map or gradient whose
 * output outgrows the last-level cache is written around the caches (goes_around).
 */
#include "maps.h"

#include <stdint.h>
#include <stdlib.h>

#include "nnk.h"
#include "pool.h"

#define ALIGN 64

typedef enum { MAP, GRAD, PMAP, PGRAD, LOSS, LOSS_GRAD, SGD, ADAM, RMSPROP, ADAGRAD, AXPY } job_kind;

/* One call's operands: inputs a, b; output (or the parameter) out; optimiser state s1,
 * s2; scalars p[] and a flag, in the order of the kernel's signature. */
typedef struct {
  const nnk_kernel_table *t;
  int f64, op, flag;
  int around; /* MAP, GRAD: the output goes around the caches (the _nt kernels) */
  job_kind kind;
  size_t n, align;
  const void *a, *b;
  void *out, *s1, *s2, *s3;
  double p[7];
  double *sums; /* LOSS: one per block */
} map_job;

/* The kernel of job j on elements [lo, hi), for element type T and the table's part K. */
#define RUN_RANGE(T, K)                                                                   \
  do {                                                                                    \
    size_t len = hi - lo;                                                                 \
    const T *a = (const T *)j->a + lo, *b = j->b ? (const T *)j->b + lo : NULL;           \
    T *out = j->out ? (T *)j->out + lo : NULL;                                            \
    T *s1 = j->s1 ? (T *)j->s1 + lo : NULL, *s2 = j->s2 ? (T *)j->s2 + lo : NULL;         \
    T *s3 = j->s3 ? (T *)j->s3 + lo : NULL;                                               \
    const double *p = j->p;                                                               \
    switch (j->kind) {                                                                    \
    case MAP: (j->around ? K.map_nt : K.map)[j->op](len, a, out); break;                  \
    case GRAD: (j->around ? K.grad_nt : K.grad)[j->op](len, a, b, out); break;            \
    case PMAP: K.pmap[j->op](len, a, out, (T)p[0]); break;                                \
    case PGRAD: K.pgrad[j->op](len, a, b, out, (T)p[0]); break;                           \
    case LOSS:                                                                            \
      for (size_t at = lo; at < hi; at += NNK_LOSS_BLOCK) {                               \
        size_t m = hi - at < NNK_LOSS_BLOCK ? hi - at : NNK_LOSS_BLOCK;                   \
        j->sums[at / NNK_LOSS_BLOCK] = (double)K.loss[j->op](                             \
            m, (const T *)j->a + at, (const T *)j->b + at, j->out ? (T *)j->out + at : NULL); \
      }                                                                                   \
      break;                                                                              \
    case LOSS_GRAD: K.loss_grad[j->op](len, a, b, (T)p[0], out); break;                   \
    case SGD: K.sgd_step(len, out, a, s1, (T)p[0], (T)p[1], (T)p[2], (T)p[3], j->flag); break; \
    case ADAM:                                                                            \
      K.adam_step(len, out, a, s1, s2, s3, (T)p[0], (T)p[1], (T)p[2], (T)p[3], (T)p[4],    \
                  (T)p[5], (T)p[6], j->flag);                                             \
      break;                                                                              \
    case RMSPROP:                                                                         \
      K.rmsprop_step(len, out, a, s1, s2, s3, (T)p[0], (T)p[1], (T)p[2], (T)p[3], (T)p[4],  \
                     j->flag);                                                            \
      break;                                                                              \
    case ADAGRAD: K.adagrad_step(len, out, a, s1, (T)p[0], (T)p[1], (T)p[2], j->flag); break; \
    case AXPY: K.axpy(len, (T)p[0], a, out); break;                                       \
    }                                                                                     \
  } while (0)

/* Job j's kernel on its elements [lo, hi). */
static void run_range(const map_job *j, size_t lo, size_t hi)
{
  if (lo >= hi) return;
  if (j->f64) RUN_RANGE(double, j->t->f64);
  else RUN_RANGE(float, j->t->f32);
}

static void map_member(void *ctx, int tid, int team, nnk_barrier *barrier)
{
  (void)barrier;
  const map_job *j = ctx;
  size_t lo, hi;
  nnk_share((j->n + j->align - 1) / j->align, tid, team, &lo, &hi);
  lo *= j->align, hi = hi * j->align < j->n ? hi * j->align : j->n;
  run_range(j, lo, hi);
}

/* Several jobs as one team's work (an optimiser's step over all its parameters): their
 * elements laid end to end, each job's rounded up to whole ALIGN pieces, so that every
 * split falls a multiple of ALIGN from a job's start, as one job's splits do: each
 * element computed as the jobs one by one compute it. */
typedef struct {
  const map_job *jobs;
  size_t count, pieces;
} map_list;

static size_t job_pieces(const map_job *j) { return (j->n + ALIGN - 1) / ALIGN; }

static void list_member(void *ctx, int tid, int team, nnk_barrier *barrier)
{
  (void)barrier;
  const map_list *l = ctx;
  size_t lo, hi, base = 0;
  nnk_share(l->pieces, tid, team, &lo, &hi);
  for (size_t i = 0; i < l->count && base < hi; i++) {
    const map_job *j = &l->jobs[i];
    const size_t len = job_pieces(j), a = lo > base ? lo - base : 0, b = hi - base < len ? hi - base : len;
    if (a < b) run_range(j, a * ALIGN, b * ALIGN < j->n ? b * ALIGN : j->n);
    base += len;
  }
}

int nnk_map_threads(size_t n)
{
  if (n < NNK_MAP_THREADED) return 1;
  int threads = nnk_get_num_threads();
  size_t most = n / (NNK_MAP_THREADED / 2); /* every member gets a fair share */
  return (size_t)threads > most ? (int)most : threads;
}

int nnk_map_team(size_t n, size_t pieces)
{
  int threads = nnk_map_threads(n);
  return (size_t)threads > pieces ? (pieces ? (int)pieces : 1) : threads;
}

static void run(map_job *j)
{
  if (!j->align) j->align = ALIGN;
  nnk_parallel(nnk_map_team(j->n, (j->n + j->align - 1) / j->align), map_member, j);
}

/* Whether a map's output of n elements goes around the caches, through the table's _nt
 * kernels (non-temporal stores; NULL where the ISA has none).  An output as large as the
 * last-level cache cannot stay in it: written through the caches, each line is first read
 * from memory (the write-allocate) and then evicts what the caller may want next;
 * written around them, it costs one transfer per line instead of two.  Measured on AMD
 * Zen 4 (32 MiB L3, AVX-512), exp of 16M float32, output as NumPy allocates it: two
 * threads 3.28 -> 2.48 ms, one 4.2 either way.  On AMD Zen 3 (32 MiB L3, AVX2: float32's
 * layer has them, f32_avx2.h), 16M float32 as NumPy allocates them, one thread / two,
 * side by side, best of seven, ms: exp 9.3-9.5 / 4.8-5.3 -> 7.4-7.8 / 3.9-4.0, relu
 * 5.8-6.1 / 3.0-4.8 -> 3.8-4.9 / 2.2-3.0, tanh 21.4-21.7 -> 20.6-21.1 (one), sigmoid
 * 15.6-15.8 -> 14.8-14.9 (one), GELU 30.5-30.9 -> 29.2-29.5 (one), its gradient 33.2-34.7
 * / 16.7-18.0 -> 30.1-30.5 / 15.5-15.8.
 * The size comes from the CPU's caches at run time (the last level it reports).
 *
 * Unless the output lies a little ahead of an input in address bits 0-11 (apart):
 * loads run ahead of the stores before them, and a load whose low 12 address bits match
 * a store still pending waits for it (4K aliasing); non-temporal stores stay pending in
 * the write-combining buffers, so that one thread's exp ran 2.5x slower with them when
 * the output was 112-224 bytes ahead of the input (4.2 ms for 0-32 and 512-4064, 4.8-5.8
 * for 48-96 and 240-256; through the caches 4.1-4.9 throughout).  So only outputs level
 * with their inputs there (in place, or both arrays as NumPy allocates them) or at least
 * a quarter page ahead. */
static int apart_ok(const void *out, const void *in)
{
  size_t d = ((uintptr_t)out - (uintptr_t)in) & 4095;
  return d == 0 || d >= 1024;
}

static int goes_around(const nnk_kernel_table *t, int f64, int grad, int op, size_t n,
                       const void *out, const void *a, const void *b)
{
  const void *nt = f64 ? (grad ? (const void *)t->f64.grad_nt[op] : (const void *)t->f64.map_nt[op])
                       : (grad ? (const void *)t->f32.grad_nt[op] : (const void *)t->f32.map_nt[op]);
  size_t last = nnk_cache_last();
  return nt && last && n * (f64 ? sizeof(double) : sizeof(float)) >= last && apart_ok(out, a) &&
         (!b || apart_ok(out, b));
}

void nnk_map_vunary(const nnk_kernel_table *t, int f64, int op, size_t n, const void *x, void *y)
{
  map_job j = {.t = t, .f64 = f64, .op = op, .kind = MAP, .n = n, .a = x, .out = y,
               .around = goes_around(t, f64, 0, op, n, y, x, NULL)};
  run(&j);
}

void nnk_map_vgrad(const nnk_kernel_table *t, int f64, int op, size_t n, const void *u,
                   const void *g, void *out)
{
  map_job j = {.t = t, .f64 = f64, .op = op, .kind = GRAD, .n = n, .a = u, .b = g, .out = out,
               .around = goes_around(t, f64, 1, op, n, out, u, g)};
  run(&j);
}

void nnk_map_pmap(const nnk_kernel_table *t, int f64, int op, size_t n, const void *x, void *y,
                  double a)
{
  map_job j = {.t = t, .f64 = f64, .op = op, .kind = PMAP, .n = n, .a = x, .out = y, .p = {a}};
  run(&j);
}

void nnk_map_pgrad(const nnk_kernel_table *t, int f64, int op, size_t n, const void *u,
                   const void *g, void *out, double a)
{
  map_job j = {.t = t, .f64 = f64, .op = op, .kind = PGRAD, .n = n, .a = u, .b = g, .out = out,
               .p = {a}};
  run(&j);
}

double nnk_map_loss(const nnk_kernel_table *t, int f64, int op, size_t n, const void *y,
                    const void *target, void *each)
{
  size_t blocks = (n + NNK_LOSS_BLOCK - 1) / NNK_LOSS_BLOCK;
  double one[1] = {0}, *sums = blocks > 1 ? malloc(blocks * sizeof *sums) : one;
  map_job j = {.t = t, .f64 = f64, .op = op, .kind = LOSS, .n = n, .align = NNK_LOSS_BLOCK,
               .a = y, .b = target, .out = each, .sums = sums};
  if (!sums) { /* no memory for the block sums: the same blocks, one call each, in order */
    size_t esz = f64 ? sizeof(double) : sizeof(float);
    double total = 0;
    for (size_t at = 0; at < n; at += NNK_LOSS_BLOCK) {
      double s;
      map_job block = j;
      block.n = n - at < NNK_LOSS_BLOCK ? n - at : NNK_LOSS_BLOCK;
      block.a = (const char *)y + at * esz, block.b = (const char *)target + at * esz;
      block.out = each ? (char *)each + at * esz : NULL, block.sums = &s;
      run(&block);
      total += s;
    }
    return total;
  }
  run(&j);
  double total = 0;
  for (size_t i = 0; i < blocks; i++) total += sums[i];
  if (sums != one) free(sums);
  return total;
}

void nnk_map_loss_grad(const nnk_kernel_table *t, int f64, int op, size_t n, const void *y,
                       const void *target, double scale, void *dy)
{
  map_job j = {.t = t, .f64 = f64, .op = op, .kind = LOSS_GRAD, .n = n, .a = y, .b = target,
               .out = dy, .p = {scale}};
  run(&j);
}

void nnk_map_sgd(const nnk_kernel_table *t, int f64, size_t n, void *p, const void *g, void *v,
                 double lr, double mu, double dampening, double wd, int options)
{
  map_job j = {.t = t, .f64 = f64, .kind = SGD, .n = n, .a = g, .out = p, .s1 = v,
               .p = {lr, mu, dampening, wd}, .flag = options};
  run(&j);
}

void nnk_map_adam(const nnk_kernel_table *t, int f64, size_t n, void *p, const void *g, void *m,
                  void *v, void *vmax, double lr, double b1, double b2, double eps, double c1,
                  double c2, double wd, int options)
{
  map_job j = {.t = t, .f64 = f64, .kind = ADAM, .n = n, .a = g, .out = p, .s1 = m, .s2 = v,
               .s3 = vmax, .p = {lr, b1, b2, eps, c1, c2, wd}, .flag = options};
  run(&j);
}

void nnk_map_adam_list(const nnk_kernel_table *t, int f64, size_t count, void *const *p,
                       const void *const *g, void *const *m, void *const *v, void *const *vmax,
                       const size_t *n, double lr, double b1, double b2, double eps, double c1,
                       double c2, double wd, int options)
{
  map_job *jobs = malloc((count ? count : 1) * sizeof *jobs);
  size_t total = 0, pieces = 0;
  for (size_t i = 0; i < count; i++) {
    map_job j = {.t = t, .f64 = f64, .kind = ADAM, .n = n[i], .a = g[i], .out = p[i], .s1 = m[i],
                 .s2 = v[i], .s3 = vmax ? vmax[i] : NULL, .p = {lr, b1, b2, eps, c1, c2, wd},
                 .flag = options, .align = ALIGN};
    if (!jobs) { /* no room for the list: the parameters one by one */
      run(&j);
      continue;
    }
    jobs[i] = j, total += n[i], pieces += job_pieces(&j);
  }
  if (!jobs) return;
  map_list l = {.jobs = jobs, .count = count, .pieces = pieces};
  nnk_parallel(nnk_map_team(total, pieces), list_member, &l);
  free(jobs);
}

void nnk_map_axpy(const nnk_kernel_table *t, int f64, size_t n, double a, const void *x, void *y)
{
  map_job j = {.t = t, .f64 = f64, .kind = AXPY, .n = n, .a = x, .out = y, .p = {a}};
  run(&j);
}

void nnk_map_rmsprop(const nnk_kernel_table *t, int f64, size_t n, void *p, const void *g, void *v,
                     void *gavg, void *buf, double lr, double alpha, double eps, double wd,
                     double mu, int options)
{
  map_job j = {.t = t, .f64 = f64, .kind = RMSPROP, .n = n, .a = g, .out = p, .s1 = v,
               .s2 = gavg, .s3 = buf, .p = {lr, alpha, eps, wd, mu}, .flag = options};
  run(&j);
}

void nnk_map_adagrad(const nnk_kernel_table *t, int f64, size_t n, void *p, const void *g,
                     void *sum, double lr, double eps, double wd, int options)
{
  map_job j = {.t = t, .f64 = f64, .kind = ADAGRAD, .n = n, .a = g, .out = p, .s1 = sum,
               .p = {lr, eps, wd}, .flag = options};
  run(&j);
}
