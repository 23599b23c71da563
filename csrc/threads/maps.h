/* Elementwise work of a kernel table, threaded when large (maps.c): maps, gradients,
 * pointwise losses, optimiser updates. */
#ifndef NNK_MAPS_H
#define NNK_MAPS_H

#include <stddef.h>

#include "nnk_kernels.h"

/* From this many elements a map runs on the thread pool (each member at least half). */
#define NNK_MAP_THREADED ((size_t)1 << 17)

/* The team for n elements of elementwise work: 1 below NNK_MAP_THREADED, else the
 * thread count, each member with at least half that many. */
int nnk_map_threads(size_t n);

/* nnk_map_threads's team for n elements cut into `pieces` (rows, blocks, aligned pieces)
 * that are not split: no member without a piece, and at least one. */
int nnk_map_team(size_t n, size_t pieces);

/* A loss's sum is taken over blocks of this many elements, added in order. */
#define NNK_LOSS_BLOCK ((size_t)1 << 15)

/* y = f_op(x) over n elements of float32 (f64 == 0) or float64, with table t's kernels. */
void nnk_map_vunary(const nnk_kernel_table *t, int f64, int op, size_t n, const void *x, void *y);
/* out = f_op'(u) * g over n elements. */
void nnk_map_vgrad(const nnk_kernel_table *t, int f64, int op, size_t n, const void *u,
                   const void *g, void *out);
/* The parametrised maps and gradients (NNK_PMAP_LIST, NNK_PGRAD_LIST), parameter a. */
void nnk_map_pmap(const nnk_kernel_table *t, int f64, int op, size_t n, const void *x, void *y,
                  double a);
void nnk_map_pgrad(const nnk_kernel_table *t, int f64, int op, size_t n, const void *u,
                   const void *g, void *out, double a);
/* A pointwise loss (NNK_LOSS_LIST): its sum (each l stored when each != NULL), and its
 * gradient dy = scale dl/dy. */
double nnk_map_loss(const nnk_kernel_table *t, int f64, int op, size_t n, const void *y,
                    const void *target, void *each);
void nnk_map_loss_grad(const nnk_kernel_table *t, int f64, int op, size_t n, const void *y,
                       const void *target, double scale, void *dy);
/* The optimisers' updates (NNK_STEP_LIST), arguments as their signatures. */
void nnk_map_sgd(const nnk_kernel_table *t, int f64, size_t n, void *p, const void *g, void *v,
                 double lr, double mu, double dampening, double wd, int options);
void nnk_map_adam(const nnk_kernel_table *t, int f64, size_t n, void *p, const void *g, void *m,
                  void *v, void *vmax, double lr, double b1, double b2, double eps, double c1,
                  double c2, double wd, int options);
/* nnk_map_adam on `count` parameters at once (p[i], g[i], m[i], v[i] and, unless vmax is
 * NULL, vmax[i] of n[i] elements, one set of scalars): one team over all their elements,
 * each computed as nnk_map_adam computes it.  The parameters must lie apart from each
 * other's operands. */
void nnk_map_adam_list(const nnk_kernel_table *t, int f64, size_t count, void *const *p,
                       const void *const *g, void *const *m, void *const *v, void *const *vmax,
                       const size_t *n, double lr, double b1, double b2, double eps, double c1,
                       double c2, double wd, int options);
void nnk_map_rmsprop(const nnk_kernel_table *t, int f64, size_t n, void *p, const void *g, void *v,
                     void *gavg, void *buf, double lr, double alpha, double eps, double wd,
                     double mu, int options);
void nnk_map_adagrad(const nnk_kernel_table *t, int f64, size_t n, void *p, const void *g,
                     void *sum, double lr, double eps, double wd, int options);
void nnk_map_axpy(const nnk_kernel_table *t, int f64, size_t n, double a, const void *x, void *y);

#endif
