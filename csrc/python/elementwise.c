/* nnk._C entry points of the elementwise families: maps and their gradients, the
 * parametrised maps, row reductions (softmax family) and their gradients, pointwise
 * losses.  The op indices are positions in the lists of nnk_kernels.h (_C.KERNELS). */
#include "entries.h"

#include "../threads/maps.h"
#include "../threads/rows.h"

/* ---- Families of same-size operands ---------------------------------------
 * (op, inputs..., out[, tail]): `operands` arrays of one dtype and size, the last one
 * written (it may be an input exactly: in place), then a scalar or a row length. */
typedef enum { NO_TAIL, SCALAR, ROW_LENGTH } tail_kind;
typedef void (*runner)(const nnk_kernel_table *t, dtype dt, int op, size_t rows, size_t n,
                       void *const *p, double a);
typedef struct {
  int ops, operands;
  tail_kind tail;
  const char *const *names;
  runner run;
  int into; /* the _into entry: runs only on plain operands alike (plain_alike) */
} family;

/* rows = total / n, or ValueError when total elements do not split into rows of n. */
static int row_split(size_t total, Py_ssize_t n, size_t *rows)
{
  if (n < 0 || (n == 0 ? total != 0 : total % (size_t)n != 0)) {
    PyErr_Format(PyExc_ValueError, "%zu elements do not split into rows of %zd", total, n);
    return -1;
  }
  *rows = n ? total / (size_t)n : 0;
  return 0;
}

static int kernel_index(PyObject *obj, int count, int *op)
{
  long v = PyLong_AsLong(obj);
  if (v == -1 && PyErr_Occurred()) return -1;
  *op = v < 0 || v >= count ? -1 : (int)v;
  return op_index(*op, count);
}

/* Whether the operands are plain arrays (exactly ndarrays of one native float dtype,
 * aligned, C-contiguous) of one shape, the last one writable when `out`. */
static int plain_alike(PyObject *const *objs, int count, int out)
{
  int type = kernel_array_type(objs[0], 1, 1);
  if (!type) return 0;
  PyArrayObject *first = (PyArrayObject *)objs[0];
  for (int i = 1; i < count; i++) {
    PyArrayObject *a = (PyArrayObject *)objs[i];
    if (kernel_array_type(objs[i], 1, 1) != type || PyArray_NDIM(a) != PyArray_NDIM(first) ||
        !PyArray_CompareLists(PyArray_DIMS(a), PyArray_DIMS(first), PyArray_NDIM(first)))
      return 0;
  }
  return !out || PyArray_ISWRITEABLE((PyArrayObject *)objs[count - 1]);
}

/* out = None: the call makes out like the first operand and returns it (a NumPy scalar
 * when 0-D, as ufuncs give), or returns None when the inputs are not plain arrays alike
 * (plain_alike): the per-call cost of a small map from Python is this one call.  The
 * _into entries (out given) run only when all operands are plain arrays alike and then
 * return out, else return None having run nothing: the Python layer then converts and
 * checks them itself. */
static PyObject *call_family(const family *f, PyObject *args)
{
  buf b[3] = {0};
  PyObject *result = NULL, *made = NULL;
  Py_ssize_t want = 1 + f->operands + (f->tail != NO_TAIL);
  if (PyTuple_GET_SIZE(args) != want) {
    PyErr_Format(PyExc_TypeError, "expected %zd arguments, got %zd", want, PyTuple_GET_SIZE(args));
    return NULL;
  }
  PyObject *items[5], *last = PyTuple_GET_ITEM(args, want - 1); /* op, 3 operands, tail */
  for (Py_ssize_t i = 0; i < want; i++) items[i] = PyTuple_GET_ITEM(args, i);
  if (f->into && !plain_alike(items + 1, f->operands, 1)) return Py_NewRef(Py_None);
  if (items[f->operands] == Py_None) {
    if (!plain_alike(items + 1, f->operands - 1, 0)) return Py_NewRef(Py_None);
    PyArrayObject *x = (PyArrayObject *)items[1]; /* plain: out like it */
    if (!(made = PyArray_EMPTY(PyArray_NDIM(x), PyArray_DIMS(x), PyArray_TYPE(x), 0))) return NULL;
    items[f->operands] = made;
  }
  int op;
  double a = 0;
  Py_ssize_t row_length = 0;
  if (kernel_index(items[0], f->ops, &op) || get_elementwise(items + 1, f->operands, 1, b, f->names))
    goto done;
  if (f->tail == SCALAR && (a = PyFloat_AsDouble(last)) == -1.0 && PyErr_Occurred()) goto done;
  if (f->tail == ROW_LENGTH && (row_length = PyLong_AsSsize_t(last)) == -1 && PyErr_Occurred())
    goto done;
  size_t total = buf_count(&b[0]), rows = 1, n = total;
  if (f->tail == ROW_LENGTH && row_split(total, row_length, &rows)) goto done;
  if (f->tail == ROW_LENGTH) n = (size_t)row_length;
  void *p[3] = {b[0].data, b[1].data, b[2].data};
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(total >= RELEASE_GIL_ELEMENTS, f->run(t, b[0].dt, op, rows, n, p, a));
  result = made ? PyArray_Return((PyArrayObject *)Py_NewRef(made))
               : Py_NewRef(f->into ? items[f->operands] : Py_None);
done:
  release_all(b, 3);
  Py_XDECREF(made);
  return result;
}

/* The kernels of each family, through the threaded drivers (csrc/threads/). */
static void run_map(const nnk_kernel_table *t, dtype dt, int op, size_t rows, size_t n,
                    void *const *p, double a)
{
  nnk_map_vunary(t, dt == DT_F64, op, n, p[0], p[1]);
}
static void run_grad(const nnk_kernel_table *t, dtype dt, int op, size_t rows, size_t n,
                     void *const *p, double a)
{
  nnk_map_vgrad(t, dt == DT_F64, op, n, p[0], p[1], p[2]);
}
static void run_pmap(const nnk_kernel_table *t, dtype dt, int op, size_t rows, size_t n,
                     void *const *p, double a)
{
  nnk_map_pmap(t, dt == DT_F64, op, n, p[0], p[1], a);
}
static void run_pgrad(const nnk_kernel_table *t, dtype dt, int op, size_t rows, size_t n,
                      void *const *p, double a)
{
  nnk_map_pgrad(t, dt == DT_F64, op, n, p[0], p[1], p[2], a);
}
static void run_rows_grad(const nnk_kernel_table *t, dtype dt, int op, size_t rows, size_t n,
                          void *const *p, double a)
{
  nnk_rows_softmax_grad(t, dt == DT_F64, op, rows, n, p[0], p[1], p[2]);
}
static void run_loss_grad(const nnk_kernel_table *t, dtype dt, int op, size_t rows, size_t n,
                          void *const *p, double a)
{
  nnk_map_loss_grad(t, dt == DT_F64, op, n, p[0], p[1], a, p[2]);
}

static const char *const MAP_NAMES[] = {"x", "out"};
static const char *const GRAD_NAMES[] = {"x", "grad", "out"};
static const char *const LOSS_NAMES[] = {"input", "target", "out"};

#define FAMILY_ENTRY(name, ops, operands, tail, names)                                    \
  PyObject *nnk_py_##name(PyObject *self, PyObject *args)                                 \
  {                                                                                       \
    static const family f = {ops, operands, tail, names, run_##name, 0};                  \
    return call_family(&f, args);                                                         \
  }
#define FAMILY_INTO_ENTRY(name, ops, operands, tail, names)                               \
  PyObject *nnk_py_##name##_into(PyObject *self, PyObject *args)                          \
  {                                                                                       \
    static const family f = {ops, operands, tail, names, run_##name, 1};                  \
    return call_family(&f, args);                                                         \
  }
FAMILY_ENTRY(map, NNK_MAP_COUNT, 2, NO_TAIL, MAP_NAMES)
FAMILY_ENTRY(grad, NNK_GRAD_COUNT, 3, NO_TAIL, GRAD_NAMES)
FAMILY_INTO_ENTRY(map, NNK_MAP_COUNT, 2, NO_TAIL, MAP_NAMES)
FAMILY_INTO_ENTRY(grad, NNK_GRAD_COUNT, 3, NO_TAIL, GRAD_NAMES)
FAMILY_ENTRY(pmap, NNK_PMAP_COUNT, 2, SCALAR, MAP_NAMES)
FAMILY_ENTRY(pgrad, NNK_PGRAD_COUNT, 3, SCALAR, GRAD_NAMES)
FAMILY_ENTRY(rows_grad, NNK_ROWS_GRAD_COUNT, 3, ROW_LENGTH, GRAD_NAMES)
FAMILY_ENTRY(loss_grad, NNK_LOSS_COUNT, 3, SCALAR, LOSS_NAMES)

/* ---- Reductions ------------------------------------------------------------ */

/* rows(op, x, out, n): x holds rows of n contiguous values; out is like x, or one value
 * per row for the per-row reductions (logsumexp). */
PyObject *nnk_py_rows(PyObject *self, PyObject *args)
{
  static const int per_row[] = {
#define PER_ROW_(E, name, per_row, ...) per_row,
    NNK_ROWS_LIST(PER_ROW_, )
  };
  int op;
  Py_ssize_t n;
  PyObject *o[2];
  buf b[2] = {0};
  PyObject *result = NULL;
  size_t rows;
  if (!PyArg_ParseTuple(args, "iOOn:rows", &op, &o[0], &o[1], &n) ||
      op_index(op, NNK_ROWS_COUNT) || buf_get(o[0], &b[0], 0, 1, "x") ||
      row_split(buf_count(&b[0]), n, &rows) ||
      get_sized(o[1], &b[1], 1, per_row[op] ? rows : buf_count(&b[0]), &b[0], "out", 0) ||
      operands_apart(b, 1, &b[1], 1, 1))
    goto done;
  const nnk_kernel_table *t = nnk_kernels();
  WITHOUT_GIL_IF(buf_count(&b[0]) >= RELEASE_GIL_ELEMENTS,
                 nnk_rows_softmax(t, b[0].dt == DT_F64, op, rows, (size_t)n, b[0].data,
                                  b[1].data));
  result = Py_NewRef(Py_None);
done:
  release_all(b, 2);
  return result;
}

/* loss(op, y, t, each): returns sum l(y, t); `each` (writable, or None) gets each l. */
PyObject *nnk_py_loss(PyObject *self, PyObject *args)
{
  int op;
  PyObject *o[3];
  buf b[3] = {0};
  PyObject *result = NULL;
  if (!PyArg_ParseTuple(args, "iOOO:loss", &op, &o[0], &o[1], &o[2]) ||
      op_index(op, NNK_LOSS_COUNT) || get_elementwise(o, o[2] == Py_None ? 2 : 3, o[2] != Py_None, b, LOSS_NAMES))
    goto done;
  size_t n = buf_count(&b[0]);
  const nnk_kernel_table *t = nnk_kernels();
  double sum;
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS,
                 sum = nnk_map_loss(t, b[0].dt == DT_F64, op, n, b[0].data, b[1].data,
                                    ptr_or_null(&b[2])));
  result = PyFloat_FromDouble(sum);
done:
  release_all(b, 3);
  return result;
}
