/*
 * nnk._C — the CPython binding.  Buffers in, pointers and strides out, errors raised,
 * GIL released for work big enough to pay for it.  No math here: every number is
 * computed by a kernel behind the dispatch table.
 *
 * One file per family of entry points (elementwise.c, optim.c, linalg.c, seq.c,
 * machine.c), each listed once in entries.h, all over one buffer layer (buffers.c), which re-checks everything a
 * kernel relies on (dtype, size, contiguity, writability, overlap) so that no call from
 * Python can make a kernel read or write out of bounds.  This file assembles the module
 * and exports the ISA names and the kernel lists of nnk_kernels.h with their columns.
 */
#define NNK_IMPORTS_NUMPY /* this file holds the NumPy C API table (buffers.h) */
#include "entries.h"

/* _C.ISA_NAMES: the names of NNK_ISA_LIST, in enum order. */
static int add_isa_names(PyObject *m)
{
#define ISA_NAME_(E, name) #name,
  static const char *const names[] = {NNK_ISA_LIST(ISA_NAME_)};
  PyObject *t = PyTuple_New(NNK_ISA_COUNT);
  for (int i = 0; t && i < NNK_ISA_COUNT; i++) {
    PyObject *s = PyUnicode_InternFromString(names[i]);
    if (!s) Py_CLEAR(t);
    else PyTuple_SET_ITEM(t, i, s);
  }
  int err = !t || PyModule_AddObjectRef(m, "ISA_NAMES", t) < 0;
  Py_XDECREF(t);
  return err ? -1 : 0;
}

/* KERNELS[family]: one tuple per kernel of a list with its columns: (name, ulp, lo, hi)
 * for maps and gradients (the bound against the scalar oracle over the domain [lo, hi],
 * as the C driver tests it), (name, per_row) for row reductions, (name, lo, hi) for
 * losses, (name,) otherwise. */
#define MAP_ROW_(E, name, ulp, lo, hi, ...) Py_BuildValue("(sidd)", #name, ulp, (double)(lo), (double)(hi)),
#define ROWS_ROW_(E, name, per_row, ...) Py_BuildValue("(si)", #name, per_row),
#define ROWS_GRAD_ROW_(E, name, ...) Py_BuildValue("(s)", #name),
#define LOSS_ROW_(E, name, lo, hi, ...) Py_BuildValue("(sdd)", #name, (double)(lo), (double)(hi)),

/* dict[family] = the tuple of rows (each consumed, even after an earlier failure). */
static int add_family(PyObject *dict, const char *family, PyObject **rows, int count, int failed)
{
  PyObject *t = failed || !dict ? NULL : PyTuple_New(count);
  failed = failed || !t;
  for (int i = 0; i < count; i++) {
    failed = failed || !rows[i];
    if (!failed) PyTuple_SET_ITEM(t, i, rows[i]);
    else Py_XDECREF(rows[i]);
  }
  failed = failed || PyDict_SetItemString(dict, family, t) < 0;
  Py_XDECREF(t); /* holds the rows set before any failure */
  return failed;
}

/* _C.KERNELS: the op indices of the entry points are positions in these lists. */
static int add_kernel_lists(PyObject *m)
{
  PyObject *maps[] = {NNK_MAP_LIST(MAP_ROW_, )}, *grads[] = {NNK_GRAD_LIST(MAP_ROW_, )},
           *pmaps[] = {NNK_PMAP_LIST(MAP_ROW_, )}, *pgrads[] = {NNK_PGRAD_LIST(MAP_ROW_, )},
           *rows[] = {NNK_ROWS_LIST(ROWS_ROW_, )}, *rows_grads[] = {NNK_ROWS_GRAD_LIST(ROWS_GRAD_ROW_, )},
           *losses[] = {NNK_LOSS_LIST(LOSS_ROW_, )};
  PyObject *d = PyDict_New();
  int failed = !d;
  failed = add_family(d, "map", maps, NNK_MAP_COUNT, failed);
  failed = add_family(d, "grad", grads, NNK_GRAD_COUNT, failed);
  failed = add_family(d, "pmap", pmaps, NNK_PMAP_COUNT, failed);
  failed = add_family(d, "pgrad", pgrads, NNK_PGRAD_COUNT, failed);
  failed = add_family(d, "rows", rows, NNK_ROWS_COUNT, failed);
  failed = add_family(d, "rows_grad", rows_grads, NNK_ROWS_GRAD_COUNT, failed);
  failed = add_family(d, "loss", losses, NNK_LOSS_COUNT, failed);
  failed = failed || PyModule_AddObjectRef(m, "KERNELS", d) < 0;
  Py_XDECREF(d);
  return failed ? -1 : 0;
}

#define METHOD_(name, KIND, doc) {#name, (PyCFunction)(void (*)(void))nnk_py_##name, METH_##KIND, doc},
static PyMethodDef methods[] = {NNK_PY_ENTRIES(METHOD_){NULL, NULL, 0, NULL}};

static int import_numpy(void)
{
  import_array1(-1);
  return 0;
}

static int module_exec(PyObject *m)
{
  if (import_numpy() || nnk_pool_init() || nnk_pool_add_type(m) || nnk_thread_flags_add(m) ||
      add_isa_names(m) || add_kernel_lists(m))
    return -1;
  /* The package's version: meson.build's project version is its one home (-DNNK_VERSION). */
  if (PyModule_AddStringConstant(m, "__version__", NNK_VERSION) < 0) return -1;
  return PyModule_AddStringConstant(m, "BEST_ISA", nnk_isa_name(nnk_isa_best()));
}

static PyModuleDef_Slot slots[] = {
  {Py_mod_exec, module_exec},
  {0, NULL},
};

static struct PyModuleDef moduledef = {
  PyModuleDef_HEAD_INIT,
  .m_name = "nnk._C",
  .m_doc = "nnk kernels: the thin binding over the C library.",
  .m_size = 0,
  .m_methods = methods,
  .m_slots = slots,
};

PyMODINIT_FUNC PyInit__C(void) { return PyModuleDef_Init(&moduledef); }
