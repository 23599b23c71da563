/* nnk._C entry points of the layers' row kernels (NNK_ROW_LAYER_LIST): LayerNorm forward
 * and backward, and cross-entropy from class labels fused with its gradient.  Rows are
 * the last axis of C-contiguous operands; the binding checks every size and label. */
#include "entries.h"

#include "../threads/rows.h"

/* x (..., n) C-contiguous with n >= 1: its row count and length. */
static int rows_of(const buf *x, const char *what, size_t *rows, size_t *n)
{
  if (x->view.ndim < 1 || x->view.shape[x->view.ndim - 1] < 1) {
    PyErr_Format(PyExc_ValueError, "%s must have a non-empty last axis", what);
    return -1;
  }
  *n = (size_t)x->view.shape[x->view.ndim - 1];
  *rows = buf_count(x) / *n;
  return 0;
}

/* layernorm_forward(x, gamma|None, beta|None, eps, y, mean|None, rstd|None) */
PyObject *nnk_py_layernorm_forward(PyObject *self, PyObject *args)
{
  PyObject *xo, *go, *bo, *yo, *mo, *ro;
  double eps;
  buf b[6] = {0}; /* x, gamma, beta, then y, mean, rstd (written) */
  PyObject *result = NULL;
  size_t rows, n;
  if (!PyArg_ParseTuple(args, "OOOdOOO:layernorm_forward", &xo, &go, &bo, &eps, &yo, &mo, &ro) ||
      buf_get(xo, &b[0], 0, 1, "x") || rows_of(&b[0], "x", &rows, &n))
    goto done;
  const operand spec[] = {{"weight", n, 0, 1}, {"bias", n, 0, 1}, {"out", rows * n, 1, 0},
                          {"mean", rows, 1, 1}, {"rstd", rows, 1, 1}};
  PyObject *objs[] = {go, bo, yo, mo, ro};
  /* y may be x exactly (each x is read before its y is written); nothing else may share */
  if (get_operands(objs, spec, 5, b + 1, &b[0]) || operands_apart(b, 1, b + 3, 1, 1) ||
      operands_apart(b, 1, b + 4, 2, 0) || operands_apart(b + 1, 2, b + 3, 3, 0))
    goto done;
  WITHOUT_GIL_IF(rows * n >= RELEASE_GIL_ELEMENTS,
                 nnk_rows_layernorm(nnk_kernels(), b[0].dt == DT_F64, rows, n, b[0].data,
                                    ptr_or_null(&b[1]), ptr_or_null(&b[2]), eps, b[3].data,
                                    ptr_or_null(&b[4]), ptr_or_null(&b[5])));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 6);
  return result;
}

/* layernorm_backward(x, gamma|None, mean, rstd, dy, dx, dgamma|None, dbeta|None):
 * dx from dy (dx may be dy itself); dgamma, dbeta accumulate. */
PyObject *nnk_py_layernorm_backward(PyObject *self, PyObject *args)
{
  PyObject *o[8];
  buf b[8] = {0}; /* x, gamma, mean, rstd, dy, then dx, dgamma, dbeta (written) */
  PyObject *result = NULL;
  size_t rows, n;
  if (!PyArg_ParseTuple(args, "OOOOOOOO:layernorm_backward", &o[0], &o[1], &o[2], &o[3], &o[4],
                        &o[5], &o[6], &o[7]) ||
      buf_get(o[0], &b[0], 0, 1, "x") || rows_of(&b[0], "x", &rows, &n))
    goto done;
  const operand spec[] = {{"weight", n, 0, 1},      {"mean", rows, 0, 0},
                          {"rstd", rows, 0, 0},     {"grad", rows * n, 0, 0},
                          {"grad_input", rows * n, 1, 0}, {"weight grad", n, 1, 1},
                          {"bias grad", n, 1, 1}};
  if (get_operands(o + 1, spec, 7, b + 1, &b[0])) goto done;
  /* dx may be dy exactly (each dy is read before its dx is written); every other input
   * stays apart from every output */
  if (operands_apart(b, 4, b + 5, 3, 0) || operands_apart(b + 4, 1, b + 5, 1, 1) ||
      operands_apart(b + 4, 1, b + 6, 2, 0))
    goto done;
  int st;
  WITHOUT_GIL_IF(rows * n >= RELEASE_GIL_ELEMENTS,
                 st = nnk_rows_layernorm_grad(nnk_kernels(), b[0].dt == DT_F64, rows, n, b[0].data,
                                              ptr_or_null(&b[1]), b[2].data, b[3].data, b[4].data,
                                              b[5].data, ptr_or_null(&b[6]), ptr_or_null(&b[7])));
  result = st ? PyErr_NoMemory() : Py_NewRef(Py_None);
done:
  release_all(b, 8);
  return result;
}

/* cross_entropy(x (rows, n), labels (rows,) int64, ignore, scale, loss (rows,), dx|None):
 * loss per row and, when dx is given, dx = scale (softmax(x) - onehot) (dx may be x). */
PyObject *nnk_py_cross_entropy(PyObject *self, PyObject *args)
{
  PyObject *xo, *lo, *so, *dxo;
  long long ignore;
  double scale;
  buf b[4] = {0}; /* x, labels, loss, dx */
  PyObject *result = NULL;
  size_t rows, n;
  if (!PyArg_ParseTuple(args, "OOLdOO:cross_entropy", &xo, &lo, &ignore, &scale, &so, &dxo) ||
      buf_get(xo, &b[0], 0, 1, "input") || rows_of(&b[0], "input", &rows, &n) ||
      get_ints(lo, &b[1], 8, 0, "target"))
    goto done;
  if (buf_count(&b[1]) != rows) {
    PyErr_Format(PyExc_ValueError, "target holds %zu labels for %zu rows of input", buf_count(&b[1]),
                 rows);
    goto done;
  }
  const int64_t *labels = b[1].data;
  for (size_t r = 0; r < rows; r++)
    if (labels[r] != ignore && (labels[r] < 0 || (uint64_t)labels[r] >= n)) {
      PyErr_Format(PyExc_IndexError, "target %lld is out of bounds for %zu classes",
                   (long long)labels[r], n);
      goto done;
    }
  const operand spec[] = {{"loss", rows, 1, 0}, {"grad", rows * n, 1, 1}};
  PyObject *objs[] = {so, dxo};
  /* dx may be x exactly (a row is read before it is written), loss too when n == 1 */
  if (get_operands(objs, spec, 2, b + 2, &b[0]) || operands_apart(b, 1, b + 2, 2, 1)) goto done;
  WITHOUT_GIL_IF(rows * n >= RELEASE_GIL_ELEMENTS,
                 nnk_rows_cross_entropy(nnk_kernels(), b[0].dt == DT_F64, rows, n, b[0].data,
                                        labels, (int64_t)ignore, scale, b[2].data,
                                        ptr_or_null(&b[3])));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 4);
  return result;
}
