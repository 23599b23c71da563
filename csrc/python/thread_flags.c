/*
 * _C.thread_flags: the per-thread switches every layer call reads, in C thread-local
 * storage.  grad_enabled: forwards keep what backward needs (nnk.no_grad() clears it, per
 * thread, as torch's grad mode); inputs_owned: the layers' inputs belong to the running
 * loop (GPT.generate), so forwards keep them uncopied.  A new thread starts with
 * grad_enabled True and inputs_owned False.
 *
 * As attributes of a threading.local they took 88 ns a read (a plain attribute 28), and a
 * 2 x 2 nn.Linear called as a module reads them three times.  A ContextVar reads as fast
 * but would scope the mode to a context (an asyncio task, a copied context) instead of
 * the thread.
 */
#include "entries.h" /* Python.h first */

/* Zero is each flag's default: grad mode on, inputs not owned. */
static _Thread_local struct {
  unsigned char grad_disabled, inputs_owned;
} flags;

static PyObject *get_grad_enabled(PyObject *self, void *unused)
{
  (void)self, (void)unused;
  return PyBool_FromLong(!flags.grad_disabled);
}

static PyObject *get_inputs_owned(PyObject *self, void *unused)
{
  (void)self, (void)unused;
  return PyBool_FromLong(flags.inputs_owned);
}

/* value's truth into *flag (inverted for grad_disabled); deleting a flag is an error. */
static int set_flag(PyObject *value, unsigned char *flag, int invert, const char *name)
{
  if (!value) {
    PyErr_Format(PyExc_AttributeError, "thread_flags.%s cannot be deleted", name);
    return -1;
  }
  int truth = PyObject_IsTrue(value);
  if (truth < 0) return -1;
  *flag = (unsigned char)(invert ? !truth : truth);
  return 0;
}

static int set_grad_enabled(PyObject *self, PyObject *value, void *unused)
{
  (void)self, (void)unused;
  return set_flag(value, &flags.grad_disabled, 1, "grad_enabled");
}

static int set_inputs_owned(PyObject *self, PyObject *value, void *unused)
{
  (void)self, (void)unused;
  return set_flag(value, &flags.inputs_owned, 0, "inputs_owned");
}

static PyGetSetDef getset[] = {
  {"grad_enabled", get_grad_enabled, set_grad_enabled,
   "forwards keep what backward needs (this thread; nnk.no_grad() clears it)", NULL},
  {"inputs_owned", get_inputs_owned, set_inputs_owned,
   "the layers' inputs belong to the running loop: kept uncopied (this thread)", NULL},
  {NULL},
};

static PyTypeObject thread_flags_type = {
  PyVarObject_HEAD_INIT(NULL, 0)
  .tp_name = "nnk._C.ThreadFlags",
  .tp_doc = "Per-thread switches of the layers: grad_enabled, inputs_owned.",
  .tp_basicsize = sizeof(PyObject),
  .tp_flags = Py_TPFLAGS_DEFAULT,
  .tp_getset = getset,
};

int nnk_thread_flags_add(PyObject *m)
{
  if (PyType_Ready(&thread_flags_type) < 0) return -1;
  PyObject *one = PyType_GenericAlloc(&thread_flags_type, 0);
  if (!one) return -1;
  int err = PyModule_AddObjectRef(m, "thread_flags", one);
  Py_DECREF(one);
  return err;
}
