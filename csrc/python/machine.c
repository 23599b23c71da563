/* nnk._C entry points of dispatch and threads: which ISA runs, in which threads, and
 * what the machine is.  Every ISA name comes from the C list (nnk_isa_name). */
#include "entries.h"

#include <sleef.h>
#include <string.h>

/* The ISA of a name from nnk's one list, or "auto"; ValueError listing every name. */
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

static PyObject *isa_name(int isa) { return PyUnicode_InternFromString(nnk_isa_name((nnk_isa)isa)); }

/* set_isa(name): the process default. */
PyObject *nnk_py_set_isa(PyObject *self, PyObject *arg)
{
  int isa = isa_of(arg);
  if (isa < 0) return NULL;
  if (nnk_set_isa((nnk_isa)isa) != NNK_OK) return cannot_run(isa);
  return isa_name(isa);
}

/* set_thread_isa(name | None): the calling thread's own choice (None: the default). */
PyObject *nnk_py_set_thread_isa(PyObject *self, PyObject *arg)
{
  int isa = arg == Py_None ? -1 : isa_of(arg);
  if (isa < 0 && arg != Py_None) return NULL;
  if (nnk_set_thread_isa(isa) != NNK_OK) return cannot_run(isa);
  if (isa < 0) Py_RETURN_NONE;
  return isa_name(isa);
}

/* thread_isa(): the calling thread's own choice, or None when it follows the default. */
PyObject *nnk_py_thread_isa(PyObject *self, PyObject *unused)
{
  int isa = nnk_thread_isa();
  if (isa < 0) Py_RETURN_NONE;
  return isa_name(isa);
}

PyObject *nnk_py_get_isa(PyObject *self, PyObject *unused) { return isa_name(nnk_get_isa()); }

PyObject *nnk_py_available_isas(PyObject *self, PyObject *unused)
{
  PyObject *out = PyList_New(0);
  for (int i = 0; out && i < NNK_ISA_COUNT; i++) {
    if (!nnk_isa_available((nnk_isa)i)) continue;
    PyObject *name = isa_name(i);
    if (!name || PyList_Append(out, name) < 0) Py_CLEAR(out);
    Py_XDECREF(name);
  }
  if (out) Py_SETREF(out, PyList_AsTuple(out));
  return out;
}

PyObject *nnk_py_machine(PyObject *self, PyObject *unused)
{
  char sleef[32];
  snprintf(sleef, sizeof sleef, "%d.%d.%d", SLEEF_VERSION_MAJOR, SLEEF_VERSION_MINOR,
           SLEEF_VERSION_PATCHLEVEL);
  return Py_BuildValue("{s:s,s:s,s:s}", "arch", nnk_arch(), "features", nnk_cpu_features(),
                       "sleef", sleef);
}

PyObject *nnk_py_set_num_threads(PyObject *self, PyObject *arg)
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

PyObject *nnk_py_get_num_threads(PyObject *self, PyObject *unused)
{
  return PyLong_FromLong(nnk_get_num_threads());
}

/* threads_info(): {"threads", "source", "warning", "cpus_allowed"}. */
PyObject *nnk_py_threads_info(PyObject *self, PyObject *unused)
{
  return Py_BuildValue("{s:i,s:s,s:s,s:i}", "threads", nnk_get_num_threads(), "source",
                       nnk_num_threads_source(), "warning", nnk_num_threads_warning(),
                       "cpus_allowed", nnk_cpus_allowed());
}

/* cgroup_cpu_limit(root, self_cgroup): the cgroup v2 CPU limit found there, 0 for none. */
PyObject *nnk_py_cgroup_cpu_limit(PyObject *self, PyObject *args)
{
  const char *root, *self_cgroup;
  if (!PyArg_ParseTuple(args, "ss:cgroup_cpu_limit", &root, &self_cgroup)) return NULL;
  return PyLong_FromLong(nnk_cgroup_cpu_limit(root, self_cgroup));
}
