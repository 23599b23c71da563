/* nnk._C entry points of the byte-pair encoder's merge loops (csrc/text/bpe.c). */
#include "entries.h"

#include "../text/bpe.h"

/* pairs (k, 2) int32: k merges. */
static int merge_table(PyObject *obj, buf *b, int writable, size_t *k)
{
  if (get_ints(obj, b, 4, writable, "merges")) return -1;
  if (b->view.ndim != 2 || b->view.shape[1] != 2) {
    PyErr_SetString(PyExc_ValueError, "merges must be an int32 array of shape (k, 2)");
    return -1;
  }
  *k = (size_t)b->view.shape[0];
  return 0;
}

/* bpe_train(ids, merges): learns up to len(merges) merges from the int32 ids (rewritten in
 * place); returns (merges learned, tokens left). */
PyObject *nnk_py_bpe_train(PyObject *self, PyObject *args)
{
  PyObject *io, *mo;
  buf b[2] = {0};
  PyObject *result = NULL;
  size_t k, done;
  if (!PyArg_ParseTuple(args, "OO:bpe_train", &io, &mo) || get_ints(io, &b[0], 4, 1, "ids") ||
      merge_table(mo, &b[1], 1, &k) || operands_apart(NULL, 0, b, 2, 0))
    goto done;
  size_t n = buf_count(&b[0]);
  nnk_status st;
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS, st = nnk_bpe_train(b[0].data, &n, k, b[1].data, &done));
  if (st != NNK_OK) {
    status_result(st);
    goto done;
  }
  result = Py_BuildValue("(nn)", (Py_ssize_t)done, (Py_ssize_t)n);
done:
  release_all(b, 2);
  return result;
}

/* bpe_encode(ids, merges): applies the merges to the int32 ids in place; returns the
 * tokens left. */
PyObject *nnk_py_bpe_encode(PyObject *self, PyObject *args)
{
  PyObject *io, *mo;
  buf b[2] = {0};
  PyObject *result = NULL;
  size_t k;
  if (!PyArg_ParseTuple(args, "OO:bpe_encode", &io, &mo) || get_ints(io, &b[0], 4, 1, "ids") ||
      merge_table(mo, &b[1], 0, &k) || operands_apart(&b[1], 1, b, 1, 0))
    goto done;
  size_t n = buf_count(&b[0]);
  WITHOUT_GIL_IF(n >= RELEASE_GIL_ELEMENTS, nnk_bpe_encode(b[0].data, &n, b[1].data, k));
  result = PyLong_FromSsize_t((Py_ssize_t)n);
done:
  release_all(b, 2);
  return result;
}
