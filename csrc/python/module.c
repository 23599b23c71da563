/*
 * nnk._C — the CPython binding.  Buffers in, pointers and strides out, errors raised,
 * GIL released for work big enough to pay for it.  No math here: every number is
 * computed by a kernel behind the dispatch table.
 *
 * The Python package (nnk/) converts inputs with NumPy and allocates outputs; this
 * layer still re-checks everything it relies on (dtype, shape, contiguity, writability)
 * so that no call from Python can make a kernel read or write out of bounds.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <sleef.h>
#include <stdlib.h>
#include <string.h>

#include "nnk.h"
#include "nnk_kernels.h"
#include "../layers/linear.h"
#include "../threads/maps.h"
#include "../rnn/rnn.h"

/* Elementwise calls below this many elements keep the GIL: releasing it costs more. */
#define RELEASE_GIL_ELEMENTS 8192
/* GEMMs below this m*n*k keep the GIL. */
#define RELEASE_GIL_MNK (96.0 * 96.0 * 96.0)

typedef struct {
  PyObject *isa_names; /* tuple of str, indexed by nnk_isa */
} module_state;

static module_state *get_state(PyObject *module) { return PyModule_GetState(module); }

/* ---- Buffers ------------------------------------------------------------ */

typedef enum { DT_F32, DT_F64 } dtype;

/* An acquired buffer and what it holds; release with buf_release on every path.
 * Kernels read `data`: the buffer itself, or a private copy of it (`scratch`) when an
 * output shares its memory (see read_apart). */
typedef struct {
  Py_buffer view;
  int held;
  dtype dt;
  void *data;
  void *scratch;
} buf;

static void buf_release(buf *b)
{
  if (b->held) PyBuffer_Release(&b->view);
  free(b->scratch);
  b->held = 0;
  b->scratch = NULL;
}

static int format_dtype(const Py_buffer *v, dtype *dt)
{
  const char *f = v->format ? v->format : "B";
  if (*f == '<' || *f == '=' || *f == '@') f++;
  if (f[0] == 'f' && f[1] == '\0' && v->itemsize == 4) return *dt = DT_F32, 0;
  if (f[0] == 'd' && f[1] == '\0' && v->itemsize == 8) return *dt = DT_F64, 0;
  PyErr_Format(PyExc_TypeError, "nnk kernels take float32 or float64 buffers, got format '%s'",
               v->format ? v->format : "B");
  return -1;
}

/* Acquire obj as a buffer: C-contiguous when contig, else with strides; writable on request. */
static int buf_get(PyObject *obj, buf *b, int writable, int contig, const char *what)
{
  int flags = PyBUF_FORMAT | (contig ? PyBUF_C_CONTIGUOUS : PyBUF_STRIDES);
  if (writable) flags |= PyBUF_WRITABLE;
  b->held = 0;
  b->scratch = NULL;
  if (PyObject_GetBuffer(obj, &b->view, flags) < 0) {
    PyErr_Clear();
    PyErr_Format(PyExc_ValueError, "%s must be a %s%sfloat32/float64 buffer", what,
                 writable ? "writable " : "", contig ? "C-contiguous " : "");
    return -1;
  }
  b->held = 1;
  b->data = b->view.buf;
  if (format_dtype(&b->view, &b->dt) < 0) {
    buf_release(b);
    return -1;
  }
  return 0;
}

/* An optional operand's pointer: NULL when it was not given (None). */
static void *ptr_or_null(const buf *b) { return b->held ? b->data : NULL; }

static size_t buf_count(const buf *b) { return (size_t)(b->view.len / b->view.itemsize); }

static int same_dtype(const buf *a, const buf *b)
{
  if (a->dt == b->dt) return 0;
  PyErr_SetString(PyExc_TypeError, "nnk kernel operands must share one dtype");
  return -1;
}

static int same_count(const buf *a, const buf *b)
{
  if (buf_count(a) == buf_count(b)) return 0;
  PyErr_Format(PyExc_ValueError, "operands hold %zu and %zu elements", buf_count(a),
               buf_count(b));
  return -1;
}

static int op_index(int op, int count)
{
  if (op >= 0 && op < count) return 0;
  PyErr_Format(PyExc_ValueError, "unknown kernel index %d", op);
  return -1;
}

/* *r = a * b, or OverflowError: every size product of the binding goes through here,
 * so that no product can wrap around and pass a size check on a small buffer. */
static int size_mul(size_t a, size_t b, size_t *r)
{
  if (!__builtin_mul_overflow(a, b, r)) return 0;
  PyErr_Format(PyExc_OverflowError, "sizes %zu x %zu do not fit in memory", a, b);
  return -1;
}

/* Release the GIL only for work that pays for the round trip; NULL means "kept". */
static PyThreadState *release_gil_if(int big) { return big ? PyEval_SaveThread() : NULL; }
static void reacquire_gil(PyThreadState *ts)
{
  if (ts) PyEval_RestoreThread(ts);
}

static void release_all(buf *b, int count)
{
  for (int i = 0; i < count; i++) buf_release(&b[i]);
}

/* The bytes [lo, hi) a buffer's elements span, whatever the signs of its strides. */
static void buf_extent(const buf *b, const char **lo, const char **hi)
{
  const char *start = b->data, *end = start + b->view.itemsize;
  if (!b->view.strides) { /* C-contiguous: the buffer's length is its span */
    *lo = start, *hi = start + b->view.len;
    return;
  }
  for (int d = 0; d < b->view.ndim; d++) {
    if (b->view.shape[d] == 0) {
      *lo = *hi = start;
      return;
    }
    Py_ssize_t step = b->view.strides[d] * (b->view.shape[d] - 1);
    if (step < 0) start += step; else end += step;
  }
  *lo = start, *hi = end;
}

static int buf_overlap(const buf *a, const buf *b)
{
  if (!a->held || !b->held) return 0;
  const char *alo, *ahi, *blo, *bhi;
  buf_extent(a, &alo, &ahi);
  buf_extent(b, &blo, &bhi);
  return alo < bhi && blo < ahi;
}

/* Input `in` as the kernel must see it while it writes `out`: when the two share memory
 * the kernel reads a private copy of the input's span, as NumPy buffers overlapping
 * operands (the result is as if the input were read first).  `in_place` kernels (maps,
 * element by element) run on an exact alias (same start, same length) as it is. */
static int read_apart(buf *in, const buf *out, int in_place)
{
  if (!buf_overlap(in, out)) return 0;
  if (in_place && in->data == out->data && in->view.len == out->view.len) return 0;
  const char *lo, *hi;
  buf_extent(in, &lo, &hi);
  size_t span = (size_t)(hi - lo);
  char *copy = malloc(span);
  if (!copy) {
    PyErr_NoMemory();
    return -1;
  }
  memcpy(copy, lo, span);
  free(in->scratch);
  in->scratch = copy;
  in->data = copy + ((const char *)in->data - lo);
  return 0;
}

/* Every input apart from every output (see read_apart), and outputs apart from each
 * other: two results written to one place have no meaning, so that is a ValueError. */
static int operands_apart(buf *in, int n_in, buf *out, int n_out, int in_place)
{
  for (int o = 0; o < n_out; o++) {
    for (int p = 0; p < o; p++)
      if (buf_overlap(&out[o], &out[p])) {
        PyErr_SetString(PyExc_ValueError, "two outputs of one call share memory");
        return -1;
      }
    for (int i = 0; i < n_in; i++)
      if (read_apart(&in[i], &out[o], in_place)) return -1;
  }
  return 0;
}

/* The operands of an elementwise kernel: `count` C-contiguous buffers of one dtype and
 * one element count, the last one the writable output (which may be an input exactly,
 * in place; an input it overlaps otherwise is read from a copy).  On failure nothing
 * is held. */
static int get_elementwise(PyObject *const *objs, int count, buf *b)
{
  static const char *const names[] = {"x", "grad", "out"};
  for (int i = 0; i < count; i++) {
    int out = i == count - 1;
    if (buf_get(objs[i], &b[i], out, 1, out ? "out" : names[i]) ||
        (i > 0 && (same_dtype(&b[0], &b[i]) || same_count(&b[0], &b[i])))) {
      release_all(b, i + 1);
      return -1;
    }
  }
  if (operands_apart(b, count - 1, &b[count - 1], 1, 1)) {
    release_all(b, count);
    return -1;
  }
  return 0;
}

/* Two read-only operands of one dtype and size (a loss without per-element output). */
static int get_inputs2(PyObject *const *objs, buf *b)
{
  if (buf_get(objs[0], &b[0], 0, 1, "input")) return -1;
  if (buf_get(objs[1], &b[1], 0, 1, "target") || same_dtype(&b[0], &b[1]) ||
      same_count(&b[0], &b[1])) {
    release_all(b, 2);
    return -1;
  }
  return 0;
}

/* A kernel's status as a Python result: None, or MemoryError / ValueError. */
static PyObject *status_result(nnk_status st)
{
  if (st == NNK_ENOMEM) return PyErr_NoMemory();
  if (st != NNK_OK) {
    PyErr_SetString(PyExc_ValueError, "kernel rejected its arguments");
    return NULL;
  }
  Py_RETURN_NONE;
}

/* ---- Elementwise -------------------------------------------------------- */

/* vunary(op, x, out): out = f_op(x) over all elements. */
static PyObject *py_vunary(PyObject *self, PyObject *args)
{
  int op;
  PyObject *o[2];
  buf b[2];
  if (!PyArg_ParseTuple(args, "iOO:vunary", &op, &o[0], &o[1]) ||
      op_index(op, NNK_VUNARY_COUNT) || get_elementwise(o, 2, b))
    return NULL;
  const nnk_kernel_table *t = nnk_kernels();
  size_t n = buf_count(&b[0]);
  PyThreadState *ts = release_gil_if(n >= RELEASE_GIL_ELEMENTS);
  nnk_map_vunary(t, b[0].dt == DT_F64, op, n, b[0].data, b[1].data);
  reacquire_gil(ts);
  release_all(b, 2);
  Py_RETURN_NONE;
}

/* vgrad(op, u, grad, out): out = f_op'(u) * grad. */
static PyObject *py_vgrad(PyObject *self, PyObject *args)
{
  int op;
  PyObject *o[3];
  buf b[3];
  if (!PyArg_ParseTuple(args, "iOOO:vgrad", &op, &o[0], &o[1], &o[2]) ||
      op_index(op, NNK_VGRAD_COUNT) || get_elementwise(o, 3, b))
    return NULL;
  const nnk_kernel_table *t = nnk_kernels();
  size_t n = buf_count(&b[0]);
  PyThreadState *ts = release_gil_if(n >= RELEASE_GIL_ELEMENTS);
  nnk_map_vgrad(t, b[0].dt == DT_F64, op, n, b[0].data, b[1].data, b[2].data);
  reacquire_gil(ts);
  release_all(b, 3);
  Py_RETURN_NONE;
}

/* leaky_relu(x, out, slope). */
static PyObject *py_leaky_relu(PyObject *self, PyObject *args)
{
  PyObject *o[2];
  double slope;
  buf b[2];
  if (!PyArg_ParseTuple(args, "OOd:leaky_relu", &o[0], &o[1], &slope) ||
      get_elementwise(o, 2, b))
    return NULL;
  const nnk_kernel_table *t = nnk_kernels();
  size_t n = buf_count(&b[0]);
  PyThreadState *ts = release_gil_if(n >= RELEASE_GIL_ELEMENTS);
  if (b[0].dt == DT_F32)
    t->f32_vleaky_relu(n, b[0].data, b[1].data, (float)slope);
  else
    t->f64_vleaky_relu(n, b[0].data, b[1].data, slope);
  reacquire_gil(ts);
  release_all(b, 2);
  Py_RETURN_NONE;
}

/* leaky_relu_grad(x, grad, out, slope). */
static PyObject *py_leaky_relu_grad(PyObject *self, PyObject *args)
{
  PyObject *o[3];
  double slope;
  buf b[3];
  if (!PyArg_ParseTuple(args, "OOOd:leaky_relu_grad", &o[0], &o[1], &o[2], &slope) ||
      get_elementwise(o, 3, b))
    return NULL;
  const nnk_kernel_table *t = nnk_kernels();
  size_t n = buf_count(&b[0]);
  PyThreadState *ts = release_gil_if(n >= RELEASE_GIL_ELEMENTS);
  if (b[0].dt == DT_F32)
    t->f32_vleaky_relu_grad(n, b[0].data, b[1].data, b[2].data, (float)slope);
  else
    t->f64_vleaky_relu_grad(n, b[0].data, b[1].data, b[2].data, slope);
  reacquire_gil(ts);
  release_all(b, 3);
  Py_RETURN_NONE;
}

/* ---- Losses and optimiser updates ---------------------------------------- */

/* loss(op, y, t, each): returns sum l(y, t); `each` (writable, or None) gets each l. */
static PyObject *py_loss(PyObject *self, PyObject *args)
{
  int op;
  PyObject *o[3];
  buf b[3];
  if (!PyArg_ParseTuple(args, "iOOO:loss", &op, &o[0], &o[1], &o[2]) ||
      op_index(op, NNK_LOSS_COUNT))
    return NULL;
  int with_each = o[2] != Py_None;
  if (with_each ? get_elementwise(o, 3, b) : get_inputs2(o, b)) return NULL;
  const nnk_kernel_table *t = nnk_kernels();
  size_t n = buf_count(&b[0]);
  double sum;
  PyThreadState *ts = release_gil_if(n >= RELEASE_GIL_ELEMENTS);
  if (b[0].dt == DT_F32)
    sum = t->f32_loss[op](n, b[0].data, b[1].data, with_each ? b[2].data : NULL);
  else
    sum = t->f64_loss[op](n, b[0].data, b[1].data, with_each ? b[2].data : NULL);
  reacquire_gil(ts);
  release_all(b, with_each ? 3 : 2);
  return PyFloat_FromDouble(sum);
}

/* loss_grad(op, y, t, scale, out): out = scale * dl/dy. */
static PyObject *py_loss_grad(PyObject *self, PyObject *args)
{
  int op;
  double scale;
  PyObject *o[3];
  buf b[3];
  if (!PyArg_ParseTuple(args, "iOOdO:loss_grad", &op, &o[0], &o[1], &scale, &o[2]) ||
      op_index(op, NNK_LOSS_COUNT) || get_elementwise(o, 3, b))
    return NULL;
  const nnk_kernel_table *t = nnk_kernels();
  size_t n = buf_count(&b[0]);
  PyThreadState *ts = release_gil_if(n >= RELEASE_GIL_ELEMENTS);
  if (b[0].dt == DT_F32)
    t->f32_loss_grad[op](n, b[0].data, b[1].data, (float)scale, b[2].data);
  else
    t->f64_loss_grad[op](n, b[0].data, b[1].data, scale, b[2].data);
  reacquire_gil(ts);
  release_all(b, 3);
  Py_RETURN_NONE;
}

/* Optimiser operands: g (read) first, then the parameter and its state (written in
 * place): `count` C-contiguous buffers of the parameter's dtype and size; a state of None
 * stays unheld.  On failure nothing is held. */
static int get_step_operands(PyObject *const *objs, int count, buf *b)
{
  static const char *const names[] = {"grad", "param", "first moment", "second moment"};
  for (int i = 0; i < count; i++) b[i].held = 0, b[i].scratch = NULL;
  if (buf_get(objs[1], &b[1], 1, 1, "param")) return -1;
  for (int i = 0; i < count; i++) {
    if (i == 1 || (i > 1 && objs[i] == Py_None)) continue;
    if (buf_get(objs[i], &b[i], i > 0, 1, names[i]) || same_dtype(&b[1], &b[i]) ||
        same_count(&b[1], &b[i])) {
      release_all(b, count);
      return -1;
    }
  }
  if (operands_apart(b, 1, b + 1, count - 1, 1)) {
    release_all(b, count);
    return -1;
  }
  return 0;
}

/* sgd_step(p, g, v or None, lr, momentum, weight_decay, nesterov) */
static PyObject *py_sgd_step(PyObject *self, PyObject *args)
{
  PyObject *o[3]; /* g, p, v */
  double lr, mu, wd;
  int nesterov;
  buf b[3];
  if (!PyArg_ParseTuple(args, "OOOdddp:sgd_step", &o[1], &o[0], &o[2], &lr, &mu, &wd,
                        &nesterov) ||
      get_step_operands(o, 3, b))
    return NULL;
  const nnk_kernel_table *t = nnk_kernels();
  size_t n = buf_count(&b[1]);
  PyThreadState *ts = release_gil_if(n >= RELEASE_GIL_ELEMENTS);
  if (b[1].dt == DT_F32)
    t->f32_sgd_step(n, (float *)b[1].data, (float *)b[0].data, ptr_or_null(&b[2]), (float)lr,
                    (float)mu, (float)wd, nesterov);
  else
    t->f64_sgd_step(n, (double *)b[1].data, (double *)b[0].data, ptr_or_null(&b[2]), lr, mu, wd,
                    nesterov);
  reacquire_gil(ts);
  release_all(b, 3);
  Py_RETURN_NONE;
}

/* adam_step(p, g, m, v, lr, beta1, beta2, eps, c1, c2, weight_decay) */
static PyObject *py_adam_step(PyObject *self, PyObject *args)
{
  PyObject *o[4]; /* g, p, m, v */
  double lr, b1, b2, eps, c1, c2, wd;
  buf b[4];
  if (!PyArg_ParseTuple(args, "OOOOddddddd:adam_step", &o[1], &o[0], &o[2], &o[3], &lr, &b1,
                        &b2, &eps, &c1, &c2, &wd))
    return NULL;
  if (o[2] == Py_None || o[3] == Py_None) {
    PyErr_SetString(PyExc_TypeError, "adam_step needs both moment buffers");
    return NULL;
  }
  if (get_step_operands(o, 4, b)) return NULL;
  const nnk_kernel_table *t = nnk_kernels();
  size_t n = buf_count(&b[1]);
  PyThreadState *ts = release_gil_if(n >= RELEASE_GIL_ELEMENTS);
  if (b[1].dt == DT_F32)
    t->f32_adam_step(n, (float *)b[1].data, (float *)b[0].data, (float *)b[2].data,
                     (float *)b[3].data, (float)lr, (float)b1, (float)b2, (float)eps, (float)c1,
                     (float)c2, (float)wd);
  else
    t->f64_adam_step(n, (double *)b[1].data, (double *)b[0].data, (double *)b[2].data,
                     (double *)b[3].data, lr, b1, b2, eps, c1, c2, wd);
  reacquire_gil(ts);
  release_all(b, 4);
  Py_RETURN_NONE;
}

/* axpy(a, x, y): y += a x */
static PyObject *py_axpy(PyObject *self, PyObject *args)
{
  double a;
  PyObject *o[2];
  buf b[2];
  if (!PyArg_ParseTuple(args, "dOO:axpy", &a, &o[0], &o[1]) || get_elementwise(o, 2, b))
    return NULL;
  const nnk_kernel_table *t = nnk_kernels();
  size_t n = buf_count(&b[0]);
  PyThreadState *ts = release_gil_if(n >= RELEASE_GIL_ELEMENTS);
  if (b[0].dt == DT_F32)
    t->f32_axpy(n, (float)a, (float *)b[0].data, (float *)b[1].data);
  else
    t->f64_axpy(n, a, (double *)b[0].data, (double *)b[1].data);
  reacquire_gil(ts);
  release_all(b, 2);
  Py_RETURN_NONE;
}

/* ---- Sequence models ------------------------------------------------------ */

/* An operand of exactly `count` elements of ref's dtype (or None when optional). */
static int get_sized(PyObject *obj, buf *b, int writable, size_t count, const buf *ref,
                     const char *what, int optional)
{
  b->held = 0;
  if (optional && obj == Py_None) return 0;
  if (buf_get(obj, b, writable, 1, what)) return -1;
  if ((ref && same_dtype(ref, b)) || buf_count(b) != count) {
    if (!PyErr_Occurred())
      PyErr_Format(PyExc_ValueError, "%s holds %zu elements, expected %zu", what, buf_count(b),
                   count);
    buf_release(b);
    return -1;
  }
  return 0;
}


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
  buf b[6] = {{{0}}};
  rnn_counts n;
  if (!PyArg_ParseTuple(args, "nnnnOOOOOO:rnn_forward", &B, &Tn, &I, &H, &o[0], &o[1], &o[2],
                        &o[3], &o[4], &o[5]) ||
      rnn_sizes(B, Tn, I, H, &n))
    return NULL;
  if (get_sized(o[0], &b[0], 0, n.x, NULL, "x", 0) ||
      get_sized(o[1], &b[1], 0, n.wih, &b[0], "weight_ih", 0) ||
      get_sized(o[2], &b[2], 0, n.whh, &b[0], "weight_hh", 0) ||
      get_sized(o[3], &b[3], 0, n.bias, &b[0], "bias", 1) ||
      get_sized(o[4], &b[4], 0, n.bh, &b[0], "h0", 1) ||
      get_sized(o[5], &b[5], 1, n.h, &b[0], "out", 0) || operands_apart(b, 5, b + 5, 1, 0)) {
    release_all(b, 6);
    return NULL;
  }
  nnk_status st;
  PyThreadState *ts = release_gil_if(n.h >= RELEASE_GIL_ELEMENTS);
  if (b[0].dt == DT_F32)
    st = nnk_f32_rnn_tanh_forward(B, Tn, I, H, (float *)b[0].data, (float *)b[1].data,
                                  (float *)b[2].data, ptr_or_null(&b[3]), ptr_or_null(&b[4]),
                                  (float *)b[5].data);
  else
    st = nnk_f64_rnn_tanh_forward(B, Tn, I, H, (double *)b[0].data, (double *)b[1].data,
                                  (double *)b[2].data, ptr_or_null(&b[3]), ptr_or_null(&b[4]),
                                  (double *)b[5].data);
  reacquire_gil(ts);
  release_all(b, 6);
  return status_result(st);
}

/* rnn_backward(B, T, I, H, x, wc, wh, h0|None, h, dh, dx, dwc, dwh, db|None, dh0|None);
 * dh is overwritten (the kernel's workspace). */
static PyObject *py_rnn_backward(PyObject *self, PyObject *args)
{
  Py_ssize_t B, Tn, I, H;
  PyObject *o[11];
  buf b[11] = {{{0}}};
  rnn_counts n;
  if (!PyArg_ParseTuple(args, "nnnnOOOOOOOOOOO:rnn_backward", &B, &Tn, &I, &H, &o[0], &o[1],
                        &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8], &o[9], &o[10]) ||
      rnn_sizes(B, Tn, I, H, &n))
    return NULL;
  if (get_sized(o[0], &b[0], 0, n.x, NULL, "x", 0) ||
      get_sized(o[1], &b[1], 0, n.wih, &b[0], "weight_ih", 0) ||
      get_sized(o[2], &b[2], 0, n.whh, &b[0], "weight_hh", 0) ||
      get_sized(o[3], &b[3], 0, n.bh, &b[0], "h0", 1) ||
      get_sized(o[4], &b[4], 0, n.h, &b[0], "h", 0) ||
      get_sized(o[5], &b[5], 1, n.h, &b[0], "grad", 0) ||
      get_sized(o[6], &b[6], 1, n.x, &b[0], "dx", 0) ||
      get_sized(o[7], &b[7], 1, n.wih, &b[0], "dweight_ih", 0) ||
      get_sized(o[8], &b[8], 1, n.whh, &b[0], "dweight_hh", 0) ||
      get_sized(o[9], &b[9], 1, n.bias, &b[0], "dbias", 1) ||
      get_sized(o[10], &b[10], 1, n.bh, &b[0], "dh0", 1) || operands_apart(b, 5, b + 5, 6, 0)) {
    release_all(b, 11);
    return NULL;
  }
  nnk_status st;
  PyThreadState *ts = release_gil_if(n.h >= RELEASE_GIL_ELEMENTS);
  if (b[0].dt == DT_F32)
    st = nnk_f32_rnn_tanh_backward(B, Tn, I, H, (float *)b[0].data, (float *)b[1].data,
                                   (float *)b[2].data, ptr_or_null(&b[3]), (float *)b[4].data,
                                   (float *)b[5].data, (float *)b[6].data, (float *)b[7].data,
                                   (float *)b[8].data, ptr_or_null(&b[9]), ptr_or_null(&b[10]));
  else
    st = nnk_f64_rnn_tanh_backward(B, Tn, I, H, (double *)b[0].data, (double *)b[1].data,
                                   (double *)b[2].data, ptr_or_null(&b[3]), (double *)b[4].data,
                                   (double *)b[5].data, (double *)b[6].data,
                                   (double *)b[7].data, (double *)b[8].data,
                                   ptr_or_null(&b[9]), ptr_or_null(&b[10]));
  reacquire_gil(ts);
  release_all(b, 11);
  return status_result(st);
}

/* embedding_backward(ids (int64), dy (n, dim), dw (rows, dim)): dw[ids[i]] += dy[i] */
static PyObject *py_embedding_backward(PyObject *self, PyObject *args)
{
  PyObject *io, *go, *wo;
  buf b[3] = {{{0}}}; /* ids, grad (read), weight grad (written) */
  if (!PyArg_ParseTuple(args, "OOO:embedding_backward", &io, &go, &wo)) return NULL;
  if (PyObject_GetBuffer(io, &b[0].view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) return NULL;
  b[0].held = 1;
  b[0].data = b[0].view.buf;
  const char *f = b[0].view.format ? b[0].view.format : "B";
  if (*f == '<' || *f == '=' || *f == '@') f++;
  if (b[0].view.itemsize != 8 || (f[0] != 'q' && f[0] != 'l') || f[1]) {
    PyErr_SetString(PyExc_TypeError, "embedding ids must be int64");
    goto fail;
  }
  size_t n = (size_t)(b[0].view.len / 8), count;
  if (buf_get(wo, &b[2], 1, 1, "weight grad") || b[2].view.ndim != 2) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "weight grad must be 2-D");
    goto fail;
  }
  size_t rows = (size_t)b[2].view.shape[0], dim = (size_t)b[2].view.shape[1];
  if (size_mul(n, dim, &count) || get_sized(go, &b[1], 0, count, &b[2], "grad", 0) ||
      operands_apart(b, 2, b + 2, 1, 0))
    goto fail;
  PyThreadState *ts = release_gil_if(count >= RELEASE_GIL_ELEMENTS);
  nnk_status st = b[2].dt == DT_F32
                      ? nnk_f32_embedding_backward(n, dim, rows, (const long long *)b[0].data,
                                                   (float *)b[1].data, (float *)b[2].data)
                      : nnk_f64_embedding_backward(n, dim, rows, (const long long *)b[0].data,
                                                   (double *)b[1].data, (double *)b[2].data);
  reacquire_gil(ts);
  release_all(b, 3);
  if (st != NNK_OK) {
    PyErr_SetString(PyExc_IndexError, "embedding id out of range");
    return NULL;
  }
  Py_RETURN_NONE;
fail:
  release_all(b, 3);
  return NULL;
}

/* ---- Softmax family over rows -------------------------------------------- */

enum { ROWS_SOFTMAX = 0, ROWS_LOG_SOFTMAX = 1, ROWS_LOGSUMEXP = 2 };

/* rows(kind, x, out, n): x holds rows of n contiguous values; out is like x, or one
 * value per row for logsumexp. */
static PyObject *py_rows(PyObject *self, PyObject *args)
{
  int kind;
  Py_ssize_t n_in;
  PyObject *xo, *yo;
  buf x = {0}, y = {0};
  if (!PyArg_ParseTuple(args, "iOOn:rows", &kind, &xo, &yo, &n_in) || op_index(kind, 3))
    return NULL;
  if (buf_get(xo, &x, 0, 1, "x") || buf_get(yo, &y, 1, 1, "out") || same_dtype(&x, &y) ||
      read_apart(&x, &y, 1))
    goto fail;
  size_t total = buf_count(&x), n = (size_t)n_in;
  if (n_in < 0 || (n == 0 ? total != 0 : total % n != 0)) {
    PyErr_Format(PyExc_ValueError, "%zu elements do not split into rows of %zd", total, n_in);
    goto fail;
  }
  size_t rows = n ? total / n : 0;
  if (kind == ROWS_LOGSUMEXP ? buf_count(&y) < rows : buf_count(&y) != total) {
    PyErr_SetString(PyExc_ValueError, "out has the wrong number of elements");
    goto fail;
  }
  const nnk_kernel_table *t = nnk_kernels();
  PyThreadState *ts = release_gil_if(total >= RELEASE_GIL_ELEMENTS);
  if (x.dt == DT_F32) {
    if (kind == ROWS_LOGSUMEXP)
      t->f32_logsumexp_rows(rows, n, x.data, y.data);
    else
      (kind == ROWS_SOFTMAX ? t->f32_softmax_rows : t->f32_log_softmax_rows)(rows, n, x.data,
                                                                             y.data);
  } else {
    if (kind == ROWS_LOGSUMEXP)
      t->f64_logsumexp_rows(rows, n, x.data, y.data);
    else
      (kind == ROWS_SOFTMAX ? t->f64_softmax_rows : t->f64_log_softmax_rows)(rows, n, x.data,
                                                                             y.data);
  }
  reacquire_gil(ts);
  buf_release(&x);
  buf_release(&y);
  Py_RETURN_NONE;
fail:
  buf_release(&x);
  buf_release(&y);
  return NULL;
}

/* ---- GEMM ---------------------------------------------------------------- */

/* Element strides of a 2-D strided buffer; -1 when a stride is not a whole element. */
static int strides_2d(const buf *b, const char *what, ptrdiff_t *rs, ptrdiff_t *cs)
{
  if (b->view.ndim != 2) {
    PyErr_Format(PyExc_ValueError, "%s must be 2-D, got %d-D", what, b->view.ndim);
    return -1;
  }
  Py_ssize_t isz = b->view.itemsize;
  if (b->view.strides[0] % isz || b->view.strides[1] % isz) {
    PyErr_Format(PyExc_ValueError, "%s has strides that are not whole elements", what);
    return -1;
  }
  *rs = b->view.strides[0] / isz;
  *cs = b->view.strides[1] / isz;
  return 0;
}

/* gemm(a, b, c, alpha, beta, trans_a, trans_b): c = alpha op(a) op(b) + beta c, any strides. */
static PyObject *py_gemm(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
  /* FASTCALL: this is the per-call cost of every small matmul from Python. */
  if (nargs != 7) {
    PyErr_SetString(PyExc_TypeError, "gemm(a, b, c, alpha, beta, trans_a, trans_b)");
    return NULL;
  }
  PyObject *ao = args[0], *bo = args[1], *co = args[2];
  double alpha = PyFloat_AsDouble(args[3]), beta = PyFloat_AsDouble(args[4]);
  if ((alpha == -1.0 || beta == -1.0) && PyErr_Occurred()) return NULL;
  int ta = PyObject_IsTrue(args[5]), tb = PyObject_IsTrue(args[6]);
  if (ta < 0 || tb < 0) return NULL;
  buf a = {0}, b = {0}, c = {0};
  ptrdiff_t rsa, csa, rsb, csb, rsc, csc;
  if (buf_get(ao, &a, 0, 0, "a") || buf_get(bo, &b, 0, 0, "b") || buf_get(co, &c, 1, 0, "c") ||
      same_dtype(&a, &b) || same_dtype(&a, &c) || strides_2d(&a, "a", &rsa, &csa) ||
      strides_2d(&b, "b", &rsb, &csb) || strides_2d(&c, "c", &rsc, &csc) ||
      read_apart(&a, &c, 0) || read_apart(&b, &c, 0))
    goto fail;
  size_t m = (size_t)a.view.shape[ta ? 1 : 0], k = (size_t)a.view.shape[ta ? 0 : 1];
  size_t kb = (size_t)b.view.shape[tb ? 1 : 0], n = (size_t)b.view.shape[tb ? 0 : 1];
  if (ta) { ptrdiff_t s = rsa; rsa = csa; csa = s; }
  if (tb) { ptrdiff_t s = rsb; rsb = csb; csb = s; }
  if (k != kb || (size_t)c.view.shape[0] != m || (size_t)c.view.shape[1] != n) {
    PyErr_Format(PyExc_ValueError,
                 "gemm shapes do not fit: op(a) is (%zu, %zu), op(b) (%zu, %zu), c (%zd, %zd)",
                 m, k, kb, n, c.view.shape[0], c.view.shape[1]);
    goto fail;
  }
  nnk_status st;
  PyThreadState *ts = release_gil_if((double)m * (double)n * (double)k >= RELEASE_GIL_MNK);
  if (a.dt == DT_F32)
    st = nnk_sgemm_strided(m, n, k, (float)alpha, a.data, rsa, csa, b.data, rsb, csb,
                           (float)beta, c.data, rsc, csc);
  else
    st = nnk_dgemm_strided(m, n, k, alpha, a.data, rsa, csa, b.data, rsb, csb, beta,
                           c.data, rsc, csc);
  reacquire_gil(ts);
  buf_release(&a);
  buf_release(&b);
  buf_release(&c);
  return status_result(st);
fail:
  buf_release(&a);
  buf_release(&b);
  buf_release(&c);
  return NULL;
}

/* ---- Fully connected layer ------------------------------------------------ */

/* The layer's sizes from its weight (out, in) and x, which holds rows of `in` values. */
static int linear_sizes(PyObject *xo, PyObject *wo, buf *x, buf *w, size_t *n, size_t *in,
                        size_t *out)
{
  if (buf_get(wo, w, 0, 1, "weight")) return -1;
  if (w->view.ndim != 2 || w->view.shape[0] < 1 || w->view.shape[1] < 1) {
    PyErr_SetString(PyExc_ValueError, "weight must be 2-D (out_features, in_features), non-empty");
    return -1;
  }
  *out = (size_t)w->view.shape[0], *in = (size_t)w->view.shape[1];
  if (buf_get(xo, x, 0, 1, "x") || same_dtype(w, x)) return -1;
  if (buf_count(x) % *in) {
    PyErr_Format(PyExc_ValueError, "x holds %zu elements, not rows of %zu", buf_count(x), *in);
    return -1;
  }
  *n = buf_count(x) / *in;
  size_t unused;
  return size_mul(*n, *out, &unused);
}

/* linear_forward(x, w, b|None, y): y = x w^T + b. */
static PyObject *py_linear_forward(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError, "linear_forward(x, w, b, y)");
    return NULL;
  }
  buf b[4] = {{{0}}}; /* w, x, bias, y */
  size_t n, in, out;
  if (linear_sizes(args[0], args[1], &b[1], &b[0], &n, &in, &out) ||
      get_sized(args[2], &b[2], 0, out, &b[0], "bias", 1) ||
      get_sized(args[3], &b[3], 1, n * out, &b[0], "out", 0) || operands_apart(b, 3, b + 3, 1, 0)) {
    release_all(b, 4);
    return NULL;
  }
  nnk_status st;
  PyThreadState *ts = release_gil_if((double)n * (double)in * (double)out >= RELEASE_GIL_MNK);
  if (b[0].dt == DT_F32)
    st = nnk_f32_linear_forward(n, in, out, b[1].data, b[0].data, ptr_or_null(&b[2]),
                                b[3].data);
  else
    st = nnk_f64_linear_forward(n, in, out, b[1].data, b[0].data, ptr_or_null(&b[2]),
                                b[3].data);
  reacquire_gil(ts);
  release_all(b, 4);
  return status_result(st);
}

/* linear_backward(x, w, g, dw, db|None, dx|None): dw += g^T x, db += sum g, dx = g w. */
static PyObject *py_linear_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
  if (nargs != 6) {
    PyErr_SetString(PyExc_TypeError, "linear_backward(x, w, g, dw, db, dx)");
    return NULL;
  }
  buf b[6] = {{{0}}}; /* w, x, g, dw, db, dx */
  size_t n, in, out;
  if (linear_sizes(args[0], args[1], &b[1], &b[0], &n, &in, &out) ||
      get_sized(args[2], &b[2], 0, n * out, &b[0], "grad", 0) ||
      get_sized(args[3], &b[3], 1, out * in, &b[0], "weight grad", 0) ||
      get_sized(args[4], &b[4], 1, out, &b[0], "bias grad", 1) ||
      get_sized(args[5], &b[5], 1, n * in, &b[0], "dx", 1) || operands_apart(b, 3, b + 3, 3, 0)) {
    release_all(b, 6);
    return NULL;
  }
  nnk_status st;
  PyThreadState *ts = release_gil_if((double)n * (double)in * (double)out >= RELEASE_GIL_MNK);
  if (b[0].dt == DT_F32)
    st = nnk_f32_linear_backward(n, in, out, b[1].data, b[0].data, b[2].data,
                                 b[3].data, ptr_or_null(&b[4]), ptr_or_null(&b[5]));
  else
    st = nnk_f64_linear_backward(n, in, out, b[1].data, b[0].data, b[2].data,
                                 b[3].data, ptr_or_null(&b[4]), ptr_or_null(&b[5]));
  reacquire_gil(ts);
  release_all(b, 6);
  return status_result(st);
}

/* ---- Dispatch and machine ----------------------------------------------- */

/* The ISA of a name from nnk's one list (nnk_isa_name) or "auto"; ValueError listing
 * every name otherwise. */
static int isa_of(PyObject *arg)
{
  if (!PyUnicode_Check(arg)) {
    PyErr_Format(PyExc_TypeError, "ISA name must be a str, got %T", arg);
    return -1;
  }
  const char *name = PyUnicode_AsUTF8(arg);
  if (!name) return -1;
  int isa = nnk_isa_from_name(name);
  if (isa >= 0) return isa;
  char known[160] = "";
  for (int i = 0; i < NNK_ISA_COUNT; i++)
    snprintf(known + strlen(known), sizeof known - strlen(known), "'%s', ",
             nnk_isa_name((nnk_isa)i));
  PyErr_Format(PyExc_ValueError, "unknown ISA %R: expected one of %s'%s'", arg, known,
               NNK_ISA_AUTO_NAME);
  return -1;
}

static PyObject *cannot_run(int isa)
{
  PyErr_Format(PyExc_RuntimeError, "ISA '%s' cannot run on this CPU (%s, features: %s)",
               nnk_isa_name((nnk_isa)isa), nnk_arch(), nnk_cpu_features());
  return NULL;
}

static PyObject *isa_name_object(PyObject *self, int isa)
{
  return Py_NewRef(PyTuple_GET_ITEM(get_state(self)->isa_names, isa));
}

/* set_isa(name): the process default. */
static PyObject *py_set_isa(PyObject *self, PyObject *arg)
{
  int isa = isa_of(arg);
  if (isa < 0) return NULL;
  if (nnk_set_isa((nnk_isa)isa) != NNK_OK) return cannot_run(isa);
  return isa_name_object(self, isa);
}

/* set_thread_isa(name | None): the calling thread's own choice (None: the default). */
static PyObject *py_set_thread_isa(PyObject *self, PyObject *arg)
{
  int isa = arg == Py_None ? -1 : isa_of(arg);
  if (isa < 0 && arg != Py_None) return NULL;
  if (nnk_set_thread_isa(isa) != NNK_OK) return cannot_run(isa);
  if (isa < 0) Py_RETURN_NONE;
  return isa_name_object(self, isa);
}

/* thread_isa(): the calling thread's own choice, or None when it follows the default. */
static PyObject *py_thread_isa(PyObject *self, PyObject *unused)
{
  int isa = nnk_thread_isa();
  if (isa < 0) Py_RETURN_NONE;
  return isa_name_object(self, isa);
}

static PyObject *py_get_isa(PyObject *self, PyObject *unused)
{
  return isa_name_object(self, nnk_get_isa());
}

static PyObject *py_available_isas(PyObject *self, PyObject *unused)
{
  PyObject *names = get_state(self)->isa_names, *out = PyList_New(0);
  if (!out) return NULL;
  for (int i = 0; i < NNK_ISA_COUNT; i++)
    if (nnk_isa_available((nnk_isa)i) && PyList_Append(out, PyTuple_GET_ITEM(names, i)) < 0) {
      Py_DECREF(out);
      return NULL;
    }
  Py_SETREF(out, PyList_AsTuple(out));
  return out;
}

static PyObject *py_machine(PyObject *self, PyObject *unused)
{
  char sleef[32];
  snprintf(sleef, sizeof sleef, "%d.%d.%d", SLEEF_VERSION_MAJOR, SLEEF_VERSION_MINOR,
           SLEEF_VERSION_PATCHLEVEL);
  return Py_BuildValue("{s:s,s:s,s:s}", "arch", nnk_arch(), "features", nnk_cpu_features(),
                       "sleef", sleef);
}

static PyObject *py_set_num_threads(PyObject *self, PyObject *arg)
{
  if (!PyLong_Check(arg) || PyBool_Check(arg)) {
    PyErr_Format(PyExc_TypeError, "number of threads must be an int, got %T", arg);
    return NULL;
  }
  int overflow;
  long n = PyLong_AsLongAndOverflow(arg, &overflow);
  if (n == -1 && PyErr_Occurred()) return NULL;
  if (overflow || n < 1 || n > NNK_MAX_THREADS) {
    PyErr_Format(PyExc_ValueError, "number of threads must be between 1 and %d, got %S",
                 NNK_MAX_THREADS, arg);
    return NULL;
  }
  nnk_set_num_threads((int)n);
  Py_RETURN_NONE;
}

static PyObject *py_get_num_threads(PyObject *self, PyObject *unused)
{
  return PyLong_FromLong(nnk_get_num_threads());
}

/* threads_info(): {"threads", "source", "warning", "cpus_allowed"}. */
static PyObject *py_threads_info(PyObject *self, PyObject *unused)
{
  return Py_BuildValue("{s:i,s:s,s:s,s:i}", "threads", nnk_get_num_threads(), "source",
                       nnk_num_threads_source(), "warning", nnk_num_threads_warning(),
                       "cpus_allowed", nnk_cpus_allowed());
}

/* cgroup_cpu_limit(root, self_cgroup): the cgroup v2 CPU limit found there, 0 for none. */
static PyObject *py_cgroup_cpu_limit(PyObject *self, PyObject *args)
{
  const char *root, *self_cgroup;
  if (!PyArg_ParseTuple(args, "ss:cgroup_cpu_limit", &root, &self_cgroup)) return NULL;
  return PyLong_FromLong(nnk_cgroup_cpu_limit(root, self_cgroup));
}

static PyObject *names_tuple(const char *const *names, int count)
{
  PyObject *t = PyTuple_New(count);
  for (int i = 0; t && i < count; i++) {
    PyObject *s = PyUnicode_InternFromString(names[i]);
    if (!s) {
      Py_CLEAR(t);
      break;
    }
    PyTuple_SET_ITEM(t, i, s);
  }
  return t;
}

static PyMethodDef methods[] = {
  {"vunary", py_vunary, METH_VARARGS, "vunary(op, x, out): out = f_op(x), elementwise."},
  {"vgrad", py_vgrad, METH_VARARGS, "vgrad(op, u, grad, out): out = f_op'(u) * grad."},
  {"leaky_relu", py_leaky_relu, METH_VARARGS, "leaky_relu(x, out, slope)."},
  {"leaky_relu_grad", py_leaky_relu_grad, METH_VARARGS, "leaky_relu_grad(x, grad, out, slope)."},
  {"loss", py_loss, METH_VARARGS, "loss(op, y, t, each): sum of l(y, t); each l into `each`."},
  {"loss_grad", py_loss_grad, METH_VARARGS, "loss_grad(op, y, t, scale, out): scale * dl/dy."},
  {"sgd_step", py_sgd_step, METH_VARARGS,
   "sgd_step(p, g, v, lr, momentum, weight_decay, nesterov), in place."},
  {"adam_step", py_adam_step, METH_VARARGS,
   "adam_step(p, g, m, v, lr, beta1, beta2, eps, c1, c2, weight_decay), in place."},
  {"axpy", py_axpy, METH_VARARGS, "axpy(a, x, y): y += a x."},
  {"rnn_forward", py_rnn_forward, METH_VARARGS,
   "rnn_forward(B, T, I, H, x, w_ih, w_hh, b, h0, out): tanh RNN, all hidden states."},
  {"rnn_backward", py_rnn_backward, METH_VARARGS,
   "rnn_backward(B, T, I, H, x, w_ih, w_hh, h0, h, grad, dx, dw_ih, dw_hh, db, dh0): BPTT."},
  {"embedding_backward", py_embedding_backward, METH_VARARGS,
   "embedding_backward(ids, grad, weight_grad): weight_grad[ids[i]] += grad[i]."},
  {"rows", py_rows, METH_VARARGS,
   "rows(kind, x, out, n): softmax (0), log_softmax (1) or logsumexp (2) over rows of n."},
  {"gemm", (PyCFunction)(void (*)(void))py_gemm, METH_FASTCALL,
   "gemm(a, b, c, alpha, beta, trans_a, trans_b): c = alpha op(a) op(b) + beta c."},
  {"linear_forward", (PyCFunction)(void (*)(void))py_linear_forward, METH_FASTCALL,
   "linear_forward(x, w, b, y): y = x w^T + b (b may be None)."},
  {"linear_backward", (PyCFunction)(void (*)(void))py_linear_backward, METH_FASTCALL,
   "linear_backward(x, w, g, dw, db, dx): dw += g^T x, db += sum g, dx = g w (db, dx may be None)."},
  {"set_isa", py_set_isa, METH_O, "set_isa(name): the process default ISA; returns its name."},
  {"set_thread_isa", py_set_thread_isa, METH_O,
   "set_thread_isa(name | None): the calling thread's own ISA (None: the default)."},
  {"thread_isa", py_thread_isa, METH_NOARGS, "The calling thread's own ISA, or None."},
  {"get_isa", py_get_isa, METH_NOARGS, "The ISA whose kernels the calling thread runs."},
  {"available_isas", py_available_isas, METH_NOARGS, "ISAs this build and CPU can run."},
  {"machine", py_machine, METH_NOARGS, "arch, detected features and SLEEF version."},
  {"set_num_threads", py_set_num_threads, METH_O, "Threads for parallel kernels."},
  {"get_num_threads", py_get_num_threads, METH_NOARGS, "Threads for parallel kernels."},
  {"threads_info", py_threads_info, METH_NOARGS, "Threads, where the number came from, warnings."},
  {"cgroup_cpu_limit", py_cgroup_cpu_limit, METH_VARARGS,
   "cgroup_cpu_limit(root, self_cgroup): cgroup v2 CPU limit (0: none)."},
  {NULL, NULL, 0, NULL},
};

static int module_exec(PyObject *m)
{
  const char *isa_names[NNK_ISA_COUNT];
  for (int i = 0; i < NNK_ISA_COUNT; i++) isa_names[i] = nnk_isa_name((nnk_isa)i);
  static const char *const unary_names[] = NNK_VUNARY_NAMES;
  static const char *const grad_names[] = NNK_VGRAD_NAMES;
  static const char *const loss_names[] = NNK_LOSS_NAMES;
  module_state *st = get_state(m);
  st->isa_names = names_tuple(isa_names, NNK_ISA_COUNT);
  if (!st->isa_names) return -1;
  if (PyModule_AddObjectRef(m, "ISA_NAMES", st->isa_names) < 0) return -1;
  PyObject *unary = names_tuple(unary_names, NNK_VUNARY_COUNT);
  PyObject *grad = names_tuple(grad_names, NNK_VGRAD_COUNT);
  PyObject *loss = names_tuple(loss_names, NNK_LOSS_COUNT);
  int err = !unary || !grad || !loss || PyModule_AddObjectRef(m, "UNARY_OPS", unary) < 0 ||
            PyModule_AddObjectRef(m, "GRAD_OPS", grad) < 0 ||
            PyModule_AddObjectRef(m, "LOSS_OPS", loss) < 0 ||
            PyModule_AddStringConstant(m, "BEST_ISA", nnk_isa_name(nnk_isa_best())) < 0;
  Py_XDECREF(unary);
  Py_XDECREF(grad);
  Py_XDECREF(loss);
  return err ? -1 : 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
  Py_VISIT(get_state(m)->isa_names);
  return 0;
}

static int module_clear(PyObject *m)
{
  Py_CLEAR(get_state(m)->isa_names);
  return 0;
}

static void module_free(void *m) { module_clear((PyObject *)m); }

static PyModuleDef_Slot slots[] = {
  {Py_mod_exec, module_exec},
  {0, NULL},
};

static struct PyModuleDef moduledef = {
  PyModuleDef_HEAD_INIT,
  .m_name = "nnk._C",
  .m_doc = "nnk kernels: the thin binding over the C library.",
  .m_size = sizeof(module_state),
  .m_methods = methods,
  .m_slots = slots,
  .m_traverse = module_traverse,
  .m_clear = module_clear,
  .m_free = module_free,
};

PyMODINIT_FUNC PyInit__C(void) { return PyModuleDef_Init(&moduledef); }
