/* Elementwise maps of a kernel table, threaded when large (maps.c). */
#ifndef NNK_MAPS_H
#define NNK_MAPS_H

#include <stddef.h>

#include "nnk_kernels.h"

/* From this many elements a map runs on the thread pool (each member at least half). */
#define NNK_MAP_THREADED ((size_t)1 << 17)

/* The team for n elements of elementwise work: 1 below NNK_MAP_THREADED, else the
 * thread count, each member with at least half that many. */
int nnk_map_threads(size_t n);

/* y = f_op(x) over n elements of float32 (f64 == 0) or float64, with table t's kernels. */
void nnk_map_vunary(const nnk_kernel_table *t, int f64, int op, size_t n, const void *x, void *y);
/* out = f_op'(u) * g over n elements. */
void nnk_map_vgrad(const nnk_kernel_table *t, int f64, int op, size_t n, const void *u,
                   const void *g, void *out);

#endif
