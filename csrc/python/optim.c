/* nnk._C entry points of the optimiser updates (NNK_STEP_LIST): in place on the
 * parameter and its state, read from the gradient; threaded when large (threads/maps.c). */
#include "entries.h"

#include "../threads/maps.h"

/* The gradient (read) and `n_out` buffers written in place, each of the parameter's
 * dtype and size: b[0] = g, b[1] = p, b[2...] its state (None allowed when optional). */
static int get_step(PyObject *g, PyObject *const *outs, int n_out, int optional_state, buf *b)
{
  static const char *const names[] = {"param", "first moment", "second moment", "state"};
  if (buf_get(outs[0], &b[1], 1, 1, names[0]) ||
      get_sized(g, &b[0], 0, buf_count(&b[1]), &b[1], "grad", 0))
    return -1;
  for (int i = 1; i < n_out; i++)
    if (get_sized(outs[i], &b[1 + i], 1, buf_count(&b[1]), &b[1], names[i], optional_state))
      return -1;
  return operands_apart(b, 1, b + 1, n_out, 1);
}

/* sgd_step(p, g, v or None, lr, momentum, weight_decay, nesterov) */
PyObject *nnk_py_sgd_step(PyObject *self, PyObject *args)
{
  PyObject *g, *outs[2]; /* p, v */
  double lr, mu, wd;
  int nesterov;
  buf b[3] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "OOOdddp:sgd_step", &outs[0], &g, &outs[1], &lr, &mu, &wd,
                        &nesterov) ||
      get_step(g, outs, 2, 1, b))
    goto done;
  size_t n = buf_count(&b[1]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 nnk_map_sgd(t, b[1].dt == DT_F64, n, b[1].data, b[0].data, ptr_or_null(&b[2]),
                             lr, mu, wd, nesterov));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 3);
  return result;
}

/* adam_step(p, g, m, v, lr, beta1, beta2, eps, c1, c2, weight_decay, decoupled) */
PyObject *nnk_py_adam_step(PyObject *self, PyObject *args)
{
  PyObject *g, *outs[3]; /* p, m, v */
  double lr, b1, b2, eps, c1, c2, wd;
  int decoupled;
  buf b[4] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "OOOOdddddddp:adam_step", &outs[0], &g, &outs[1], &outs[2], &lr,
                        &b1, &b2, &eps, &c1, &c2, &wd, &decoupled) ||
      get_step(g, outs, 3, 0, b))
    goto done;
  size_t n = buf_count(&b[1]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 nnk_map_adam(t, b[1].dt == DT_F64, n, b[1].data, b[0].data, b[2].data,
                              b[3].data, lr, b1, b2, eps, c1, c2, wd, decoupled));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 4);
  return result;
}

/* rmsprop_step(p, g, v, gavg or None, buf or None, lr, alpha, eps, weight_decay, momentum) */
PyObject *nnk_py_rmsprop_step(PyObject *self, PyObject *args)
{
  PyObject *g, *outs[4]; /* p, v, gavg, buf */
  double lr, alpha, eps, wd, mu;
  buf b[5] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "OOOOOddddd:rmsprop_step", &outs[0], &g, &outs[1], &outs[2],
                        &outs[3], &lr, &alpha, &eps, &wd, &mu) ||
      get_step(g, outs, 4, 1, b))
    goto done;
  if (!b[2].data) {
    PyErr_SetString(PyExc_TypeError, "rmsprop_step: the square average v is required");
    goto done;
  }
  size_t n = buf_count(&b[1]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 nnk_map_rmsprop(t, b[1].dt == DT_F64, n, b[1].data, b[0].data, b[2].data,
                                 ptr_or_null(&b[3]), ptr_or_null(&b[4]), lr, alpha, eps, wd, mu));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 5);
  return result;
}

/* adagrad_step(p, g, sum, lr, eps, weight_decay) */
PyObject *nnk_py_adagrad_step(PyObject *self, PyObject *args)
{
  PyObject *g, *outs[2]; /* p, sum */
  double lr, eps, wd;
  buf b[3] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "OOOddd:adagrad_step", &outs[0], &g, &outs[1], &lr, &eps, &wd) ||
      get_step(g, outs, 2, 0, b))
    goto done;
  size_t n = buf_count(&b[1]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 nnk_map_adagrad(t, b[1].dt == DT_F64, n, b[1].data, b[0].data, b[2].data, lr,
                                 eps, wd));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 3);
  return result;
}

/* axpy(a, x, y): y += a x */
PyObject *nnk_py_axpy(PyObject *self, PyObject *args)
{
  static const char *const names[] = {"x", "y"};
  double a;
  PyObject *o[2];
  buf b[2] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "dOO:axpy", &a, &o[0], &o[1]) || get_elementwise(o, 2, 1, b, names))
    goto done;
  size_t n = buf_count(&b[0]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 nnk_map_axpy(t, b[0].dt == DT_F64, n, a, b[0].data, b[1].data));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 2);
  return result;
}
