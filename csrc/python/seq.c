/* nnk._C entry points of the sequence models: the RNN's forward and backward through
 * time (tanh or ReLU), the embedding's gradient (csrc/rnn/), and causal multi-head attention
 * (csrc/layers/attention.c). */
#include "entries.h"

#include "../layers/attention.h"
#include "../rnn/rnn.h"

/* The element counts of an RNN's operands, each product checked for overflow. */
typedef struct {
  size_t x, wih, whh, h, bh, bias;
} rnn_counts;

static int rnn_sizes(Py_ssize_t B, Py_ssize_t Tn, Py_ssize_t I, Py_ssize_t H, rnn_counts *c)
{
  if (B < 0 || Tn < 0 || I < 1 || H < 1) {
    PyErr_SetString(PyExc_ValueError, "rnn: sizes must be B, T >= 0 and I, H >= 1");
    return -1;
  }
  size_t bt;
  c->bias = (size_t)H;
  return size_mul((size_t)B, (size_t)Tn, &bt) || size_mul(bt, (size_t)I, &c->x) ||
         size_mul(bt, (size_t)H, &c->h) || size_mul((size_t)H, (size_t)I, &c->wih) ||
         size_mul((size_t)H, (size_t)H, &c->whh) || size_mul((size_t)B, (size_t)H, &c->bh);
}

/* rnn_forward(B, T, I, H, relu, x, wc, wh, b|None, h0|None, h): h = all hidden states.
 * rnn_backward(B, T, I, H, relu, x, wc, wh, h0|None, h, dh, dx, dwc, dwh, db|None,
 * dh0|None); dh is overwritten (the kernel's workspace).  relu: ReLU, not tanh. */
static PyObject *rnn_call(PyObject *const *args, Py_ssize_t nargs, int backward)
{
  buf b[11] = {0};
  PyObject *result = NULL;
  Py_ssize_t s[4];
  rnn_counts n;
  int count = backward ? 11 : 6;
  if (arg_count(nargs, 5 + count, backward ? "rnn_backward(B, T, I, H, relu, x, w_ih, w_hh, h0, "
                                            "h, grad, dx, dw_ih, dw_hh, db, dh0)"
                                          : "rnn_forward(B, T, I, H, relu, x, w_ih, w_hh, b, h0, out)"))
    return NULL;
  for (int i = 0; i < 4; i++)
    if ((s[i] = PyLong_AsSsize_t(args[i])) == -1 && PyErr_Occurred()) return NULL;
  const int relu = PyObject_IsTrue(args[4]);
  if (relu < 0) return NULL;
  if (rnn_sizes(s[0], s[1], s[2], s[3], &n)) return NULL;
  const operand forward[] = {{"x", n.x, 0, 0}, {"weight_ih", n.wih, 0, 0},
    {"weight_hh", n.whh, 0, 0}, {"bias", n.bias, 0, 1}, {"h0", n.bh, 0, 1}, {"out", n.h, 1, 0}};
  const operand grads[] = {{"x", n.x, 0, 0}, {"weight_ih", n.wih, 0, 0},
    {"weight_hh", n.whh, 0, 0}, {"h0", n.bh, 0, 1}, {"h", n.h, 0, 0}, {"grad", n.h, 1, 0},
    {"dx", n.x, 1, 0}, {"dweight_ih", n.wih, 1, 0}, {"dweight_hh", n.whh, 1, 0},
    {"dbias", n.bias, 1, 1}, {"dh0", n.bh, 1, 1}};
  if (get_operands(args + 5, backward ? grads : forward, count, b, NULL) ||
      operands_apart(b, 5, b + 5, count - 5, 0)) /* the first five are read */
    goto done;
  nnk_status st;
  WITHOUT_GIL_IF(n.h >= RELEASE_GIL_ELEMENTS,
                 st = backward ? BY_DTYPE(b[0].dt, nnk_f32_rnn_backward, nnk_f64_rnn_backward,
                                          s[0], s[1], s[2], s[3], relu,
                                          b[0].data, b[1].data, b[2].data, ptr_or_null(&b[3]),
                                          b[4].data, b[5].data, b[6].data, b[7].data, b[8].data,
                                          ptr_or_null(&b[9]), ptr_or_null(&b[10]))
                               : BY_DTYPE(b[0].dt, nnk_f32_rnn_forward, nnk_f64_rnn_forward,
                                          s[0], s[1], s[2], s[3], relu,
                                          b[0].data, b[1].data, b[2].data, ptr_or_null(&b[3]),
                                          ptr_or_null(&b[4]), b[5].data));
  result = status_result(st);
done:
  release_all(b, 11);
  return result;
}

NNK_PY_FORWARD_BACKWARD(rnn, rnn_call)

/* embedding_backward(ids (int64), dy (n, dim), dw (rows, dim), skip=-1): dw[ids[i]] +=
 * dy[i] for every id but skip */
PyObject *nnk_py_embedding_backward(PyObject *self, PyObject *args)
{
  PyObject *io, *go, *wo;
  long long skip = -1;
  buf b[3] = {0}; /* ids, grad (read), weight grad (written) */
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "OOO|L:embedding_backward", &io, &go, &wo, &skip) ||
      get_ints(io, &b[0], 8, 0, "embedding ids"))
    goto done;
  size_t n = (size_t)(b[0].view.len / 8), count;
  if (buf_get(wo, &b[2], 1, 1, "weight grad")) goto done;
  if (b[2].view.ndim != 2) {
    PyErr_SetString(PyExc_ValueError, "weight grad must be 2-D");
    goto done;
  }
  size_t rows = (size_t)b[2].view.shape[0], dim = (size_t)b[2].view.shape[1];
  if (size_mul(n, dim, &count) || get_sized(go, &b[1], 0, count, &b[2], "grad", 0) ||
      operands_apart(b, 2, b + 2, 1, 0))
    goto done;
  nnk_status st;
  WITHOUT_GIL_IF(count >= RELEASE_GIL_ELEMENTS,
                 st = BY_DTYPE(b[2].dt, nnk_f32_embedding_backward, nnk_f64_embedding_backward,
                               n, dim, rows, (const long long *)b[0].data, skip, b[1].data, b[2].data));
  if (st == NNK_OK) result = Py_NewRef(Py_None);
  else PyErr_SetString(PyExc_IndexError, "embedding id out of range");
done:
  release_all(b, 3);
  return result;
}

/* The causal attention calls' shapes: qkv (B, T, 3C) with C = n_head D; B, T, H, D. */
static int attention_shape(const buf *qkv, long long n_head, size_t *B, size_t *T, size_t *H,
                           size_t *D)
{
  if (qkv->view.ndim != 3 || qkv->view.shape[2] % 3 || n_head < 1 ||
      (qkv->view.shape[2] / 3) % n_head) {
    char s[160];
    shape_str(&qkv->view, s, sizeof s);
    PyErr_Format(PyExc_ValueError,
                 "attention: qkv must be (B, T, 3 C) with C a multiple of n_head = %lld, got %s",
                 n_head, s);
    return -1;
  }
  *B = (size_t)qkv->view.shape[0], *T = (size_t)qkv->view.shape[1], *H = (size_t)n_head;
  *D = (size_t)qkv->view.shape[2] / 3 / *H;
  return 0;
}

/* attention_forward(qkv, n_head, scale, out, lse): out (B, T, C), lse (B, H, T) */
PyObject *nnk_py_attention_forward(PyObject *self, PyObject *args)
{
  PyObject *qo, *oo, *lo;
  long long n_head;
  double scale;
  buf b[3] = {0}; /* qkv, out, lse */
  PyObject *result = NULL;
  size_t B, T, H, D;
  if (!PyArg_ParseTuple(args, "OLdOO:attention_forward", &qo, &n_head, &scale, &oo, &lo) ||
      buf_get(qo, &b[0], 0, 1, "qkv") || attention_shape(&b[0], n_head, &B, &T, &H, &D))
    goto done;
  const operand spec[] = {{"out", B * T * H * D, 1, 0}, {"lse", B * H * T, 1, 0}};
  PyObject *objs[] = {oo, lo};
  if (get_operands(objs, spec, 2, b + 1, &b[0]) || operands_apart(b, 1, b + 1, 2, 0)) goto done;
  nnk_status st;
  WITHOUT_GIL_IF((double)B * T * T * H * D >= RELEASE_GIL_ELEMENTS,
                 st = BY_DTYPE(b[0].dt, nnk_f32_attention_forward, nnk_f64_attention_forward, B,
                               T, H, D, b[0].data, scale, b[1].data, b[2].data));
  result = status_result(st);
done:
  release_all(b, 3);
  return result;
}

/* attention_backward(qkv, n_head, scale, out, lse, grad, grad_qkv) */
PyObject *nnk_py_attention_backward(PyObject *self, PyObject *args)
{
  PyObject *o[6];
  long long n_head;
  double scale;
  buf b[5] = {0}; /* qkv, out, lse, grad, then grad_qkv (written) */
  PyObject *result = NULL;
  size_t B, T, H, D;
  if (!PyArg_ParseTuple(args, "OLdOOOO:attention_backward", &o[0], &n_head, &scale, &o[1], &o[2],
                        &o[3], &o[4]) ||
      buf_get(o[0], &b[0], 0, 1, "qkv") || attention_shape(&b[0], n_head, &B, &T, &H, &D))
    goto done;
  const operand spec[] = {{"out", B * T * H * D, 0, 0}, {"lse", B * H * T, 0, 0},
                          {"grad", B * T * H * D, 0, 0}, {"grad_qkv", B * T * 3 * H * D, 1, 0}};
  if (get_operands(o + 1, spec, 4, b + 1, &b[0]) || operands_apart(b, 4, b + 4, 1, 0)) goto done;
  nnk_status st;
  WITHOUT_GIL_IF((double)B * T * T * H * D >= RELEASE_GIL_ELEMENTS,
                 st = BY_DTYPE(b[0].dt, nnk_f32_attention_backward, nnk_f64_attention_backward,
                               B, T, H, D, b[0].data, b[1].data, b[2].data, b[3].data, scale,
                               b[4].data));
  result = status_result(st);
done:
  release_all(b, 5);
  return result;
}

/* attention_step(cache, t, n_head, scale, out): the query row t of a key/value cache
 * (B, S, 3C) against its rows 0..t; out (B, C). */
PyObject *nnk_py_attention_step(PyObject *self, PyObject *args)
{
  PyObject *co, *oo;
  long long t, n_head;
  double scale;
  buf b[2] = {0}; /* cache, out */
  PyObject *result = NULL;
  size_t B, S, H, D;
  if (!PyArg_ParseTuple(args, "OLLdO:attention_step", &co, &t, &n_head, &scale, &oo) ||
      buf_get(co, &b[0], 0, 1, "cache") || attention_shape(&b[0], n_head, &B, &S, &H, &D))
    goto done;
  if (t < 0 || (size_t)t >= S) {
    PyErr_Format(PyExc_IndexError, "attention_step: row %lld outside a cache of %zu rows", t, S);
    goto done;
  }
  const operand spec[] = {{"out", B * H * D, 1, 0}};
  if (get_operands(&oo, spec, 1, b + 1, &b[0]) || operands_apart(b, 1, b + 1, 1, 0)) goto done;
  nnk_status st;
  WITHOUT_GIL_IF((double)B * (double)t * H * D >= RELEASE_GIL_ELEMENTS,
                 st = BY_DTYPE(b[0].dt, nnk_f32_attention_rows, nnk_f64_attention_rows, B, S,
                               (size_t)t + 1, (size_t)t, H, D, b[0].data, scale, b[1].data));
  result = status_result(st);
done:
  release_all(b, 2);
  return result;
}
