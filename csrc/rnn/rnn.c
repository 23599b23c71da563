/* The RNN's forward and backward-through-time loops (tanh or ReLU), for both dtypes. */
#include <stdlib.h>
#include <string.h>

#include "nnk.h"
#include "nnk_kernels.h"
#include "rnn.h"

#define T float
#define FN(name) nnk_f32_##name
#define GEMM nnk_sgemm_strided
#define MAP(op, n, x, y) k->f32.map[op](n, x, y)
#define GRAD(op, n, u, g, out) k->f32.grad[op](n, u, g, out)
#include "rnn_impl.h"
#undef T
#undef FN
#undef GEMM
#undef MAP
#undef GRAD

#define T double
#define FN(name) nnk_f64_##name
#define GEMM nnk_dgemm_strided
#define MAP(op, n, x, y) k->f64.map[op](n, x, y)
#define GRAD(op, n, u, g, out) k->f64.grad[op](n, u, g, out)
#include "rnn_impl.h"

/* Embedding backward: dW[ids[i]] += dy[i] for each of n ids (rows of dim), through the
 * ISA's axpy, but for ids equal to skip (a padding row, whose gradient stays as it is;
 * -1: none).  Ids were range-checked by the caller; checked again here, so a bad id is
 * an error, never a write out of bounds. */
#define DEFINE_EMBED_BACKWARD(T, P, AXPY)                                                 \
  nnk_status nnk_##P##_embedding_backward(size_t n, size_t dim, size_t rows,              \
                                          const long long *ids, long long skip,           \
                                          const T *dy, T *dw)                             \
  {                                                                                       \
    const nnk_kernel_table *k = nnk_kernels();                                            \
    for (size_t i = 0; i < n; i++)                                                        \
      if (ids[i] < 0 || (unsigned long long)ids[i] >= rows) return NNK_EINVAL;            \
    for (size_t i = 0; i < n; i++)                                                        \
      if (ids[i] != skip) k->AXPY(dim, 1, dy + i * dim, dw + (size_t)ids[i] * dim);       \
    return NNK_OK;                                                                        \
  }
DEFINE_EMBED_BACKWARD(float, f32, f32.axpy)
DEFINE_EMBED_BACKWARD(double, f64, f64.axpy)
