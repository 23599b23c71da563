/* Sequence-model loops: the RNN (forward, BPTT; tanh, or ReLU when relu) and embedding
 * backward. */
#ifndef NNK_RNN_H
#define NNK_RNN_H

#include <stddef.h>

#include "nnk.h"

nnk_status nnk_f32_rnn_forward(size_t B, size_t T, size_t I, size_t H, int relu, const float *x,
                               const float *wc, const float *wh, const float *b,
                               const float *h0, float *h);
nnk_status nnk_f64_rnn_forward(size_t B, size_t T, size_t I, size_t H, int relu, const double *x,
                               const double *wc, const double *wh, const double *b,
                               const double *h0, double *h);
nnk_status nnk_f32_rnn_backward(size_t B, size_t T, size_t I, size_t H, int relu, const float *x,
                                const float *wc, const float *wh, const float *h0,
                                const float *h, float *dh, float *dx, float *dwc, float *dwh,
                                float *db, float *dh0);
nnk_status nnk_f64_rnn_backward(size_t B, size_t T, size_t I, size_t H, int relu,
                                const double *x, const double *wc, const double *wh,
                                const double *h0, const double *h, double *dh, double *dx,
                                double *dwc, double *dwh, double *db, double *dh0);
/* dw[ids[i]] += dy[i], but for ids equal to skip (-1: none; an Embedding's padding_idx) */
nnk_status nnk_f32_embedding_backward(size_t n, size_t dim, size_t rows, const long long *ids,
                                      long long skip, const float *dy, float *dw);
nnk_status nnk_f64_embedding_backward(size_t n, size_t dim, size_t rows, const long long *ids,
                                      long long skip, const double *dy, double *dw);

#endif
