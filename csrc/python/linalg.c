/* nnk._C entry points over GEMM: the general product (any strides, transposes) and the
 * fully connected layer's forward and backward (csrc/layers/linear.c). */
#include "entries.h"

#include "../layers/linear.h"

/* numpy.matmul's result for plain operands (ndarrays of one native float dtype, 1-D or
 * 2-D, inner sizes equal): a new uninitialised array, 0-D for a dot product.  NULL with
 * no error set for anything else, which the caller converts or rejects in its own words. */
static PyObject *new_product(PyObject *a, PyObject *b)
{
  int type = kernel_array_type(a, 1, 0);
  if (!type || kernel_array_type(b, 1, 0) != type) return NULL;
  PyArrayObject *x = (PyArrayObject *)a, *y = (PyArrayObject *)b;
  int nx = PyArray_NDIM(x), ny = PyArray_NDIM(y);
  if (nx < 1 || nx > 2 || ny < 1 || ny > 2 || PyArray_DIM(x, nx - 1) != PyArray_DIM(y, 0))
    return NULL;
  npy_intp dims[2];
  int nd = 0;
  if (nx == 2) dims[nd++] = PyArray_DIM(x, 0);
  if (ny == 2) dims[nd++] = PyArray_DIM(y, 1);
  return PyArray_EMPTY(nd, dims, type, 0);
}

/* gemm(a, b, c, alpha, beta, trans_a, trans_b): c = alpha op(a) op(b) + beta c, any strides.
 * As numpy.matmul, a 1-D a is one row and a 1-D b one column, and c drops their axes
 * (0-D for a dot product); vectors take no transpose.  c = None (beta 0, no transposes):
 * returns a new c (a NumPy scalar for a dot product) for plain operands (new_product),
 * None for any others.
 * FASTCALL: this is the per-call cost of every small matmul from Python. */
PyObject *nnk_py_gemm(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
  buf b[3] = {0}; /* a, b, c */
  PyObject *result = NULL, *made = NULL;
  ptrdiff_t rsa, csa, rsb, csb, rsc, csc;
  size_t m, k, kb, n, mc, nc;
  if (arg_count(nargs, 7, "gemm(a, b, c, alpha, beta, trans_a, trans_b)")) return NULL;
  double alpha = PyFloat_AsDouble(args[3]), beta = PyFloat_AsDouble(args[4]);
  int ta = PyObject_IsTrue(args[5]), tb = PyObject_IsTrue(args[6]);
  if (((alpha == -1.0 || beta == -1.0) && PyErr_Occurred()) || ta < 0 || tb < 0) return NULL;
  PyObject *c = args[2];
  if (c == Py_None) {
    if (beta != 0.0 || ta || tb) {
      PyErr_SetString(PyExc_ValueError, "gemm: a new c (None) takes beta 0 and no transposes");
      return NULL;
    }
    if (!(c = made = new_product(args[0], args[1]))) return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
  }
  if (buf_get(args[0], &b[0], 0, 0, "a") || buf_get(args[1], &b[1], 0, 0, "b") ||
      buf_get(c, &b[2], 1, 0, "c"))
    goto done;
  int va = b[0].view.ndim == 1, vb = b[1].view.ndim == 1;
  if ((va && ta) || (vb && tb)) {
    PyErr_SetString(PyExc_ValueError, "gemm: a 1-D operand takes no transpose");
    goto done;
  }
  if (matrix_view(&b[0], "a", va ? 1 : 2, 1, &m, &k, &rsa, &csa) ||
      matrix_view(&b[1], "b", vb ? 1 : 2, 0, &kb, &n, &rsb, &csb) ||
      matrix_view(&b[2], "c", 2 - va - vb, va, &mc, &nc, &rsc, &csc))
    goto done;
  if (b[0].dt != b[1].dt || b[0].dt != b[2].dt) {
    PyErr_SetString(PyExc_TypeError, "nnk kernel operands must share one dtype");
    goto done;
  }
  if (ta) { size_t t = m; m = k, k = t; ptrdiff_t s = rsa; rsa = csa; csa = s; }
  if (tb) { size_t t = kb; kb = n, n = t; ptrdiff_t s = rsb; rsb = csb; csb = s; }
  if (k != kb || mc != m || nc != n) {
    PyErr_Format(PyExc_ValueError,
                 "gemm shapes do not fit: op(a) is (%zu, %zu), op(b) (%zu, %zu), c (%zu, %zu)",
                 m, k, kb, n, mc, nc);
    goto done;
  }
  if (operands_apart(b, 2, &b[2], 1, 0)) goto done;
  nnk_status st;
  WITHOUT_GIL_IF((double)m * (double)n * (double)k >= RELEASE_GIL_MNK,
                 st = BY_DTYPE(b[0].dt, nnk_sgemm_strided, nnk_dgemm_strided, m, n, k, alpha,
                               b[0].data, rsa, csa, b[1].data, rsb, csb, beta, b[2].data, rsc,
                               csc));
  result = status_result(st);
  if (result && made) { /* the new c instead of None */
    Py_DECREF(result);
    result = PyArray_Return((PyArrayObject *)Py_NewRef(made));
  }
done:
  release_all(b, 3);
  Py_XDECREF(made);
  return result;
}

/* linear_forward's y for plain operands (x, w and a bias or None: ndarrays of one native
 * float dtype, C-contiguous; w 2-D, x's last size w's second, the bias w's first): a new
 * uninitialised (..., out) array.  NULL with no error set for anything else, which the
 * caller converts or rejects in its own words. */
static PyObject *new_linear_out(PyObject *x, PyObject *w, PyObject *bias)
{
  int type = kernel_array_type(x, 1, 1);
  if (!type || kernel_array_type(w, 1, 1) != type) return NULL;
  PyArrayObject *xa = (PyArrayObject *)x, *wa = (PyArrayObject *)w;
  int nd = PyArray_NDIM(xa);
  if (nd < 1 || nd > NPY_MAXDIMS || PyArray_NDIM(wa) != 2 || PyArray_DIM(xa, nd - 1) != PyArray_DIM(wa, 1))
    return NULL;
  if (bias != Py_None && (kernel_array_type(bias, 1, 1) != type ||
                          PyArray_NDIM((PyArrayObject *)bias) != 1 ||
                          PyArray_DIM((PyArrayObject *)bias, 0) != PyArray_DIM(wa, 0)))
    return NULL;
  npy_intp dims[NPY_MAXDIMS];
  for (int d = 0; d < nd - 1; d++) dims[d] = PyArray_DIM(xa, d);
  dims[nd - 1] = PyArray_DIM(wa, 0);
  return PyArray_EMPTY(nd, dims, type, 0);
}

/* linear_forward(x, w, b|None, y|None) and linear_backward(x, w, g, dw|None, db|None, dx|None, add):
 * y = x w^T + b;  dw += g^T x, db += sum g (add true) or dw = g^T x, db = sum g (false),
 * dx = g w.  w (out, in) and x (..., in) come first; the one place x W^T + b checks
 * shapes, for nnk.linear and nn.Linear alike.  y = None: returns a new y for plain
 * operands (new_linear_out), None for any others: one call from Python, nothing made
 * on the Python side (Zen 4: nnk.linear on a 2x2 layer 0.9 -> 0.28 us, a 256 -> 256
 * sample 4.2 -> 3.6 us; nn.Linear's forward on the 2x2 layer 2.1 -> 1.7 us). */
static PyObject *linear_call(PyObject *const *args, Py_ssize_t nargs, int backward)
{
  buf b[6] = {0}; /* w, x, then bias, y or g, dw, db, dx */
  PyObject *result = NULL, *made = NULL, *with_y[4];
  int count = backward ? 6 : 4, add = 1;
  if (!backward && nargs == 4 && args[3] == Py_None) {
    if (!(made = new_linear_out(args[0], args[1], args[2])))
      return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    with_y[0] = args[0], with_y[1] = args[1], with_y[2] = args[2], with_y[3] = made;
    args = with_y;
  }
  if (arg_count(nargs, count + backward, backward ? "linear_backward(x, w, g, dw, db, dx, add)"
                                                  : "linear_forward(x, w, b, y)") ||
      (backward && (add = PyObject_IsTrue(args[6])) < 0) ||
      buf_get(args[1], &b[0], 0, 1, "weight"))
    goto done;
  if (b[0].view.ndim != 2 || b[0].view.shape[0] < 1 || b[0].view.shape[1] < 1) {
    char ws[64];
    shape_str(&b[0].view, ws, sizeof ws);
    PyErr_Format(PyExc_ValueError,
                 "linear: weight must be 2-D (out_features, in_features), non-empty, got %s", ws);
    goto done;
  }
  size_t out = (size_t)b[0].view.shape[0], in = (size_t)b[0].view.shape[1], n, no, ni;
  if (buf_get(args[0], &b[1], 0, 1, "x")) goto done;
  if (b[1].dt != b[0].dt) {
    PyErr_SetString(PyExc_TypeError, "nnk kernel operands must share one dtype");
    goto done;
  }
  if (b[1].view.ndim < 1 || (size_t)b[1].view.shape[b[1].view.ndim - 1] != in) {
    char xs[160], ws[64];
    shape_str(&b[1].view, xs, sizeof xs);
    shape_str(&b[0].view, ws, sizeof ws);
    PyErr_Format(PyExc_ValueError,
                 "linear: x has shape %s but weight has shape %s (x's last size must be "
                 "in_features = %zu)", xs, ws, in);
    goto done;
  }
  n = buf_count(&b[1]) / in;
  if (size_mul(n, out, &no) || size_mul(n, in, &ni)) goto done;
  const operand forward[] = {{"bias", out, 0, 1}, {"out", no, 1, 0}};
  const operand grads[] = {{"grad", no, 0, 0}, {"weight grad", out * in, 1, 1},
                           {"bias grad", out, 1, 1}, {"dx", ni, 1, 1}};
  const int n_in = 3; /* w, x, and the bias or g: read; the rest written */
  if (get_operands(args + 2, backward ? grads : forward, count - 2, b + 2, &b[0]) ||
      operands_apart(b, n_in, b + n_in, count - n_in, 0))
    goto done;
  nnk_status st;
  WITHOUT_GIL_IF((double)n * (double)in * (double)out >= RELEASE_GIL_MNK,
                 st = backward ? BY_DTYPE(b[0].dt, nnk_f32_linear_backward,
                                          nnk_f64_linear_backward, n, in, out, b[1].data,
                                          b[0].data, b[2].data, ptr_or_null(&b[3]), ptr_or_null(&b[4]),
                                          ptr_or_null(&b[5]), add)
                               : BY_DTYPE(b[0].dt, nnk_f32_linear_forward,
                                          nnk_f64_linear_forward, n, in, out, b[1].data,
                                          b[0].data, ptr_or_null(&b[2]), b[3].data));
  result = status_result(st);
  if (result && made) { /* the new y instead of None */
    Py_DECREF(result);
    result = Py_NewRef(made);
  }
done:
  release_all(b, 6);
  Py_XDECREF(made);
  return result;
}

NNK_PY_FORWARD_BACKWARD(linear, linear_call)
