/* Row kernels of a kernel table (NNK_ROW_LAYER_LIST) over the thread pool when large
 * (rows.c): LayerNorm forward, the fused cross-entropy and the softmax family, whose
 * rows are independent. */
#ifndef NNK_ROWS_H
#define NNK_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "nnk_kernels.h"

/* table t's layernorm (float32 when f64 == 0), arguments as NNK_SIG_LAYERNORM. */
void nnk_rows_layernorm(const nnk_kernel_table *t, int f64, size_t rows, size_t n, const void *x,
                        const void *gamma, const void *beta, double eps, void *y, void *mean,
                        void *rstd);
/* table t's layernorm_grad, arguments as NNK_SIG_LAYERNORM_GRAD: dx's rows split across
 * threads, and from NNK_MAP_THREADED elements on dgamma and dbeta summed by fixed blocks
 * of rows (each from zero, then added to them in block order), so that every thread
 * count gives the same bits.  Returns 0, or -1 when the blocks' sums could not be
 * allocated. */
int nnk_rows_layernorm_grad(const nnk_kernel_table *t, int f64, size_t rows, size_t n,
                            const void *x, const void *gamma, const void *mean,
                            const void *rstd, const void *dy, void *dx, void *dgamma,
                            void *dbeta);
/* table t's cross_entropy, arguments as NNK_SIG_CROSS_ENTROPY. */
void nnk_rows_cross_entropy(const nnk_kernel_table *t, int f64, size_t rows, size_t n,
                            const void *x, const int64_t *labels, int64_t ignore, double scale,
                            void *loss, void *dx);

/* table t's rows[op] (NNK_ROWS_LIST: y like x, or one value per row) and rows_grad[op]. */
void nnk_rows_softmax(const nnk_kernel_table *t, int f64, int op, size_t rows, size_t n,
                      const void *x, void *y);
void nnk_rows_softmax_grad(const nnk_kernel_table *t, int f64, int op, size_t rows, size_t n,
                           const void *y, const void *dy, void *dx);

#endif
