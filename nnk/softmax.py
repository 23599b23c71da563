"""Softmax, log-softmax and log-sum-exp along any axis, via the log-sum-exp kernels.

The kernels work on contiguous rows; another axis is moved last (one copy) and back.
"""
import numpy as np

from . import _C
from ._dispatch import kernel_ops
from ._arrays import as_float, check_out, contiguous, deliver, kernel_target

try:  # NumPy >= 2
    from numpy.lib.array_utils import normalize_axis_index
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import normalize_axis_index

# Indices into the C list of row reductions (NNK_ROWS_LIST).
_SOFTMAX, _LOG_SOFTMAX, _LOGSUMEXP = map(kernel_ops("rows").get,
                                          ("softmax", "log_softmax", "logsumexp"))
_SOFTMAX_GRAD, _LOG_SOFTMAX_GRAD = map(kernel_ops("rows_grad").get,
                                       ("softmax_grad", "log_softmax_grad"))


def _rows_last(x, axis):
    """(x, axis, rows): the axis moved last and made contiguous.  A 0-d x is one row of
    one value and takes axis 0 or -1, as in PyTorch (the results keep its shape)."""
    x = as_float(x)
    if x.ndim == 0:
        normalize_axis_index(axis, 1)  # anything else is an AxisError
        return x, 0, x.reshape(1)
    axis = normalize_axis_index(axis, x.ndim)
    return x, axis, contiguous(np.moveaxis(x, axis, -1))


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _map_rows(kind, x, axis, out):
    # The common call, a contiguous float array along its last axis and no out, costs a
    # NumPy allocation and the kernel call; everything else takes the general path.
    if (type(x) is np.ndarray and (axis == -1 or axis == x.ndim - 1) and x.ndim
            and x.dtype in _FLOATS and x.flags.c_contiguous):
        if out is None:
            y = np.empty_like(x)
        elif (type(out) is np.ndarray and out.shape == x.shape and out.dtype == x.dtype
              and out.flags.c_contiguous and out.flags.writeable
              and (out is x or not np.may_share_memory(out, x))):
            y = out
        else:
            y = None
        if y is not None:
            _C.rows(kind, x, y, x.shape[-1])
            return y
    x, axis, rows = _rows_last(x, axis)
    if out is not None:
        check_out(out, x.shape, x.dtype)
    # along the last axis the kernel writes a C-contiguous out itself (no copy after),
    # unless out overlaps the input other than exactly (in place)
    direct = x.ndim and axis == x.ndim - 1 and (
        out is None or out is x or not np.may_share_memory(out, rows))
    y = kernel_target(out, rows.shape, rows.dtype) if direct else np.empty_like(rows)
    _C.rows(kind, rows, y, rows.shape[-1])
    y = y.reshape(x.shape) if x.ndim == 0 else np.moveaxis(y, -1, axis)
    return deliver(y, out)


def softmax(x, axis=-1, *, out=None):
    """exp(x - logsumexp(x)) along ``axis``; exact 0 for -inf entries, no overflow.

    A slice that is all -inf has no defined softmax and gives NaN (as in PyTorch).
    """
    return _map_rows(_SOFTMAX, x, axis, out)


def log_softmax(x, axis=-1, *, out=None):
    """x - logsumexp(x) along ``axis``, computed as (x - max) - log(sum exp(x - max))."""
    return _map_rows(_LOG_SOFTMAX, x, axis, out)


def _grad_rows(kind, y, grad, axis):
    y, axis, rows = _rows_last(y, axis)
    g = as_float(grad)
    if g.shape != y.shape:
        raise ValueError(f"grad has shape {g.shape}, the output {y.shape}")
    g = contiguous(np.moveaxis(g.astype(y.dtype, copy=False), axis, -1) if y.ndim else g.reshape(1))
    dx = np.empty_like(rows)
    _C.rows_grad(kind, rows, g, dx, rows.shape[-1])
    return dx.reshape(y.shape) if y.ndim == 0 else np.moveaxis(dx, -1, axis)


def softmax_grad(y, grad, axis=-1):
    """dL/dx of y = softmax(x, axis) from y itself: y * (grad - sum(grad * y)), per slice."""
    return _grad_rows(_SOFTMAX_GRAD, y, grad, axis)


def log_softmax_grad(y, grad, axis=-1):
    """dL/dx of y = log_softmax(x, axis) from y itself: grad - exp(y) * sum(grad)."""
    return _grad_rows(_LOG_SOFTMAX_GRAD, y, grad, axis)


def logsumexp(x, axis=-1, *, keepdims=False, out=None):
    """log(sum(exp(x))) along ``axis`` without overflow; -inf for an empty or all -inf slice."""
    x, axis, rows = _rows_last(x, axis)
    shape = rows.shape[:-1]
    if rows.shape[-1] == 0:
        result = np.full(shape, -np.inf, dtype=x.dtype)
    else:
        result = np.empty(shape, dtype=x.dtype)
        _C.rows(_LOGSUMEXP, rows, result, rows.shape[-1])
    if keepdims and x.ndim:
        result = np.expand_dims(result, axis)
    if out is not None:
        check_out(out, result.shape, x.dtype)
    return deliver(result, out)
