/*
 * Causal self-attention as single calls (attention.h): the (batch, head) pairs are split
 * in even shares among the thread pool, each member with its own row of scratch, and
 * each calls the table's kernel (csrc/attention/) on its share.  A pair is computed the
 * same way whoever computes it, so the result does not depend on the thread count.
 */
#include <stdlib.h>

#include "../threads/pool.h"
#include "attention.h"
#include "nnk_kernels.h"

/* Below this much work (pairs x len^2 x D) one thread does it all. */
#define THREADS_WORK (1 << 20)

#define NNK_DEFINE_ATTENTION(T, P)                                                        \
  typedef struct {                                                                        \
    const nnk_##P##_kernels *K;                                                           \
    size_t B, len, first, bs, H, D, scratch;                                              \
    const T *qkv, *o, *lse, *dout;                                                        \
    T scale, *out, *lse_out, *dqkv, *work;                                                \
  } P##_attention_job;                                                                    \
                                                                                          \
  static void P##_attention_member(void *ctx, int tid, int team, nnk_barrier *barrier)    \
  {                                                                                       \
    (void)barrier;                                                                        \
    const P##_attention_job *j = ctx;                                                     \
    size_t lo, hi, C = j->H * j->D;                                                       \
    nnk_share(j->B * j->H, tid, team, &lo, &hi);                                          \
    T *scratch = j->work + (size_t)tid * j->scratch;                                      \
    if (j->dqkv)                                                                          \
      j->K->attention_grad(lo, hi, j->H, j->len, j->D, j->qkv, j->qkv + C, j->qkv + 2 * C,    \
                           3 * C, j->o, j->dout, C, j->lse, j->scale, j->dqkv,            \
                           j->dqkv + C, j->dqkv + 2 * C, scratch);                        \
    else                                                                                  \
      j->K->attention(lo, hi, j->H, j->len, j->first, j->D, j->qkv, j->qkv + C,           \
                      j->qkv + 2 * C, 3 * C, j->bs, j->scale, j->out, C,                  \
                      (j->len - j->first) * C, j->lse_out, scratch);                      \
  }                                                                                       \
                                                                                          \
  static nnk_status P##_attention_run(P##_attention_job *j)                               \
  {                                                                                       \
    double work = (double)j->B * j->H * (j->len - j->first) * j->len * j->D;               \
    int threads = work >= THREADS_WORK ? nnk_get_num_threads() : 1;                       \
    if ((size_t)threads > j->B * j->H) threads = (int)(j->B * j->H);                      \
    if (threads < 1) threads = 1;                                                         \
    j->K = &nnk_kernels()->P;                                                             \
    j->scratch = NNK_ATTENTION_SCRATCH(j->len, j->D, j->dqkv != NULL);                      \
    j->work = malloc((size_t)threads * j->scratch * sizeof(T));                           \
    if (!j->work) return NNK_ENOMEM;                                                      \
    nnk_parallel(threads, P##_attention_member, j);                                       \
    free(j->work);                                                                        \
    return NNK_OK;                                                                        \
  }                                                                                       \
                                                                                          \
  nnk_status nnk_##P##_attention_forward(size_t B, size_t len, size_t H, size_t D,        \
                                         const T *qkv, T scale, T *o, T *lse)             \
  {                                                                                       \
    P##_attention_job j = {.B = B, .len = len, .bs = len * 3 * H * D, .H = H, .D = D,      \
                           .qkv = qkv, .scale = scale, .out = o, .lse_out = lse};          \
    return P##_attention_run(&j);                                                         \
  }                                                                                       \
                                                                                          \
  nnk_status nnk_##P##_attention_rows(size_t B, size_t rows, size_t len, size_t first,    \
                                      size_t H, size_t D, const T *qkv, T scale, T *o)    \
  {                                                                                       \
    if (first >= len || len > rows) return NNK_EINVAL;                                    \
    P##_attention_job j = {.B = B, .len = len, .first = first, .bs = rows * 3 * H * D,     \
                           .H = H, .D = D, .qkv = qkv, .scale = scale, .out = o};          \
    return P##_attention_run(&j);                                                         \
  }                                                                                       \
                                                                                          \
  nnk_status nnk_##P##_attention_backward(size_t B, size_t len, size_t H, size_t D,       \
                                          const T *qkv, const T *o, const T *lse,         \
                                          const T *dout, T scale, T *dqkv)                \
  {                                                                                       \
    P##_attention_job j = {.B = B, .len = len, .H = H, .D = D, .qkv = qkv, .o = o,         \
                           .lse = lse, .dout = dout, .scale = scale, .dqkv = dqkv};       \
    return P##_attention_run(&j);                                                         \
  }

NNK_DEFINE_ATTENTION(float, f32)
NNK_DEFINE_ATTENTION(double, f64)
