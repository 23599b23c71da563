/* The binding's buffer layer (see buffers.h): acquire, check, keep apart, release. */
#include "buffers.h"

#include <stdlib.h>
#include <string.h>

static void buf_release(buf *b)
{
  if (b->held) PyBuffer_Release(&b->view);
  free(b->scratch);
  b->held = 0;
  b->scratch = NULL;
}

void release_all(buf *b, int count)
{
  for (int i = 0; i < count; i++) buf_release(&b[i]);
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

/* A NumPy array of a kernel dtype, read from its fields: NumPy's buffer export looks up
 * and formats its buffer info on every call, more than half the cost of a small call
 * (a dot product of ten values, a 2 x 2 layer).  The view borrows the array (obj NULL,
 * nothing to release): the caller's reference keeps it alive for the call.  Returns 0
 * for anything else (other types, dtypes or byte orders, unaligned data, a layout or
 * writability the call cannot take): the buffer protocol takes those, and raises. */
int kernel_array_type(PyObject *obj, int exact, int contig)
{
  if (exact ? !PyArray_CheckExact(obj) : !PyArray_Check(obj)) return 0;
  PyArrayObject *a = (PyArrayObject *)obj;
  int type = PyArray_TYPE(a);
  if ((type != NPY_FLOAT32 && type != NPY_FLOAT64) || !PyArray_ISNOTSWAPPED(a) ||
      !PyArray_ISALIGNED(a) || (contig && !PyArray_IS_C_CONTIGUOUS(a)))
    return 0;
  return type;
}

static int array_view(PyObject *obj, buf *b, int writable, int contig)
{
  int type = kernel_array_type(obj, 0, contig);
  PyArrayObject *a = (PyArrayObject *)obj;
  if (!type || (writable && !PyArray_ISWRITEABLE(a))) return 0;
  _Static_assert(sizeof(npy_intp) == sizeof(Py_ssize_t), "NumPy's sizes are Python's");
  Py_buffer *v = &b->view;
  memset(v, 0, sizeof *v);
  v->buf = PyArray_DATA(a);
  v->itemsize = PyArray_ITEMSIZE(a);
  v->len = PyArray_NBYTES(a);
  v->readonly = !PyArray_ISWRITEABLE(a);
  v->ndim = PyArray_NDIM(a);
  v->format = type == NPY_FLOAT32 ? "f" : "d";
  v->shape = (Py_ssize_t *)PyArray_SHAPE(a);
  v->strides = (Py_ssize_t *)PyArray_STRIDES(a);
  b->dt = type == NPY_FLOAT32 ? DT_F32 : DT_F64;
  b->data = v->buf;
  b->held = 1;
  return 1;
}

int buf_get(PyObject *obj, buf *b, int writable, int contig, const char *what)
{
  b->scratch = NULL;
  if (array_view(obj, b, writable, contig)) return 0;
  int flags = PyBUF_FORMAT | (contig ? PyBUF_C_CONTIGUOUS : PyBUF_STRIDES);
  if (writable) flags |= PyBUF_WRITABLE;
  b->held = 0;
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

static int same_dtype(const buf *a, const buf *b)
{
  if (a->dt == b->dt) return 0;
  PyErr_SetString(PyExc_TypeError, "nnk kernel operands must share one dtype");
  return -1;
}

int get_sized(PyObject *obj, buf *b, int writable, size_t count, const buf *ref,
              const char *what, int optional)
{
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

int get_operands(PyObject *const *objs, const operand *spec, int count, buf *b, const buf *ref)
{
  for (int i = 0; i < count; i++)
    if (get_sized(objs[i], &b[i], spec[i].written, spec[i].count, ref ? ref : i ? &b[0] : NULL,
                  spec[i].name, spec[i].optional))
      return -1;
  return 0;
}

int arg_count(Py_ssize_t nargs, Py_ssize_t want, const char *form)
{
  if (nargs == want) return 0;
  PyErr_Format(PyExc_TypeError, "%s takes %zd arguments, got %zd", form, want, nargs);
  return -1;
}

/* Operands that must have one shape: ValueError naming both shapes otherwise. */
static int same_shape(const buf *a, const buf *b, const char *a_name, const char *b_name)
{
  int same = a->view.ndim == b->view.ndim;
  for (int d = 0; same && d < a->view.ndim; d++) same = a->view.shape[d] == b->view.shape[d];
  if (same) return 0;
  char as[160], bs[160];
  shape_str(&a->view, as, sizeof as);
  shape_str(&b->view, bs, sizeof bs);
  PyErr_Format(PyExc_ValueError, "%s has shape %s but %s has shape %s", a_name, as, b_name, bs);
  return -1;
}

int get_elementwise(PyObject *const *objs, int count, int n_out, buf *b, const char *const *names)
{
  for (int i = 0; i < count; i++)
    if (buf_get(objs[i], &b[i], i >= count - n_out, 1, names[i]) ||
        (i && (same_dtype(&b[0], &b[i]) || same_shape(&b[0], &b[i], names[0], names[i]))))
      return -1;
  return operands_apart(b, count - n_out, &b[count - n_out], n_out, 1);
}

int op_index(int op, int count)
{
  if (op >= 0 && op < count) return 0;
  PyErr_Format(PyExc_ValueError, "unknown kernel index %d", op);
  return -1;
}

int size_mul(size_t a, size_t b, size_t *r)
{
  if (!__builtin_mul_overflow(a, b, r)) return 0;
  PyErr_Format(PyExc_OverflowError, "sizes %zu x %zu do not fit in memory", a, b);
  return -1;
}

PyObject *status_result(nnk_status st)
{
  if (st == NNK_ENOMEM) return PyErr_NoMemory();
  if (st != NNK_OK) {
    PyErr_SetString(PyExc_ValueError, "kernel rejected its arguments");
    return NULL;
  }
  Py_RETURN_NONE;
}

int matrix_view(const buf *b, const char *what, int ndim, int vector_is_row, size_t *rows,
                size_t *cols, ptrdiff_t *rs, ptrdiff_t *cs)
{
  if (b->view.ndim != ndim) {
    PyErr_Format(PyExc_ValueError, "%s must be %d-D, got %d-D", what, ndim, b->view.ndim);
    return -1;
  }
  Py_ssize_t isz = b->view.itemsize, s[2] = {0, 0}, n[2] = {1, 1};
  for (int d = 0; d < ndim; d++) {
    if (b->view.strides[d] % isz) {
      PyErr_Format(PyExc_ValueError, "%s has strides that are not whole elements", what);
      return -1;
    }
    /* a vector fills the column axis of a row, the row axis of a column */
    int axis = ndim == 2 ? d : vector_is_row;
    s[axis] = b->view.strides[d] / isz, n[axis] = b->view.shape[d];
  }
  *rows = (size_t)n[0], *cols = (size_t)n[1], *rs = s[0], *cs = s[1];
  return 0;
}

void shape_str(const Py_buffer *v, char *out, size_t size)
{
  size_t len = (size_t)snprintf(out, size, "(");
  for (int d = 0; d < v->ndim && len < size; d++)
    len += (size_t)snprintf(out + len, size - len, d ? ", %zd" : "%zd", v->shape[d]);
  if (len < size) snprintf(out + len, size - len, v->ndim == 1 ? ",)" : ")");
}

/* ---- Overlap ------------------------------------------------------------- */

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

/* Input `in` as the kernel must see it while it writes `out`: a private copy of the
 * input's span when the two share memory (see operands_apart). */
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

int operands_apart(buf *in, int n_in, buf *out, int n_out, int in_place)
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

int get_ints(PyObject *obj, buf *b, int bytes, int writable, const char *what)
{
  int flags = PyBUF_FORMAT | PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
  if (PyObject_GetBuffer(obj, &b->view, flags) < 0) return -1;
  b->held = 1;
  b->data = b->view.buf;
  const char *f = b->view.format ? b->view.format : "B";
  if (*f == '<' || *f == '=' || *f == '@') f++;
  int is_int = f[0] == 'q' || f[0] == 'l' || f[0] == 'i';
  if (b->view.itemsize == bytes && is_int && !f[1]) return 0;
  PyErr_Format(PyExc_TypeError, "%s must be int%d", what, 8 * bytes);
  return -1;
}
