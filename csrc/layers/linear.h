/* The fully connected layer y = x W^T + b and its backward, as single calls. */
#ifndef NNK_LINEAR_H
#define NNK_LINEAR_H

#include <stdbool.h>
#include <stddef.h>

#include "nnk.h"

/* y (n, out) = x (n, in) W^T + b; W is (out, in); b (out) may be NULL.  Row-major,
 * contiguous.  Whatever y held is ignored. */
nnk_status nnk_f32_linear_forward(size_t n, size_t in, size_t out, const float *x,
                                  const float *w, const float *b, float *y);
nnk_status nnk_f64_linear_forward(size_t n, size_t in, size_t out, const double *x,
                                  const double *w, const double *b, double *y);

/* From g = dL/dy (n, out): dw (out, in) += g^T x and db (out) += the column sums of g
 * (either may be NULL: a frozen parameter's, not computed), or, when add is false, dw and
 * db set to them (whatever they held is ignored: a gradient zeroed lazily, nn's
 * Parameter); dx (n, in) = g W is written when dx is not NULL. */
nnk_status nnk_f32_linear_backward(size_t n, size_t in, size_t out, const float *x,
                                   const float *w, const float *g, float *dw, float *db,
                                   float *dx, bool add);
nnk_status nnk_f64_linear_backward(size_t n, size_t in, size_t out, const double *x,
                                   const double *w, const double *g, double *dw, double *db,
                                   double *dx, bool add);

#endif
