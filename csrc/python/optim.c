/* nnk._C entry points of the optimiser updates (NNK_STEP_LIST): in place on the
 * parameter and its state, read from the gradient; threaded when large (threads/maps.c). */
#include "entries.h"

#include "../threads/maps.h"

#include <stdint.h>
#include <stdlib.h>

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

/* The options bits of an update (nnk_kernels.h): the kernel's own bit (NNK_SGD_NESTEROV,
 * NNK_ADAM_DECOUPLED, or 0) and maximize's. */
static int step_options(int own_bit, int maximize)
{
  return own_bit | (maximize ? NNK_STEP_MAXIMIZE : 0);
}

/* sgd_step(p, g, v or None, lr, momentum, weight_decay, nesterov, dampening=0.0,
 * maximize=False).  FASTCALL: SGD.step calls it once a parameter, and a small net's step
 * is its calls (Zen 3, a 3 x 2 parameter: 380 -> 240 ns a call from Python, without the
 * argument tuple and its parsing). */
PyObject *nnk_py_sgd_step(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
  buf b[3] = {0};
  PyObject *result = NULL;
  if (nargs < 7 || nargs > 9) {
    PyErr_Format(PyExc_TypeError, "sgd_step(p, g, v, lr, momentum, weight_decay, nesterov, dampening=0.0, "
                                  "maximize=False) takes 7 to 9 arguments, got %zd", nargs);
    return NULL;
  }
  const double lr = PyFloat_AsDouble(args[3]), mu = PyFloat_AsDouble(args[4]), wd = PyFloat_AsDouble(args[5]);
  const double dampening = nargs > 7 ? PyFloat_AsDouble(args[7]) : 0.0;
  const int nesterov = PyObject_IsTrue(args[6]), maximize = nargs > 8 ? PyObject_IsTrue(args[8]) : 0;
  if (PyErr_Occurred() || nesterov < 0 || maximize < 0) return NULL;
  PyObject *outs[2] = {args[0], args[2]}; /* p, v */
  if (get_step(args[1], outs, 2, 1, b)) goto done;
  size_t n = buf_count(&b[1]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 nnk_map_sgd(t, b[1].dt == DT_F64, n, b[1].data, b[0].data, ptr_or_null(&b[2]),
                             lr, mu, dampening, wd,
                             step_options(nesterov ? NNK_SGD_NESTEROV : 0, maximize)));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 3);
  return result;
}

/* adam_step(p, g, m, v, lr, beta1, beta2, eps, c1, c2, weight_decay, decoupled,
 * max_v=None, maximize=False): max_v, AMSGrad's running maximum of v, in place too */
PyObject *nnk_py_adam_step(PyObject *self, PyObject *args)
{
  PyObject *g, *outs[4] = {0, 0, 0, Py_None}; /* p, m, v, max_v */
  double lr, b1, b2, eps, c1, c2, wd;
  int decoupled, maximize = 0;
  buf b[5] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "OOOOdddddddp|Op:adam_step", &outs[0], &g, &outs[1], &outs[2],
                        &lr, &b1, &b2, &eps, &c1, &c2, &wd, &decoupled, &outs[3], &maximize) ||
      get_step(g, outs, 4, 1, b))
    goto done;
  if (!b[2].data || !b[3].data) {
    PyErr_SetString(PyExc_TypeError, "adam_step: the moments m and v are required");
    goto done;
  }
  size_t n = buf_count(&b[1]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 nnk_map_adam(t, b[1].dt == DT_F64, n, b[1].data, b[0].data, b[2].data,
                              b[3].data, ptr_or_null(&b[4]), lr, b1, b2, eps, c1, c2, wd,
                              step_options(decoupled ? NNK_ADAM_DECOUPLED : 0, maximize)));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 5);
  return result;
}

/* Whether any two of the `count` entries' operands (`per` buffers each; a buffer not
 * given has length 0) share memory (1, or 0; -1 with MemoryError set): the extents sorted
 * by start, each against the furthest end before it and the furthest end of another
 * entry than that one's (an extent may overlap its own entry's). */
typedef struct {
  uintptr_t lo, hi;
  size_t entry;
} extent;
static int by_start(const void *a, const void *b)
{
  uintptr_t x = ((const extent *)a)->lo, y = ((const extent *)b)->lo;
  return x < y ? -1 : x > y;
}
static int entries_overlap(const buf *b, size_t count, size_t per)
{
  extent *e = PyMem_Malloc(per * count * sizeof *e + 1);
  if (!e) {
    PyErr_NoMemory();
    return -1;
  }
  size_t k = 0;
  for (size_t i = 0; i < per * count; i++)
    if (b[i].view.len > 0)
      e[k++] = (extent){(uintptr_t)b[i].view.buf, (uintptr_t)b[i].view.buf + (uintptr_t)b[i].view.len, i / per};
  qsort(e, k, sizeof *e, by_start);
  int overlap = 0;
  const extent none = {0, 0, SIZE_MAX};
  extent f1 = none, f2 = none; /* f2: the furthest of the entries other than f1's */
  for (size_t i = 0; i < k && !overlap; i++) {
    overlap = (e[i].lo < f1.hi && e[i].entry != f1.entry) || (e[i].lo < f2.hi && e[i].entry != f2.entry);
    if (e[i].hi > f1.hi) {
      if (e[i].entry != f1.entry) f2 = f1;
      f1 = e[i];
    } else if (e[i].entry != f1.entry && e[i].hi > f2.hi)
      f2 = e[i];
  }
  PyMem_Free(e);
  return overlap;
}

/* adam_steps(params, grads, exp_avgs, exp_avg_sqs, lr, beta1, beta2, eps, c1, c2,
 * weight_decay, decoupled, max_exp_avg_sqs=None, maximize=False): adam_step on every
 * parameter of the lists (one dtype), as one threaded call over all their elements;
 * parameters that share memory with each other's operands are stepped one after the
 * other instead, as separate calls would. */
PyObject *nnk_py_adam_steps(PyObject *self, PyObject *args)
{
  enum { PER = 5 }; /* per entry: g, p, m, v, max_v (get_step's order) */
  PyObject *lists[5] = {0, 0, 0, 0, Py_None}, *seq[5] = {0};
  double lr, b1, b2, eps, c1, c2, wd;
  int decoupled, maximize = 0;
  buf *b = NULL;
  void **ptrs = NULL;
  size_t *sizes = NULL, count = 0, got = 0;
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "OOOOdddddddp|Op:adam_steps", &lists[0], &lists[1], &lists[2],
                        &lists[3], &lr, &b1, &b2, &eps, &c1, &c2, &wd, &decoupled, &lists[4],
                        &maximize))
    return NULL;
  const int amsgrad = lists[4] != Py_None, nlists = 4 + amsgrad;
  static const char *const names[] = {"params", "grads", "exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"};
  for (int i = 0; i < nlists; i++) {
    if (!(seq[i] = PySequence_Fast(lists[i], "adam_steps: params, grads and states must be sequences")))
      goto done;
    if (i && PySequence_Fast_GET_SIZE(seq[i]) != PySequence_Fast_GET_SIZE(seq[0])) {
      PyErr_Format(PyExc_ValueError, "adam_steps: %zd %s for %zd params", PySequence_Fast_GET_SIZE(seq[i]),
                   names[i], PySequence_Fast_GET_SIZE(seq[0]));
      goto done;
    }
  }
  count = (size_t)PySequence_Fast_GET_SIZE(seq[0]);
  b = PyMem_Calloc(PER * count + 1, sizeof *b);
  ptrs = PyMem_Malloc((PER * count + 1) * sizeof *ptrs);
  sizes = PyMem_Malloc((count + 1) * sizeof *sizes);
  if (!b || !ptrs || !sizes) {
    PyErr_NoMemory();
    goto done;
  }
  size_t total = 0;
  for (; got < count; got++) {
    PyObject *outs[4] = {PySequence_Fast_GET_ITEM(seq[0], got), PySequence_Fast_GET_ITEM(seq[2], got),
                         PySequence_Fast_GET_ITEM(seq[3], got),
                         amsgrad ? PySequence_Fast_GET_ITEM(seq[4], got) : NULL};
    buf *e = b + PER * got;
    if (get_step(PySequence_Fast_GET_ITEM(seq[1], got), outs, 3 + amsgrad, 0, e)) goto done;
    if (e[1].dt != b[1].dt) {
      PyErr_Format(PyExc_TypeError, "adam_steps: params of one dtype (param %zu differs from param 0)", got);
      goto done;
    }
    sizes[got] = buf_count(&e[1]), total += sizes[got];
    ptrs[got] = e[1].data, ptrs[count + got] = e[0].data;
    ptrs[2 * count + got] = e[2].data, ptrs[3 * count + got] = e[3].data;
    ptrs[4 * count + got] = amsgrad ? e[4].data : NULL;
  }
  const int overlap = entries_overlap(b, count, PER);
  if (overlap < 0) goto done;
  const nnk_kernel_table *t = nnk_kernels();
  const int f64 = count && b[1].dt == DT_F64;
  const int options = step_options(decoupled ? NNK_ADAM_DECOUPLED : 0, maximize);
  void *const *vmax = amsgrad ? ptrs + 4 * count : NULL;
  if (!overlap) {
    WITHOUT_GIL_IF(total >= RELEASE_GIL_ELEMENTS,
                   nnk_map_adam_list(t, f64, count, ptrs, (const void *const *)(ptrs + count),
                                     ptrs + 2 * count, ptrs + 3 * count, vmax, sizes, lr, b1, b2,
                                     eps, c1, c2, wd, options));
  } else {
    for (size_t i = 0; i < count; i++)
      nnk_map_adam(t, f64, sizes[i], ptrs[i], ptrs[count + i], ptrs[2 * count + i],
                   ptrs[3 * count + i], vmax ? vmax[i] : NULL, lr, b1, b2, eps, c1, c2, wd, options);
  }
  result = Py_NewRef(Py_None);
done:
  if (b) release_all(b, (int)(PER * (got < count ? got + 1 : count)));
  PyMem_Free(b), PyMem_Free(ptrs), PyMem_Free(sizes);
  for (int i = 0; i < 5; i++) Py_XDECREF(seq[i]);
  return result;
}

/* rmsprop_step(p, g, v, gavg or None, buf or None, lr, alpha, eps, weight_decay, momentum,
 * maximize=False) */
PyObject *nnk_py_rmsprop_step(PyObject *self, PyObject *args)
{
  PyObject *g, *outs[4]; /* p, v, gavg, buf */
  double lr, alpha, eps, wd, mu;
  int maximize = 0;
  buf b[5] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "OOOOOddddd|p:rmsprop_step", &outs[0], &g, &outs[1], &outs[2],
                        &outs[3], &lr, &alpha, &eps, &wd, &mu, &maximize) ||
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
                                 ptr_or_null(&b[3]), ptr_or_null(&b[4]), lr, alpha, eps, wd, mu,
                                 step_options(0, maximize)));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 5);
  return result;
}

/* adagrad_step(p, g, sum, lr, eps, weight_decay, maximize=False) */
PyObject *nnk_py_adagrad_step(PyObject *self, PyObject *args)
{
  PyObject *g, *outs[2]; /* p, sum */
  double lr, eps, wd;
  int maximize = 0;
  buf b[3] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "OOOddd|p:adagrad_step", &outs[0], &g, &outs[1], &lr, &eps, &wd,
                        &maximize) ||
      get_step(g, outs, 2, 0, b))
    goto done;
  size_t n = buf_count(&b[1]);
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 nnk_map_adagrad(t, b[1].dt == DT_F64, n, b[1].data, b[0].data, b[2].data, lr,
                                 eps, wd, step_options(0, maximize)));
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
