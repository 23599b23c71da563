/* nnk._C entry points of the elementwise families: maps and their gradients, the
 * parametrised maps, row reductions (softmax family) and pointwise losses.  The op
 * indices are positions in the lists of nnk_kernels.h, exported as _C.*_OPS. */
#include "buffers.h"

#include "../threads/maps.h"

static const char *const MAP_NAMES[] = {"x", "out"};
static const char *const GRAD_NAMES[] = {"x", "grad", "out"};

/* vunary(op, x, out): out = f_op(x), threaded on large arrays. */
static PyObject *py_vunary(PyObject *self, PyObject *args)
{
  int op;
  PyObject *o[2];
  buf b[2] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "iOO:vunary", &op, &o[0], &o[1]) ||
      op_index(op, NNK_MAP_COUNT) || get_elementwise(o, 2, b, MAP_NAMES))
    goto done;
  size_t n = buf_count(&b[0]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 nnk_map_vunary(t, b[0].dt == DT_F64, op, n, b[0].data, b[1].data));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 2);
  return result;
}

/* vgrad(op, u, grad, out): out = f_op'(u) * grad, threaded on large arrays. */
static PyObject *py_vgrad(PyObject *self, PyObject *args)
{
  int op;
  PyObject *o[3];
  buf b[3] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "iOOO:vgrad", &op, &o[0], &o[1], &o[2]) ||
      op_index(op, NNK_GRAD_COUNT) || get_elementwise(o, 3, b, GRAD_NAMES))
    goto done;
  size_t n = buf_count(&b[0]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 nnk_map_vgrad(t, b[0].dt == DT_F64, op, n, b[0].data, b[1].data, b[2].data));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 3);
  return result;
}

/* pmap(op, x, out, a): out = f_op(x; a). */
static PyObject *py_pmap(PyObject *self, PyObject *args)
{
  int op;
  double a;
  PyObject *o[2];
  buf b[2] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "iOOd:pmap", &op, &o[0], &o[1], &a) ||
      op_index(op, NNK_PMAP_COUNT) || get_elementwise(o, 2, b, MAP_NAMES))
    goto done;
  size_t n = buf_count(&b[0]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS, KERNEL(b[0].dt, t, pmap[op], n, b[0].data, b[1].data, a));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 2);
  return result;
}

/* pgrad(op, u, grad, out, a): out = f_op'(u; a) * grad. */
static PyObject *py_pgrad(PyObject *self, PyObject *args)
{
  int op;
  double a;
  PyObject *o[3];
  buf b[3] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "iOOOd:pgrad", &op, &o[0], &o[1], &o[2], &a) ||
      op_index(op, NNK_PGRAD_COUNT) || get_elementwise(o, 3, b, GRAD_NAMES))
    goto done;
  size_t n = buf_count(&b[0]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 KERNEL(b[0].dt, t, pgrad[op], n, b[0].data, b[1].data, b[2].data, a));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 3);
  return result;
}

/* rows(op, x, out, n): x holds rows of n contiguous values; out is like x, or one value
 * per row for the per-row reductions (logsumexp). */
static PyObject *py_rows(PyObject *self, PyObject *args)
{
  static const int per_row[] = {
#define PER_ROW_(E, name, per_row, ...) per_row,
    NNK_ROWS_LIST(PER_ROW_, )
  };
  int op;
  Py_ssize_t n_in;
  PyObject *o[2];
  buf b[2] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "iOOn:rows", &op, &o[0], &o[1], &n_in) ||
      op_index(op, NNK_ROWS_COUNT) || buf_get(o[0], &b[0], 0, 1, "x"))
    goto done;
  size_t total = buf_count(&b[0]), n = (size_t)n_in;
  if (n_in < 0 || (n == 0 ? total != 0 : total % n != 0)) {
    PyErr_Format(PyExc_ValueError, "%zu elements do not split into rows of %zd", total, n_in);
    goto done;
  }
  size_t rows = n ? total / n : 0;
  if (get_sized(o[1], &b[1], 1, per_row[op] ? rows : total, &b[0], "out", 0) ||
      operands_apart(b, 1, &b[1], 1, 1))
    goto done;
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(total >= RELEASE_GIL_ELEMENTS, KERNEL(b[0].dt, t, rows[op], rows, n, b[0].data, b[1].data));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 2);
  return result;
}

/* rows_grad(op, y, grad, out, n): the ROWS_GRAD_OPS gradient over rows of n values, from
 * the forward's output y. */
static PyObject *py_rows_grad(PyObject *self, PyObject *args)
{
  int op;
  Py_ssize_t n_in;
  PyObject *o[3];
  buf b[3] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "iOOOn:rows_grad", &op, &o[0], &o[1], &o[2], &n_in) ||
      op_index(op, NNK_ROWS_GRAD_COUNT) || get_elementwise(o, 3, b, GRAD_NAMES))
    goto done;
  size_t total = buf_count(&b[0]), n = (size_t)n_in;
  if (n_in < 0 || (n == 0 ? total != 0 : total % n != 0)) {
    PyErr_Format(PyExc_ValueError, "%zu elements do not split into rows of %zd", total, n_in);
    goto done;
  }
  size_t rows = n ? total / n : 0;
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(total >= RELEASE_GIL_ELEMENTS,
                 KERNEL(b[0].dt, t, rows_grad[op], rows, n, b[0].data, b[1].data, b[2].data));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 3);
  return result;
}

/* loss(op, y, t, each): returns sum l(y, t); `each` (writable, or None) gets each l. */
static PyObject *py_loss(PyObject *self, PyObject *args)
{
  static const char *const names[] = {"input", "target", "out"};
  int op;
  PyObject *o[3];
  buf b[3] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "iOOO:loss", &op, &o[0], &o[1], &o[2]) ||
      op_index(op, NNK_LOSS_COUNT) || buf_get(o[0], &b[0], 0, 1, names[0]) ||
      get_sized(o[1], &b[1], 0, buf_count(&b[0]), &b[0], names[1], 0) ||
      get_sized(o[2], &b[2], 1, buf_count(&b[0]), &b[0], names[2], 1) ||
      operands_apart(b, 2, &b[2], 1, 1))
    goto done;
  size_t n = buf_count(&b[0]);
  const nnk_kernel_table *t = nnk_kernels();
  double sum;
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 sum = KERNEL(b[0].dt, t, loss[op], n, b[0].data, b[1].data, ptr_or_null(&b[2])));
  result = PyFloat_FromDouble(sum);
done:
  release_all(b, 3);
  return result;
}

/* loss_grad(op, y, t, scale, out): out = scale * dl/dy. */
static PyObject *py_loss_grad(PyObject *self, PyObject *args)
{
  static const char *const names[] = {"input", "target", "out"};
  int op;
  double scale;
  PyObject *o[3];
  buf b[3] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "iOOdO:loss_grad", &op, &o[0], &o[1], &scale, &o[2]) ||
      op_index(op, NNK_LOSS_COUNT) || get_elementwise(o, 3, b, names))
    goto done;
  size_t n = buf_count(&b[0]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 KERNEL(b[0].dt, t, loss_grad[op], n, b[0].data, b[1].data, scale, b[2].data));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 3);
  return result;
}

PyMethodDef nnk_py_elementwise_methods[] = {
  {"vunary", py_vunary, METH_VARARGS, "vunary(op, x, out): out = f_op(x), elementwise."},
  {"vgrad", py_vgrad, METH_VARARGS, "vgrad(op, u, grad, out): out = f_op'(u) * grad."},
  {"pmap", py_pmap, METH_VARARGS, "pmap(op, x, out, a): out = f_op(x; a) (PMAP_OPS)."},
  {"pgrad", py_pgrad, METH_VARARGS, "pgrad(op, u, grad, out, a): out = f_op'(u; a) * grad."},
  {"rows", py_rows, METH_VARARGS,
   "rows(op, x, out, n): the ROWS_OPS reduction (softmax, ...) over rows of n values."},
  {"rows_grad", py_rows_grad, METH_VARARGS,
   "rows_grad(op, y, grad, out, n): the ROWS_GRAD_OPS gradient over rows of n values."},
  {"loss", py_loss, METH_VARARGS, "loss(op, y, t, each): sum of l(y, t); each l into `each`."},
  {"loss_grad", py_loss_grad, METH_VARARGS, "loss_grad(op, y, t, scale, out): scale * dl/dy."},
  {NULL, NULL, 0, NULL},
};
