/*
 * The binding's one buffer layer: acquiring NumPy (or any buffer-protocol) operands,
 * checking dtype, size and writability, keeping inputs apart from the outputs they
 * overlap, and calling the kernel of the operands' dtype.  Every entry point of nnk._C
 * (elementwise.c, optim.c, linalg.c, seq.c) is written over it, in one style:
 *
 *   buf b[N] = {0};            operands; a zeroed buf holds nothing
 *   PyObject *result = NULL;
 *   if (parse || get operands) goto done;
 *   WITHOUT_GIL_IF(big, KERNEL(b[0].dt, t, map[op], n, b[0].data, b[1].data));
 *   result = ...;
 * done:
 *   release_all(b, N);         every path releases every operand, once
 *   return result;
 */
#ifndef NNK_PY_BUFFERS_H
#define NNK_PY_BUFFERS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* NumPy's C API, for reading arrays' fields directly (buf_get); module.c imports it. */
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL nnk_numpy_api
#ifndef NNK_IMPORTS_NUMPY
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>
#undef I /* <complex.h>'s imaginary unit, which NumPy includes; nnk names sizes I */

#include "nnk.h"
#include "nnk_kernels.h"

/* Elementwise calls below this many elements keep the GIL: releasing it costs more. */
#define RELEASE_GIL_ELEMENTS 8192
/* GEMMs below this m*n*k keep the GIL. */
#define RELEASE_GIL_MNK (96.0 * 96.0 * 96.0)

typedef enum { DT_F32, DT_F64 } dtype;

/* An acquired buffer and what it holds.  Kernels read `data`: the buffer itself, or a
 * private copy of it (`scratch`) when an output shares its memory (see read_apart). */
typedef struct {
  Py_buffer view;
  int held;
  dtype dt;
  void *data;
  void *scratch;
} buf;

/* The kernel `call` of a dtype from table t: t->f32.call(...) or t->f64.call(...).  Operands pass
 * as void * and scalars as double; C converts them to the kernel's own types. */
#define KERNEL(dt, t, call, ...) \
  ((dt) == DT_F32 ? (t)->f32.call(__VA_ARGS__) : (t)->f64.call(__VA_ARGS__))
/* The same for a pair of public functions: f32fn(...) or f64fn(...). */
#define BY_DTYPE(dt, f32fn, f64fn, ...) ((dt) == DT_F32 ? f32fn(__VA_ARGS__) : f64fn(__VA_ARGS__))
/* Run stmt without the GIL when the work pays for the round trip. */
#define WITHOUT_GIL_IF(big, stmt)                                                         \
  do {                                                                                    \
    PyThreadState *ts_ = (big) ? PyEval_SaveThread() : NULL;                              \
    stmt;                                                                                 \
    if (ts_) PyEval_RestoreThread(ts_);                                                   \
  } while (0)

void release_all(buf *b, int count);
/* obj's NumPy type (NPY_FLOAT32 or NPY_FLOAT64) when it is an array the kernels read in
 * place: native byte order, aligned, C-contiguous when contig, an ndarray itself (no
 * subclass) when exact; else 0, nothing raised. */
int kernel_array_type(PyObject *obj, int exact, int contig);
/* Acquire obj: C-contiguous when contig, else with strides; writable on request.
 * `what` names the operand in the error. */
int buf_get(PyObject *obj, buf *b, int writable, int contig, const char *what);
/* An operand of exactly `count` elements of ref's dtype, or None when optional. */
int get_sized(PyObject *obj, buf *b, int writable, size_t count, const buf *ref,
              const char *what, int optional);
/* One operand of a call: its name, its element count, whether the call writes it and
 * whether it may be None. */
typedef struct {
  const char *name;
  size_t count;
  int written, optional;
} operand;
/* objs[i] as spec[i] says, C-contiguous, each of ref's dtype (of b[0]'s when ref is
 * NULL). */
int get_operands(PyObject *const *objs, const operand *spec, int count, buf *b, const buf *ref);
/* Integers of `bytes` bytes (int32 or int64: ids, labels) as a C-contiguous buffer,
 * writable on request; TypeError for any other type. */
int get_ints(PyObject *obj, buf *b, int bytes, int writable, const char *what);
/* nargs == want, else a TypeError showing the call's form. */
int arg_count(Py_ssize_t nargs, Py_ssize_t want, const char *form);
/* `count` C-contiguous operands of one dtype and one shape (ValueError naming both
 * shapes otherwise), the last n_out (0 or 1) the writable output, which may be an input
 * exactly (in place).  names[i] names operand i. */
int get_elementwise(PyObject *const *objs, int count, int n_out, buf *b,
                    const char *const *names);
/* Every input apart from every output, and outputs apart from each other (ValueError):
 * an input an output overlaps is read from a private copy, as if read first (NumPy's
 * rule).  in_place: an exact alias (same start and length) runs as it is. */
int operands_apart(buf *in, int n_in, buf *out, int n_out, int in_place);

int op_index(int op, int count);
/* *r = a * b, or OverflowError: every size product goes through here. */
int size_mul(size_t a, size_t b, size_t *r);
/* None, or MemoryError / ValueError for a kernel's status. */
PyObject *status_result(nnk_status st);
/* A buffer's shape as Python prints a tuple: "(2, 3)", "(5,)", "()". */
void shape_str(const Py_buffer *v, char *out, size_t size);
/* An ndim-D strided operand as a matrix (shape and element strides), as numpy.matmul
 * takes it: 2-D as it is, 1-D as one row (vector_is_row) or one column, 0-D as 1 x 1;
 * stride 0 along an axis of one. */
int matrix_view(const buf *b, const char *what, int ndim, int vector_is_row, size_t *rows,
                size_t *cols, ptrdiff_t *rs, ptrdiff_t *cs);

static inline size_t buf_count(const buf *b) { return (size_t)(b->view.len / b->view.itemsize); }
/* An optional operand's pointer: NULL when it was not given (None). */
static inline void *ptr_or_null(const buf *b) { return b->held ? b->data : NULL; }

#endif
