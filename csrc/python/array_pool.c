/*
 * The array pool: a caching allocator for the arrays nnk's layers make, given to NumPy
 * as a data-memory handler (NEP 49) while a layer runs (nnk/nn/module.py sets it around
 * module calls, except forwards of small inputs, and backward passes; arrays made
 * elsewhere keep NumPy's own).
 *
 * A training step makes the same arrays every step.  Freed, glibc gave large ones back to
 * the system (the top of the heap trimmed, mapped blocks unmapped), and the next step
 * faulted their pages in afresh, each zeroed by the kernel: 5,400 page faults a step of
 * the bench's GPT, 11-17 % of its time on an Intel Xeon (measured with glibc told to keep
 * its memory), against 2,200 for PyTorch.
 * Here a freed block of POOL_MIN bytes or more is kept, by size class (eight classes a
 * power of two, so a block serves requests up to an eighth smaller), and handed out
 * again for its class.  At most as many bytes are kept as were ever in use at once (the
 * pool's high-water mark), and nnk.empty_cache() gives them back.  Smaller blocks go
 * straight to malloc, whose heap keeps them anyway, behind a 16-byte tag (their size);
 * kept blocks behind a 64-byte header (their class and size in its last 16 bytes), so
 * that their data is 64-byte aligned for the kernels.
 *
 * NumPy calls the handler with the GIL held; a mutex guards the lists all the same
 * (free-threaded builds, and arrays freed on other threads), and is held across fork.
 */
#include "entries.h" /* Python.h first */

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MIN ((size_t)1 << 16)
#define MIN_SHIFT 16  /* the first class: 2^16 bytes */
#define MAX_SHIFT 40  /* blocks of 2^40 bytes or more are not kept */
#define CLASSES ((MAX_SHIFT - MIN_SHIFT) * 8)
#define NOT_KEPT 0xffffffffu
#define HEADER 64     /* before a kept block's data: 64-byte alignment for the kernels */
#define SMALL 16      /* before a small block's data: malloc's alignment, as NumPy's */

/* The last 16 bytes before every block's data: its class (or NOT_KEPT) and its size. */
typedef struct {
  uint32_t cls;
  size_t size; /* bytes after the header: the class's size, or what was asked */
} tag;

/* A kept block, as it sits in its class's free list. */
typedef union block {
  struct {
    union block *next;
    char unused[HEADER - 8 - sizeof(tag)];
    tag t;
  } h;
  char pad[HEADER];
} block;
_Static_assert(sizeof(tag) <= SMALL && sizeof(block) == HEADER, "headers");

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static block *free_list[CLASSES];
static size_t kept, live, peak; /* bytes in free blocks, in blocks handed out, live's peak */

static size_t class_size(unsigned c) { return (size_t)(8 + c % 8) << (MIN_SHIFT + c / 8 - 3); }

/* The smallest class whose size holds `size` (POOL_MIN <= size < 2^MAX_SHIFT). */
static unsigned class_of(size_t size)
{
  unsigned e = 63 - (unsigned)__builtin_clzll((unsigned long long)size); /* 2^e <= size */
  unsigned c = (e - MIN_SHIFT) * 8 + (unsigned)((size >> (e - 3)) & 7);
  return class_size(c) < size ? c + 1 : c;
}

static tag *tag_of(void *data) { return (tag *)((char *)data - sizeof(tag)); }
static block *block_of(void *data) { return (block *)((char *)data - HEADER); }
static void *data_of(block *b) { return (char *)b + HEADER; }

static void *small_malloc(size_t size)
{
  if (size > SIZE_MAX - SMALL) return NULL;
  char *p = malloc(SMALL + size);
  if (!p) return NULL;
  tag *t = tag_of(p + SMALL);
  t->cls = NOT_KEPT, t->size = size;
  return p + SMALL;
}

static void *pool_malloc(void *ctx, size_t size)
{
  (void)ctx;
  if (size < POOL_MIN || size >= (size_t)1 << MAX_SHIFT) return small_malloc(size);
  unsigned c = class_of(size);
  pthread_mutex_lock(&lock);
  block *b = free_list[c];
  if (b) free_list[c] = b->h.next, kept -= b->h.t.size;
  pthread_mutex_unlock(&lock);
  if (!b) { /* a new block, allocated outside the lock */
    void *p;
    if (posix_memalign(&p, HEADER, HEADER + class_size(c))) return NULL;
    b = p;
    b->h.t.cls = c, b->h.t.size = class_size(c);
  }
  pthread_mutex_lock(&lock);
  live += b->h.t.size, peak = live > peak ? live : peak;
  pthread_mutex_unlock(&lock);
  return data_of(b);
}

static void pool_free(void *ctx, void *ptr, size_t size)
{
  (void)ctx, (void)size; /* the tag knows the block's size */
  if (!ptr) return;
  if (tag_of(ptr)->cls == NOT_KEPT) {
    free((char *)ptr - SMALL);
    return;
  }
  block *b = block_of(ptr);
  pthread_mutex_lock(&lock);
  live -= b->h.t.size;
  int keep = kept + b->h.t.size <= peak;
  if (keep) b->h.next = free_list[b->h.t.cls], free_list[b->h.t.cls] = b, kept += b->h.t.size;
  pthread_mutex_unlock(&lock);
  if (!keep) free(b);
}

static void *pool_calloc(void *ctx, size_t nelem, size_t elsize)
{
  if (elsize && nelem > SIZE_MAX / elsize) return NULL;
  void *p = pool_malloc(ctx, nelem * elsize);
  if (p) memset(p, 0, nelem * elsize);
  return p;
}

static void *pool_realloc(void *ctx, void *ptr, size_t new_size)
{
  if (!ptr) return pool_malloc(ctx, new_size);
  size_t old = tag_of(ptr)->size;
  if (new_size <= old) return ptr; /* the tag keeps the block's own size */
  void *p = pool_malloc(ctx, new_size);
  if (!p) return NULL; /* realloc's contract: the old block stays */
  memcpy(p, ptr, old < new_size ? old : new_size);
  pool_free(ctx, ptr, old);
  return p;
}

static PyDataMem_Handler handler = {
  "nnk_pool", 1, {NULL, pool_malloc, pool_calloc, pool_realloc, pool_free}};
static PyObject *capsule; /* the handler as NumPy takes it; lives as long as the process */

static void lock_for_fork(void) { pthread_mutex_lock(&lock); }
static void unlock_after_fork(void) { pthread_mutex_unlock(&lock); }

int nnk_pool_init(void)
{
  if (capsule) return 0;
  capsule = PyCapsule_New(&handler, "mem_handler", NULL);
  if (!capsule) return -1;
  pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork);
  return 0;
}

/* The pool as NumPy's allocator in the current context, unless it is already: *previous
 * is then the handler it replaced (a new reference, for leave()), else NULL. */
static int enter(PyObject **previous)
{
  *previous = NULL;
  PyObject *current = PyDataMem_GetHandler();
  if (!current) return -1;
  Py_DECREF(current); /* compared only */
  if (current != capsule && !(*previous = PyDataMem_SetHandler(capsule))) return -1;
  return 0;
}

static int leave(PyObject *previous)
{
  PyObject *mine = PyDataMem_SetHandler(previous);
  Py_DECREF(previous);
  Py_XDECREF(mine);
  return mine ? 0 : -1;
}

/* pool_enter(): enter(); returns the replaced handler or None (a nested call). */
PyObject *nnk_py_pool_enter(PyObject *self, PyObject *unused)
{
  (void)self, (void)unused;
  PyObject *previous;
  if (enter(&previous)) return NULL;
  if (!previous) Py_RETURN_NONE;
  return previous;
}

/* pool_exit(previous): puts back what pool_enter returned. */
PyObject *nnk_py_pool_exit(PyObject *self, PyObject *previous)
{
  (void)self;
  Py_INCREF(previous); /* leave() takes a reference */
  if (leave(previous)) return NULL;
  Py_RETURN_NONE;
}

/* pooled(func): func run with the pool as NumPy's allocator (the outermost call sets it
 * and puts the previous one back; nested calls find it set), usable as a method; with
 * unless_small, an outermost call on small inputs (small_inputs) runs func as it is.  In C
 * because every layer's forward and backward go through it: a Python wrapper with the
 * same two calls added 3 us to a training step of the notes' 2-3-4-1 network. */
typedef struct {
  PyObject_HEAD
  PyObject *func;
  vectorcallfunc vectorcall;
  int unless_small; /* a method whose outermost call on small inputs leaves NumPy's allocator */
} pooled;

/* The pooled calls running on this thread: inside one, the outermost has set the pool in
 * its context, so that nested calls (a Sequential's layers, each layer's backward) go
 * straight to their function without reading NumPy's handler.  Together with the type's
 * METHOD_DESCRIPTOR flag (no bound method made a call), Zen 3, the notes' 2-3-4-1 network,
 * twelve nested calls and four outermost a step: 34.5 -> 32.8 us a step.  A nested call
 * run in a context of its own (contextvars.Context().run) finds NumPy's allocator there
 * and keeps it: its arrays are NumPy's, as outside the layers. */
static _Thread_local unsigned long pooled_depth;

/* Whether a method's arguments past its instance (args[0]), keywords' values too, are all
 * small: float arrays below the pool's smallest kept block, or None, bools, ints and
 * floats.  A forward of such inputs makes arrays of their order (a layer's output, the
 * copy it keeps), which the pool would hand to malloc anyway; setting the pool and
 * putting NumPy's back took 0.3 us of the 1.8 of a 2 x 2 nn.Linear's forward, and each
 * array made 0.07 more.  Index arrays (an Embedding's input: its output is n_embd times
 * larger), lists and anything else: not small. */
static int small_inputs(PyObject *const *args, size_t nargs, PyObject *kwnames)
{
  size_t n = nargs + (kwnames ? (size_t)PyTuple_GET_SIZE(kwnames) : 0);
  for (size_t i = 1; i < n; i++) {
    PyObject *a = args[i];
    if (PyArray_Check(a)) {
      PyArrayObject *arr = (PyArrayObject *)a;
      if (!PyArray_ISFLOAT(arr) || PyArray_NBYTES(arr) >= POOL_MIN) return 0;
    } else if (a != Py_None && !PyFloat_CheckExact(a) && !PyLong_Check(a)) {
      return 0;
    }
  }
  return 1;
}

static PyObject *pooled_call(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
  PyObject *func = ((pooled *)self)->func, *previous;
  const size_t nargs = PyVectorcall_NARGS(nargsf);
  if (!pooled_depth && ((pooled *)self)->unless_small && nargs && small_inputs(args, nargs, kwnames))
    return PyObject_Vectorcall(func, args, nargsf, kwnames); /* nested calls decide for themselves */
  if (pooled_depth) {
    pooled_depth++;
    PyObject *result = PyObject_Vectorcall(func, args, nargsf, kwnames);
    pooled_depth--;
    return result;
  }
  if (enter(&previous)) return NULL;
  pooled_depth = 1;
  PyObject *result = PyObject_Vectorcall(func, args, nargsf, kwnames);
  pooled_depth = 0;
  if (previous) {
    PyObject *type, *value, *trace;
    PyErr_Fetch(&type, &value, &trace); /* the call's exception survives putting back */
    if (leave(previous)) Py_CLEAR(result);
    else PyErr_Restore(type, value, trace);
  }
  return result;
}

static PyObject *pooled_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
  static char *keywords[] = {"", "unless_small", NULL};
  PyObject *func;
  int unless_small = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$p:pooled", keywords, &func, &unless_small))
    return NULL;
  if (!PyCallable_Check(func)) return PyErr_Format(PyExc_TypeError, "pooled() needs a callable");
  pooled *p = (pooled *)type->tp_alloc(type, 0);
  if (!p) return NULL;
  p->func = Py_NewRef(func);
  p->vectorcall = pooled_call;
  p->unless_small = unless_small;
  return (PyObject *)p;
}

static void pooled_dealloc(PyObject *self)
{
  PyObject_GC_UnTrack(self);
  Py_CLEAR(((pooled *)self)->func);
  Py_TYPE(self)->tp_free(self);
}

static int pooled_traverse(PyObject *self, visitproc visit, void *arg)
{
  Py_VISIT(((pooled *)self)->func);
  return 0;
}

/* As a class attribute, a method: bound to the instance it is read from. */
static PyObject *pooled_get(PyObject *self, PyObject *obj, PyObject *type)
{
  (void)type;
  if (!obj || obj == Py_None) return Py_NewRef(self);
  return PyMethod_New(self, obj);
}

/* __wrapped__ is the function (inspect.signature follows it); __doc__ and whatever this
 * object has not (__name__, __qualname__, __module__) are the function's. */
static PyObject *pooled_getattr(PyObject *self, PyObject *name)
{
  PyObject *func = ((pooled *)self)->func;
  if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "__wrapped__") == 0)
    return Py_NewRef(func);
  if (PyUnicode_Check(name) && (PyUnicode_CompareWithASCIIString(name, "__doc__") == 0 ||
                                PyUnicode_CompareWithASCIIString(name, "__module__") == 0))
    return PyObject_GetAttr(func, name);
  PyObject *own = PyObject_GenericGetAttr(self, name);
  if (own || !PyErr_ExceptionMatches(PyExc_AttributeError)) return own;
  PyErr_Clear();
  return PyObject_GetAttr(func, name);
}

static PyObject *pooled_repr(PyObject *self)
{
  return PyUnicode_FromFormat("<pooled %R>", ((pooled *)self)->func);
}

static PyTypeObject pooled_type = {
  PyVarObject_HEAD_INIT(NULL, 0)
  .tp_name = "nnk._C.pooled",
  .tp_doc = "pooled(func, *, unless_small=False): func run with nnk's array pool as NumPy's "
            "allocator; a method when set on a class.  unless_small: a method whose outermost "
            "call leaves NumPy's allocator when its other arguments are all float arrays "
            "below 64 KiB or None, bools, ints and floats.",
  .tp_basicsize = sizeof(pooled),
  /* METHOD_DESCRIPTOR: called as a method (layer.backward(g), layer(x)), the interpreter
   * passes the instance as the first argument instead of making a bound method a call */
  .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
  .tp_vectorcall_offset = offsetof(pooled, vectorcall),
  .tp_call = PyVectorcall_Call,
  .tp_new = pooled_new,
  .tp_dealloc = pooled_dealloc,
  .tp_traverse = pooled_traverse,
  .tp_descr_get = pooled_get,
  .tp_getattro = pooled_getattr,
  .tp_repr = pooled_repr,
};

int nnk_pool_add_type(PyObject *m)
{
  if (PyType_Ready(&pooled_type) < 0) return -1;
  return PyModule_AddObjectRef(m, "pooled", (PyObject *)&pooled_type);
}

PyObject *nnk_py_pool_stats(PyObject *self, PyObject *unused)
{
  (void)self, (void)unused;
  pthread_mutex_lock(&lock);
  size_t k = kept, l = live, p = peak;
  pthread_mutex_unlock(&lock);
  return Py_BuildValue("{snsnsn}", "kept", (Py_ssize_t)k, "live", (Py_ssize_t)l, "peak", (Py_ssize_t)p);
}

PyObject *nnk_py_empty_cache(PyObject *self, PyObject *unused)
{
  (void)self, (void)unused;
  block *all = NULL;
  pthread_mutex_lock(&lock);
  for (unsigned c = 0; c < CLASSES; c++) {
    while (free_list[c]) {
      block *b = free_list[c];
      free_list[c] = b->h.next, b->h.next = all, all = b;
    }
  }
  kept = 0, peak = live; /* what is kept from now on is bounded by what is used from now on */
  pthread_mutex_unlock(&lock);
  while (all) {
    block *b = all;
    all = b->h.next;
    free(b);
  }
  Py_RETURN_NONE;
}
