/* Causal multi-head self-attention over a packed qkv, forward and backward, as single
 * calls that share the (batch, head) pairs among the thread pool. */
#ifndef NNK_ATTENTION_H
#define NNK_ATTENTION_H

#include <stddef.h>

#include "nnk.h"

/* qkv (B, len, 3C) row-major holds q, k, v side by side (C = H D); o (B, len, C) is
 * written, lse (B, H, len) the rows' log-sum-exp for the backward pass.  scale is
 * usually 1/sqrt(D). */
nnk_status nnk_f32_attention_forward(size_t B, size_t len, size_t H, size_t D, const float *qkv,
                                     float scale, float *o, float *lse);
nnk_status nnk_f64_attention_forward(size_t B, size_t len, size_t H, size_t D, const double *qkv,
                                     double scale, double *o, double *lse);

/* The query rows first..len-1 of each sequence only, against every key and value up to
 * them: qkv (B, rows, 3C) holds rows >= len as well (a key/value cache of `rows`
 * places), o (B, len - first, C) is written; no lse.  NNK_EINVAL unless
 * first < len <= rows. */
nnk_status nnk_f32_attention_rows(size_t B, size_t rows, size_t len, size_t first, size_t H,
                                  size_t D, const float *qkv, float scale, float *o);
nnk_status nnk_f64_attention_rows(size_t B, size_t rows, size_t len, size_t first, size_t H,
                                  size_t D, const double *qkv, double scale, double *o);

/* dqkv (B, len, 3C) written from dout (B, len, C), with the forward's o and lse. */
nnk_status nnk_f32_attention_backward(size_t B, size_t len, size_t H, size_t D, const float *qkv,
                                      const float *o, const float *lse, const float *dout,
                                      float scale, float *dqkv);
nnk_status nnk_f64_attention_backward(size_t B, size_t len, size_t H, size_t D,
                                      const double *qkv, const double *o, const double *lse,
                                      const double *dout, double scale, double *dqkv);

#endif
