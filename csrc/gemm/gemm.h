/* GEMM with a bias row, for the layers (csrc/layers/): C = alpha op(A) op(B) + beta C,
 * plus bias[j] added to every row j-th value when bias is not NULL (n values).  The
 * arguments and errors are nnk_sgemm's / nnk_dgemm's (nnk.h), which are these with no
 * bias.  The blocked paths lay the bias row down tile by tile just before the tile adds
 * to it: no serial pass over C first. */
#ifndef NNK_GEMM_H
#define NNK_GEMM_H

#include <stdbool.h>
#include <stddef.h>

#include "nnk.h"

nnk_status nnk_f32_gemm_bias(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                             const float *a, size_t lda, const float *b, size_t ldb, float beta,
                             float *c, size_t ldc, const float *bias);
nnk_status nnk_f64_gemm_bias(bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                             double alpha, const double *a, size_t lda, const double *b,
                             size_t ldb, double beta, double *c, size_t ldc, const double *bias);

#endif
