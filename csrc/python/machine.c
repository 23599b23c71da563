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

/* machine(): arch, features, SLEEF's version, the data caches {"L1d": (size, line, ways,
 * source), "L2": ..., "L3": ...} and the GEMM configuration of the calling thread's ISA
 * {"f32": (mr, nr, mc, kc, nc), "f64": ...} (None without a blocked GEMM) and the name of
 * the rule that sized its blocks ("gemm_blocks": "l1" or "l2", None without). */
PyObject *nnk_py_machine(PyObject *self, PyObject *unused)
{
  static const char *const levels[] = {"", "L1d", "L2", "L3"};
  char sleef[32];
  snprintf(sleef, sizeof sleef, "%d.%d.%d", SLEEF_VERSION_MAJOR, SLEEF_VERSION_MINOR,
           SLEEF_VERSION_PATCHLEVEL);
  PyObject *caches = PyDict_New();
  for (int level = 1; caches && level <= 3; level++) {
    size_t line, ways;
    const char *source;
    size_t size = nnk_cache_size(level, &line, &ways, &source);
    PyObject *v = Py_BuildValue("(nnns)", (Py_ssize_t)size, (Py_ssize_t)line, (Py_ssize_t)ways, source);
    if (!v || PyDict_SetItemString(caches, levels[level], v) < 0) Py_CLEAR(caches);
    Py_XDECREF(v);
  }
  if (!caches) return NULL;
  const nnk_kernel_table *t = nnk_kernels();
  const nnk_f32_gemm_config *g32 = &t->f32.gemm;
  const nnk_f64_gemm_config *g64 = &t->f64.gemm;
  PyObject *f32 = g32->ukernel ? Py_BuildValue("(nnnnn)", g32->mr, g32->nr, g32->mc, g32->kc, g32->nc)
                               : Py_NewRef(Py_None);
  PyObject *f64 = g64->ukernel ? Py_BuildValue("(nnnnn)", g64->mr, g64->nr, g64->mc, g64->kc, g64->nc)
                               : Py_NewRef(Py_None);
  PyObject *rule = g32->blocks_rule ? PyUnicode_FromString(g32->blocks_rule) : Py_NewRef(Py_None);
  /* (KC, bytes, k): the KC of products whose C takes at most those bytes and whose k is
   * that k or more */
  PyObject *small32 = g32->ukernel ? Py_BuildValue("(nnn)", g32->kc_c_in_l2, g32->c_in_l2, g32->k_c_in_l2)
                                   : Py_NewRef(Py_None);
  PyObject *small64 = g64->ukernel ? Py_BuildValue("(nnn)", g64->kc_c_in_l2, g64->c_in_l2, g64->k_c_in_l2)
                                   : Py_NewRef(Py_None);
  PyObject *result = f32 && f64 && rule && small32 && small64
                         ? Py_BuildValue("{s:s,s:s,s:s,s:O,s:{s:O,s:O},s:O,s:{s:O,s:O}}", "arch",
                                         nnk_arch(), "features", nnk_cpu_features(), "sleef", sleef,
                                         "caches", caches, "gemm", "f32", f32, "f64", f64,
                                         "gemm_blocks", rule, "gemm_small_c", "f32", small32,
                                         "f64", small64)
                         : NULL;
  Py_DECREF(caches);
  Py_XDECREF(f32);
  Py_XDECREF(f64);
  Py_XDECREF(rule);
  Py_XDECREF(small32);
  Py_XDECREF(small64);
  return result;
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
