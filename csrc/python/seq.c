/* nnk._C entry points of the sequence models: the tanh RNN's forward and backward
 * through time, and the embedding's gradient (csrc/rnn/). */
#include "buffers.h"

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

/* rnn_forward(B, T, I, H, x, wc, wh, b|None, h0|None, h): h = all hidden states. */
static PyObject *py_rnn_forward(PyObject *self, PyObject *args)
{
  Py_ssize_t B, Tn, I, H;
  PyObject *o[6];
  buf b[6] = {0};
  PyObject *result = NULL;
  rnn_counts n;
  if (!PyArg_ParseTuple(args, "nnnnOOOOOO:rnn_forward", &B, &Tn, &I, &H, &o[0], &o[1], &o[2],
                        &o[3], &o[4], &o[5]) ||
      rnn_sizes(B, Tn, I, H, &n) || get_sized(o[0], &b[0], 0, n.x, NULL, "x", 0) ||
      get_sized(o[1], &b[1], 0, n.wih, &b[0], "weight_ih", 0) ||
      get_sized(o[2], &b[2], 0, n.whh, &b[0], "weight_hh", 0) ||
      get_sized(o[3], &b[3], 0, n.bias, &b[0], "bias", 1) ||
      get_sized(o[4], &b[4], 0, n.bh, &b[0], "h0", 1) ||
      get_sized(o[5], &b[5], 1, n.h, &b[0], "out", 0) || operands_apart(b, 5, b + 5, 1, 0))
    goto done;
  nnk_status st;
  WITHOUT_GIL_IF(n.h >= RELEASE_GIL_ELEMENTS,
                 st = BY_DTYPE(b[0].dt, nnk_f32_rnn_tanh_forward, nnk_f64_rnn_tanh_forward, B,
                               Tn, I, H, b[0].data, b[1].data, b[2].data, ptr_or_null(&b[3]),
                               ptr_or_null(&b[4]), b[5].data));
  result = status_result(st);
done:
  release_all(b, 6);
  return result;
}

/* rnn_backward(B, T, I, H, x, wc, wh, h0|None, h, dh, dx, dwc, dwh, db|None, dh0|None);
 * dh is overwritten (the kernel's workspace). */
static PyObject *py_rnn_backward(PyObject *self, PyObject *args)
{
  Py_ssize_t B, Tn, I, H;
  PyObject *o[11];
  buf b[11] = {0};
  PyObject *result = NULL;
  rnn_counts n;
  if (!PyArg_ParseTuple(args, "nnnnOOOOOOOOOOO:rnn_backward", &B, &Tn, &I, &H, &o[0], &o[1],
                        &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8], &o[9], &o[10]) ||
      rnn_sizes(B, Tn, I, H, &n) || get_sized(o[0], &b[0], 0, n.x, NULL, "x", 0) ||
      get_sized(o[1], &b[1], 0, n.wih, &b[0], "weight_ih", 0) ||
      get_sized(o[2], &b[2], 0, n.whh, &b[0], "weight_hh", 0) ||
      get_sized(o[3], &b[3], 0, n.bh, &b[0], "h0", 1) ||
      get_sized(o[4], &b[4], 0, n.h, &b[0], "h", 0) ||
      get_sized(o[5], &b[5], 1, n.h, &b[0], "grad", 0) ||
      get_sized(o[6], &b[6], 1, n.x, &b[0], "dx", 0) ||
      get_sized(o[7], &b[7], 1, n.wih, &b[0], "dweight_ih", 0) ||
      get_sized(o[8], &b[8], 1, n.whh, &b[0], "dweight_hh", 0) ||
      get_sized(o[9], &b[9], 1, n.bias, &b[0], "dbias", 1) ||
      get_sized(o[10], &b[10], 1, n.bh, &b[0], "dh0", 1) || operands_apart(b, 5, b + 5, 6, 0))
    goto done;
  nnk_status st;
  WITHOUT_GIL_IF(n.h >= RELEASE_GIL_ELEMENTS,
                 st = BY_DTYPE(b[0].dt, nnk_f32_rnn_tanh_backward, nnk_f64_rnn_tanh_backward, B,
                               Tn, I, H, b[0].data, b[1].data, b[2].data, ptr_or_null(&b[3]),
                               b[4].data, b[5].data, b[6].data, b[7].data, b[8].data,
                               ptr_or_null(&b[9]), ptr_or_null(&b[10])));
  result = status_result(st);
done:
  release_all(b, 11);
  return result;
}

/* int64 ids as a C-contiguous buffer; TypeError for any other integer type. */
static int get_ids(PyObject *obj, buf *b)
{
  if (PyObject_GetBuffer(obj, &b->view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) return -1;
  b->held = 1;
  b->data = b->view.buf;
  const char *f = b->view.format ? b->view.format : "B";
  if (*f == '<' || *f == '=' || *f == '@') f++;
  if (b->view.itemsize == 8 && (f[0] == 'q' || f[0] == 'l') && !f[1]) return 0;
  PyErr_SetString(PyExc_TypeError, "embedding ids must be int64");
  return -1;
}

/* embedding_backward(ids (int64), dy (n, dim), dw (rows, dim)): dw[ids[i]] += dy[i] */
static PyObject *py_embedding_backward(PyObject *self, PyObject *args)
{
  PyObject *io, *go, *wo;
  buf b[3] = {0}; /* ids, grad (read), weight grad (written) */
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "OOO:embedding_backward", &io, &go, &wo) || get_ids(io, &b[0]))
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
                               n, dim, rows, (const long long *)b[0].data, b[1].data, b[2].data));
  if (st == NNK_OK) result = Py_NewRef(Py_None);
  else PyErr_SetString(PyExc_IndexError, "embedding id out of range");
done:
  release_all(b, 3);
  return result;
}

PyMethodDef nnk_py_seq_methods[] = {
  {"rnn_forward", py_rnn_forward, METH_VARARGS,
   "rnn_forward(B, T, I, H, x, w_ih, w_hh, b, h0, out): tanh RNN, all hidden states."},
  {"rnn_backward", py_rnn_backward, METH_VARARGS,
   "rnn_backward(B, T, I, H, x, w_ih, w_hh, h0, h, grad, dx, dw_ih, dw_hh, db, dh0): BPTT."},
  {"embedding_backward", py_embedding_backward, METH_VARARGS,
   "embedding_backward(ids, grad, weight_grad): weight_grad[ids[i]] += grad[i]."},
  {NULL, NULL, 0, NULL},
};
