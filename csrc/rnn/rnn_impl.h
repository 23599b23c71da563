/*
 * The RNN's time loops, written once for both dtypes (rnn.c includes it with T, FN,
 * GEMM, and the table fields).  Portable C over the strided GEMM and the current ISA's
 * tanh or ReLU map and gradient kernels: no ISA code of its own.
 *
 * Layout is batch-first and row-major: x (B, T, I), h (B, T, H); the slice at time t
 * is a B x I (or B x H) matrix with row stride T*I (T*H), which the strided GEMM reads
 * in place.  Forward, f tanh (or ReLU when relu is set):
 *   h_t = f(x_t W_c^T + h_{t-1} W_h^T + b)
 * The input projection of all steps is one GEMM (B*T x I times I x H); only the
 * recurrent product is sequential.  Backward (BPTT), given dL/dh for every step:
 *   g_t = (dh_t + g_{t+1} W_h) * f'      (g_T = 0), t = T-1 .. 0
 * with f' from h_t: 1 - h_t^2, or for ReLU [h_t > 0] (h_t > 0 exactly where its
 * pre-activation is, so ReLU's gradient kernel takes h_t in the pre-activation's place).
 * then, over all steps at once: dW_c = sum_t g_t^T x_t, dW_h = sum_t g_t^T h_{t-1},
 * db = sum_t 1^T g_t, dx_t = g_t W_c, dh_0 = g_0 W_h.  Gradients accumulate (beta = 1).
 */

/* h (B, T, H) <- x (B, T, I), weights, bias (may be NULL), h0 (B, H; NULL = zeros). */
nnk_status FN(rnn_forward)(size_t B, size_t Tn, size_t I, size_t H, int relu, const T *x,
                           const T *wc, const T *wh, const T *b, const T *h0, T *h)
{
  const nnk_kernel_table *k = nnk_kernels();
  const int act = relu ? NNK_RELU : NNK_TANH;
  ptrdiff_t rs_h = (ptrdiff_t)(Tn * H);
  /* pre-activations of every step: h := x W_c^T (+ b) */
  if (b)
    for (size_t r = 0; r < B * Tn; r++) memcpy(h + r * H, b, H * sizeof(T));
  nnk_status st = GEMM(B * Tn, H, I, 1, x, (ptrdiff_t)I, 1, wc, 1, (ptrdiff_t)I, b ? 1 : 0, h,
                       (ptrdiff_t)H, 1);
  if (st != NNK_OK) return st;
  /* W_h^T once, contiguous: every step's GEMM then packs it with plain row copies
   * instead of a strided transpose (measured: the packing is a third of a step). */
  T *wht = malloc(H * H * sizeof(T) + 1);
  if (!wht) return NNK_ENOMEM;
  for (size_t i = 0; i < H; i++)
    for (size_t j = 0; j < H; j++) wht[j * H + i] = wh[i * H + j];
  for (size_t t = 0; t < Tn && st == NNK_OK; t++) {
    T *ht = h + t * H;
    const T *hp = t ? h + (t - 1) * H : h0;
    if (hp) { /* h_t += h_{t-1} W_h^T */
      ptrdiff_t rs_p = t ? rs_h : (ptrdiff_t)H;
      st = GEMM(B, H, H, 1, hp, rs_p, 1, wht, (ptrdiff_t)H, 1, 1, ht, rs_h, 1);
    }
    for (size_t r = 0; r < B && st == NNK_OK; r++) MAP(act, H, ht + r * Tn * H, ht + r * Tn * H);
  }
  free(wht);
  return st;
}

/* BPTT.  dh (B, T, H) is dL/dh from above and is overwritten with g (the
 * pre-activation gradients).  dx (B, T, I) is written; dwc, dwh, db, dh0 accumulate
 * (db and dh0 may be NULL). */
nnk_status FN(rnn_backward)(size_t B, size_t Tn, size_t I, size_t H, int relu, const T *x,
                            const T *wc, const T *wh, const T *h0, const T *h, T *dh, T *dx,
                            T *dwc, T *dwh, T *db, T *dh0)
{
  const nnk_kernel_table *k = nnk_kernels();
  const int act = relu ? NNK_RELU_GRAD : NNK_TANH_GRAD;
  ptrdiff_t rs_h = (ptrdiff_t)(Tn * H), rs_x = (ptrdiff_t)(Tn * I);
  nnk_status st;
  for (size_t t = Tn; t-- > 0;) {
    T *gt = dh + t * H;
    if (t + 1 < Tn) { /* dh_t += g_{t+1} W_h */
      st = GEMM(B, H, H, 1, dh + (t + 1) * H, rs_h, 1, wh, (ptrdiff_t)H, 1, 1, gt, rs_h, 1);
      if (st != NNK_OK) return st;
    }
    for (size_t r = 0; r < B; r++)
      GRAD(act, H, h + t * H + r * Tn * H, gt + r * Tn * H, gt + r * Tn * H);
  }
  /* all steps at once: G (B*T x H) */
  st = GEMM(H, I, B * Tn, 1, dh, 1, (ptrdiff_t)H, x, (ptrdiff_t)I, 1, 1, dwc, (ptrdiff_t)I, 1);
  if (st == NNK_OK) /* dx = G W_c */
    st = GEMM(B * Tn, I, H, 1, dh, (ptrdiff_t)H, 1, wc, (ptrdiff_t)I, 1, 0, dx, (ptrdiff_t)I, 1);
  if (st == NNK_OK && Tn > 1) /* dW_h += sum_{t>=1} g_t^T h_{t-1}, per batch row */
    for (size_t r = 0; r < B && st == NNK_OK; r++)
      st = GEMM(H, H, Tn - 1, 1, dh + r * Tn * H + H, 1, (ptrdiff_t)H, h + r * Tn * H,
                (ptrdiff_t)H, 1, 1, dwh, (ptrdiff_t)H, 1);
  if (st == NNK_OK && h0) { /* dW_h += g_0^T h0 */
    st = GEMM(H, H, B, 1, dh, 1, rs_h, h0, (ptrdiff_t)H, 1, 1, dwh, (ptrdiff_t)H, 1);
  }
  if (st == NNK_OK && dh0) /* dh0 += g_0 W_h */
    st = GEMM(B, H, H, 1, dh, rs_h, 1, wh, (ptrdiff_t)H, 1, 1, dh0, (ptrdiff_t)H, 1);
  if (st == NNK_OK && db)
    for (size_t r = 0; r < B * Tn; r++)
      for (size_t j = 0; j < H; j++) db[j] += dh[r * H + j];
  (void)rs_x;
  return st;
}
