/*
 * Optimiser updates, written once over the helper layer; one pass over each parameter.
 *
 * Every update starts from g' = g + wd p (just g when wd == 0: 0 * inf would be NaN),
 * with -g for g when maximising (NNK_STEP_MAXIMIZE: torch's maximize=True):
 *   sgd:  v = mu v + (1 - dampening) g' (v == NULL: no momentum);
 *         p -= lr (nesterov ? g' + mu v : v)          -- torch.optim.SGD
 *   adam: m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
 *         p -= lr * (m / c1) / (sqrt(v / c2) + eps), c1 = 1 - b1^t, c2 = 1 - b2^t
 *         decoupled (AdamW, as torch.optim.AdamW): no wd in g', and p *= 1 - lr wd first;
 *         AMSGrad (vmax != NULL): vmax = max(vmax, v) in v's place under the square
 *         root                                       -- torch.optim.Adam and AdamW
 *   rmsprop: v = alpha v + (1-alpha) g'^2; centered (gavg != NULL):
 *         gavg = alpha gavg + (1-alpha) g', d = sqrt(v - gavg^2) + eps, else sqrt(v) + eps;
 *         momentum (buf != NULL): buf = mu buf + g'/d, p -= lr buf; else p -= lr g'/d
 *                                                     -- torch.optim.RMSprop
 *   adagrad: sum += g'^2; p -= lr g' / (sqrt(sum) + eps), lr already decayed by the
 *         caller                                      -- torch.optim.Adagrad
 *   axpy: y += a x
 * Tails run through zero-padded buffers like every map.
 */
#include <stddef.h>
#include <string.h>

#include "nnk_kernels.h"

#define TAIL_COPY_IN(buf, src) \
  T buf[W] = {0};              \
  if (src) memcpy(buf, (src) + i, (n - i) * sizeof(T));

/* g' = (maximize ? -g : g) + wd p, the gradient every update starts from; the sum only
 * where decay (wd != 0) */
#define step_grad VF(step_grad)
static inline V step_grad(V g, V p, V vwd, int decay, int maximize)
{
  const V d = maximize ? v_neg(g) : g;
  return decay ? v_add(d, v_mul(vwd, p)) : d;
}

void KNAME(sgd_step)(size_t n, T *p, const T *g, T *v, T lr, T mu, T dampening, T wd, int options)
{
  const int nesterov = options & NNK_SGD_NESTEROV, maximize = options & NNK_STEP_MAXIMIZE;
  const V vlr = v_set1(lr), vmu = v_set1(mu), vwd = v_set1(wd), vkeep = v_set1(1 - dampening);
  size_t i = 0;
#define SGD_BODY(P, G, VEL)                                                        \
  {                                                                                \
    V gp = step_grad(G, P, vwd, wd != 0, maximize), step = gp;                     \
    if (v) {                                                                       \
      VEL = v_add(v_mul(vmu, VEL), dampening != 0 ? v_mul(vkeep, gp) : gp);        \
      step = nesterov ? v_add(gp, v_mul(vmu, VEL)) : VEL;                          \
    }                                                                              \
    P = v_sub(P, v_mul(vlr, step));                                                \
  }
  for (; i + W <= n; i += W) {
    V pv = v_load(p + i), gv = v_load(g + i), vv = v ? v_load(v + i) : v_set1(0);
    SGD_BODY(pv, gv, vv)
    v_store(p + i, pv);
    if (v) v_store(v + i, vv);
  }
  if (i < n) {
    TAIL_COPY_IN(bp, p)
    TAIL_COPY_IN(bg, g)
    TAIL_COPY_IN(bv, v)
    V pv = v_load(bp), gv = v_load(bg), vv = v_load(bv);
    SGD_BODY(pv, gv, vv)
    v_store(bp, pv), v_store(bv, vv);
    memcpy(p + i, bp, (n - i) * sizeof(T));
    if (v) memcpy(v + i, bv, (n - i) * sizeof(T));
  }
#undef SGD_BODY
}

void KNAME(adam_step)(size_t n, T *p, const T *g, T *m, T *v, T *vmax, T lr, T b1, T b2,
                      T eps, T c1, T c2, T wd, int options)
{
  const int decoupled = options & NNK_ADAM_DECOUPLED, maximize = options & NNK_STEP_MAXIMIZE;
  const T coupled = decoupled ? 0 : wd, keep = decoupled ? 1 - lr * wd : 1;
  const V vkeep = v_set1(keep);
  const V vlr = v_set1(lr), vb1 = v_set1(b1), vb2 = v_set1(b2), veps = v_set1(eps);
  const V v1b1 = v_set1(1 - b1), v1b2 = v_set1(1 - b2), vc1 = v_set1(c1), vc2 = v_set1(c2);
  const V vwd = v_set1(coupled);
  size_t i = 0;
#define ADAM_BODY(P, G, M, VV, VMAX)                                               \
  {                                                                                \
    V gp = step_grad(G, P, vwd, coupled != 0, maximize);                           \
    if (keep != 1) P = v_mul(P, vkeep);                                            \
    M = v_add(v_mul(vb1, M), v_mul(v1b1, gp));                                     \
    VV = v_add(v_mul(vb2, VV), v_mul(v1b2, v_mul(gp, gp)));                        \
    if (vmax) VMAX = v_max(VMAX, VV);                                              \
    V den = v_add(v_sqrt(v_div(vmax ? VMAX : VV, vc2)), veps);                     \
    P = v_sub(P, v_mul(vlr, v_div(v_div(M, vc1), den)));                           \
  }
  for (; i + W <= n; i += W) {
    V pv = v_load(p + i), gv = v_load(g + i), mv = v_load(m + i), vv = v_load(v + i);
    V xv = vmax ? v_load(vmax + i) : vv;
    ADAM_BODY(pv, gv, mv, vv, xv)
    v_store(p + i, pv), v_store(m + i, mv), v_store(v + i, vv);
    if (vmax) v_store(vmax + i, xv);
  }
  if (i < n) {
    TAIL_COPY_IN(bp, p)
    TAIL_COPY_IN(bg, g)
    TAIL_COPY_IN(bm, m)
    TAIL_COPY_IN(bv, v)
    TAIL_COPY_IN(bx, vmax)
    V pv = v_load(bp), gv = v_load(bg), mv = v_load(bm), vv = v_load(bv), xv = v_load(bx);
    ADAM_BODY(pv, gv, mv, vv, xv)
    v_store(bp, pv), v_store(bm, mv), v_store(bv, vv), v_store(bx, xv);
    memcpy(p + i, bp, (n - i) * sizeof(T));
    memcpy(m + i, bm, (n - i) * sizeof(T));
    memcpy(v + i, bv, (n - i) * sizeof(T));
    if (vmax) memcpy(vmax + i, bx, (n - i) * sizeof(T));
  }
#undef ADAM_BODY
}

void KNAME(rmsprop_step)(size_t n, T *p, const T *g, T *v, T *gavg, T *buf, T lr, T alpha,
                         T eps, T wd, T mu, int options)
{
  const int maximize = options & NNK_STEP_MAXIMIZE;
  const V vlr = v_set1(lr), va = v_set1(alpha), v1a = v_set1(1 - alpha), veps = v_set1(eps);
  const V vwd = v_set1(wd), vmu = v_set1(mu);
  size_t i = 0;
#define RMSPROP_BODY(P, G, VV, GA, B)                                              \
  {                                                                                \
    V gp = step_grad(G, P, vwd, wd != 0, maximize);                                \
    VV = v_add(v_mul(va, VV), v_mul(v1a, v_mul(gp, gp)));                          \
    V d;                                                                           \
    if (gavg) {                                                                    \
      GA = v_add(v_mul(va, GA), v_mul(v1a, gp));                                   \
      d = v_add(v_sqrt(v_sub(VV, v_mul(GA, GA))), veps);                           \
    } else {                                                                       \
      d = v_add(v_sqrt(VV), veps);                                                 \
    }                                                                              \
    if (buf) {                                                                     \
      B = v_add(v_mul(vmu, B), v_div(gp, d));                                      \
      P = v_sub(P, v_mul(vlr, B));                                                 \
    } else {                                                                       \
      P = v_sub(P, v_mul(vlr, v_div(gp, d)));                                      \
    }                                                                              \
  }
  for (; i + W <= n; i += W) {
    V pv = v_load(p + i), gv = v_load(g + i), vv = v_load(v + i);
    V gav = gavg ? v_load(gavg + i) : v_set1(0), bv = buf ? v_load(buf + i) : v_set1(0);
    RMSPROP_BODY(pv, gv, vv, gav, bv)
    v_store(p + i, pv), v_store(v + i, vv);
    if (gavg) v_store(gavg + i, gav);
    if (buf) v_store(buf + i, bv);
  }
  if (i < n) {
    TAIL_COPY_IN(bp, p)
    TAIL_COPY_IN(bg, g)
    TAIL_COPY_IN(bvv, v)
    TAIL_COPY_IN(bga, gavg)
    TAIL_COPY_IN(bb, buf)
    V pv = v_load(bp), gv = v_load(bg), vv = v_load(bvv), gav = v_load(bga), bv = v_load(bb);
    RMSPROP_BODY(pv, gv, vv, gav, bv)
    v_store(bp, pv), v_store(bvv, vv), v_store(bga, gav), v_store(bb, bv);
    memcpy(p + i, bp, (n - i) * sizeof(T));
    memcpy(v + i, bvv, (n - i) * sizeof(T));
    if (gavg) memcpy(gavg + i, bga, (n - i) * sizeof(T));
    if (buf) memcpy(buf + i, bb, (n - i) * sizeof(T));
  }
#undef RMSPROP_BODY
}

void KNAME(adagrad_step)(size_t n, T *p, const T *g, T *sum, T lr, T eps, T wd, int options)
{
  const int maximize = options & NNK_STEP_MAXIMIZE;
  const V vlr = v_set1(lr), veps = v_set1(eps), vwd = v_set1(wd);
  size_t i = 0;
#define ADAGRAD_BODY(P, G, S)                                                      \
  {                                                                                \
    V gp = step_grad(G, P, vwd, wd != 0, maximize);                                \
    S = v_add(S, v_mul(gp, gp));                                                   \
    P = v_sub(P, v_mul(vlr, v_div(gp, v_add(v_sqrt(S), veps))));                   \
  }
  for (; i + W <= n; i += W) {
    V pv = v_load(p + i), gv = v_load(g + i), sv = v_load(sum + i);
    ADAGRAD_BODY(pv, gv, sv)
    v_store(p + i, pv), v_store(sum + i, sv);
  }
  if (i < n) {
    TAIL_COPY_IN(bp, p)
    TAIL_COPY_IN(bg, g)
    TAIL_COPY_IN(bs, sum)
    V pv = v_load(bp), gv = v_load(bg), sv = v_load(bs);
    ADAGRAD_BODY(pv, gv, sv)
    v_store(bp, pv), v_store(bs, sv);
    memcpy(p + i, bp, (n - i) * sizeof(T));
    memcpy(sum + i, bs, (n - i) * sizeof(T));
  }
#undef ADAGRAD_BODY
}

void KNAME(axpy)(size_t n, T a, const T *x, T *y)
{
  const V va = v_set1(a);
  size_t i = 0;
  for (; i + W <= n; i += W) v_store(y + i, v_add(v_load(y + i), v_mul(va, v_load(x + i))));
  if (i < n) {
    TAIL_COPY_IN(bx, x)
    TAIL_COPY_IN(by, y)
    v_store(by, v_add(v_load(by), v_mul(va, v_load(bx))));
    memcpy(y + i, by, (n - i) * sizeof(T));
  }
}
