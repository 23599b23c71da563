/* nnk._C entry points over GEMM: the general product (any strides, transposes) and the
 * fully connected layer's forward and backward (csrc/layers/linear.c). */
#include "buffers.h"

#include "../layers/linear.h"

/* gemm(a, b, c, alpha, beta, trans_a, trans_b): c = alpha op(a) op(b) + beta c, any strides.
 * FASTCALL: this is the per-call cost of every small matmul from Python. */
static PyObject *py_gemm(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
  buf b[3] = {0}; /* a, b, c */
  PyObject *result = NULL;
  ptrdiff_t rsa, csa, rsb, csb, rsc, csc;
  if (nargs != 7) {
    PyErr_SetString(PyExc_TypeError, "gemm(a, b, c, alpha, beta, trans_a, trans_b)");
    return NULL;
  }
  double alpha = PyFloat_AsDouble(args[3]), beta = PyFloat_AsDouble(args[4]);
  int ta = PyObject_IsTrue(args[5]), tb = PyObject_IsTrue(args[6]);
  if (((alpha == -1.0 || beta == -1.0) && PyErr_Occurred()) || ta < 0 || tb < 0 ||
      buf_get(args[0], &b[0], 0, 0, "a") || buf_get(args[1], &b[1], 0, 0, "b") ||
      buf_get(args[2], &b[2], 1, 0, "c") || strides_2d(&b[0], "a", &rsa, &csa) ||
      strides_2d(&b[1], "b", &rsb, &csb) || strides_2d(&b[2], "c", &rsc, &csc))
    goto done;
  if (b[0].dt != b[1].dt || b[0].dt != b[2].dt) {
    PyErr_SetString(PyExc_TypeError, "nnk kernel operands must share one dtype");
    goto done;
  }
  size_t m = (size_t)b[0].view.shape[ta ? 1 : 0], k = (size_t)b[0].view.shape[ta ? 0 : 1];
  size_t kb = (size_t)b[1].view.shape[tb ? 1 : 0], n = (size_t)b[1].view.shape[tb ? 0 : 1];
  if (ta) { ptrdiff_t s = rsa; rsa = csa; csa = s; }
  if (tb) { ptrdiff_t s = rsb; rsb = csb; csb = s; }
  if (k != kb || (size_t)b[2].view.shape[0] != m || (size_t)b[2].view.shape[1] != n) {
    PyErr_Format(PyExc_ValueError,
                 "gemm shapes do not fit: op(a) is (%zu, %zu), op(b) (%zu, %zu), c (%zd, %zd)",
                 m, k, kb, n, b[2].view.shape[0], b[2].view.shape[1]);
    goto done;
  }
  if (operands_apart(b, 2, &b[2], 1, 0)) goto done;
  nnk_status st;
  WITHOUT_GIL_IF((double)m * (double)n * (double)k >= RELEASE_GIL_MNK,
                 st = BY_DTYPE(b[0].dt, nnk_sgemm_strided, nnk_dgemm_strided, m, n, k, alpha,
                               b[0].data, rsa, csa, b[1].data, rsb, csb, beta, b[2].data, rsc,
                               csc));
  result = status_result(st);
done:
  release_all(b, 3);
  return result;
}

/* The layer's sizes from its weight w (out, in) and x, whose last size must be `in`:
 * the one place x W^T + b checks shapes, for nnk.linear and nn.Linear alike. */
static int linear_sizes(PyObject *xo, PyObject *wo, buf *x, buf *w, size_t *n, size_t *in,
                        size_t *out)
{
  if (buf_get(wo, w, 0, 1, "weight")) return -1;
  if (w->view.ndim != 2 || w->view.shape[0] < 1 || w->view.shape[1] < 1) {
    char ws[64];
    shape_str(&w->view, ws, sizeof ws);
    PyErr_Format(PyExc_ValueError,
                 "linear: weight must be 2-D (out_features, in_features), non-empty, got %s", ws);
    return -1;
  }
  *out = (size_t)w->view.shape[0], *in = (size_t)w->view.shape[1];
  if (buf_get(xo, x, 0, 1, "x")) return -1;
  if (x->dt != w->dt) {
    PyErr_SetString(PyExc_TypeError, "nnk kernel operands must share one dtype");
    return -1;
  }
  if (x->view.ndim < 1 || (size_t)x->view.shape[x->view.ndim - 1] != *in) {
    char xs[160], ws[64];
    shape_str(&x->view, xs, sizeof xs);
    shape_str(&w->view, ws, sizeof ws);
    PyErr_Format(PyExc_ValueError,
                 "linear: x has shape %s but weight has shape %s (x's last size must be "
                 "in_features = %zu)", xs, ws, *in);
    return -1;
  }
  *n = buf_count(x) / *in;
  size_t unused;
  return size_mul(*n, *out, &unused);
}

/* linear_forward(x, w, b|None, y): y = x w^T + b. */
static PyObject *py_linear_forward(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
  buf b[4] = {0}; /* w, x, bias, y */
  PyObject *result = NULL;
  size_t n, in, out;
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError, "linear_forward(x, w, b, y)");
    return NULL;
  }
  if (linear_sizes(args[0], args[1], &b[1], &b[0], &n, &in, &out) ||
      get_sized(args[2], &b[2], 0, out, &b[0], "bias", 1) ||
      get_sized(args[3], &b[3], 1, n * out, &b[0], "out", 0) || operands_apart(b, 3, b + 3, 1, 0))
    goto done;
  nnk_status st;
  WITHOUT_GIL_IF((double)n * (double)in * (double)out >= RELEASE_GIL_MNK,
                 st = BY_DTYPE(b[0].dt, nnk_f32_linear_forward, nnk_f64_linear_forward, n, in,
                               out, b[1].data, b[0].data, ptr_or_null(&b[2]), b[3].data));
  result = status_result(st);
done:
  release_all(b, 4);
  return result;
}

/* linear_backward(x, w, g, dw, db|None, dx|None): dw += g^T x, db += sum g, dx = g w. */
static PyObject *py_linear_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
  buf b[6] = {0}; /* w, x, g, dw, db, dx */
  PyObject *result = NULL;
  size_t n, in, out;
  if (nargs != 6) {
    PyErr_SetString(PyExc_TypeError, "linear_backward(x, w, g, dw, db, dx)");
    return NULL;
  }
  if (linear_sizes(args[0], args[1], &b[1], &b[0], &n, &in, &out) ||
      get_sized(args[2], &b[2], 0, n * out, &b[0], "grad", 0) ||
      get_sized(args[3], &b[3], 1, out * in, &b[0], "weight grad", 0) ||
      get_sized(args[4], &b[4], 1, out, &b[0], "bias grad", 1) ||
      get_sized(args[5], &b[5], 1, n * in, &b[0], "dx", 1) || operands_apart(b, 3, b + 3, 3, 0))
    goto done;
  nnk_status st;
  WITHOUT_GIL_IF((double)n * (double)in * (double)out >= RELEASE_GIL_MNK,
                 st = BY_DTYPE(b[0].dt, nnk_f32_linear_backward, nnk_f64_linear_backward, n, in,
                               out, b[1].data, b[0].data, b[2].data, b[3].data,
                               ptr_or_null(&b[4]), ptr_or_null(&b[5])));
  result = status_result(st);
done:
  release_all(b, 6);
  return result;
}

PyMethodDef nnk_py_linalg_methods[] = {
  {"gemm", (PyCFunction)(void (*)(void))py_gemm, METH_FASTCALL,
   "gemm(a, b, c, alpha, beta, trans_a, trans_b): c = alpha op(a) op(b) + beta c."},
  {"linear_forward", (PyCFunction)(void (*)(void))py_linear_forward, METH_FASTCALL,
   "linear_forward(x, w, b, y): y = x w^T + b (b may be None)."},
  {"linear_backward", (PyCFunction)(void (*)(void))py_linear_backward, METH_FASTCALL,
   "linear_backward(x, w, g, dw, db, dx): dw += g^T x, db += sum g, dx = g w (db, dx may be None)."},
  {NULL, NULL, 0, NULL},
};
