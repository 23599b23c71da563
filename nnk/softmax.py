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


def _axes(axis, ndim):
    """``axis`` as a sorted tuple of distinct axes: one, a tuple of them, or None (all),
    as scipy.special.logsumexp takes it."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(sorted(normalize_axis_index(a, ndim) for a in (axis if isinstance(axis, tuple) else (axis,))))
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in {axis}")
    return axes


def _rows_last(x, axis):
    """(x, axes, rows): the axes moved last and made contiguous, joined into rows of
    their product.  A 0-d x is one row of one value and takes axis 0, -1 or None, as in
    PyTorch (the results keep its shape)."""
    x = as_float(x)
    if x.ndim == 0:
        _axes(axis, 1)  # anything else is an AxisError
        return x, (), x.reshape(1)
    axes = _axes(axis, x.ndim)
    if len(axes) == 1:
        return x, axes, contiguous(np.moveaxis(x, axes[0], -1))
    moved = np.moveaxis(x, axes, range(-len(axes), 0))
    n = int(np.prod([x.shape[a] for a in axes]))
    return x, axes, contiguous(moved).reshape(moved.shape[:x.ndim - len(axes)] + (n,))


def _rows_back(y, x, axes):
    """Rows of _rows_last's layout back to x's shape."""
    if x.ndim == 0:
        return y.reshape(x.shape)
    moved_shape = tuple(np.delete(x.shape, axes)) + tuple(x.shape[a] for a in axes)
    return np.moveaxis(y.reshape(moved_shape), range(-len(axes), 0), axes)


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _map_rows(kind, x, axis, out):
    # The common call, a contiguous float array along its last axis and no out, costs a
    # NumPy allocation and the kernel call; everything else takes the general path (an
    # axis of another type too: 1.0 == 1, but NumPy takes no float axis).
    if (type(x) is np.ndarray and type(axis) is int and (axis == -1 or axis == x.ndim - 1) and x.ndim
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
    x, axes, rows = _rows_last(x, axis)
    if out is not None:
        check_out(out, x.shape, x.dtype)
    # along the last axis the kernel writes a C-contiguous out itself (no copy after),
    # unless out overlaps the input other than exactly (in place)
    direct = x.ndim and axes == (x.ndim - 1,) and (
        out is None or out is x or not np.may_share_memory(out, rows))
    y = kernel_target(out, rows.shape, rows.dtype) if direct else np.empty_like(rows)
    _C.rows(kind, rows, y, rows.shape[-1])
    return deliver(_rows_back(y, x, axes), out)


def softmax(x, axis=-1, *, out=None):
    """exp(x - logsumexp(x)) along ``axis`` (an axis, a tuple of them, or None for all);
    exact 0 for -inf entries, no overflow.

    A slice that is all -inf has no defined softmax and gives NaN (as in PyTorch).
    """
    return _map_rows(_SOFTMAX, x, axis, out)


def log_softmax(x, axis=-1, *, out=None):
    """x - logsumexp(x) along ``axis``, computed as (x - max) - log(sum exp(x - max))."""
    return _map_rows(_LOG_SOFTMAX, x, axis, out)


def _grad_rows(kind, y, grad, axis):
    y, axes, rows = _rows_last(y, axis)
    g = as_float(grad)
    if g.shape != y.shape:
        raise ValueError(f"grad has shape {g.shape}, the output {y.shape}")
    _, _, g = _rows_last(g.astype(y.dtype, copy=False), axis)
    dx = np.empty_like(rows)
    _C.rows_grad(kind, rows, g, dx, rows.shape[-1])
    return deliver(_rows_back(dx, y, axes), None)


def softmax_grad(y, grad, axis=-1):
    """dL/dx of y = softmax(x, axis) from y itself: y * (grad - sum(grad * y)), per slice."""
    return _grad_rows(_SOFTMAX_GRAD, y, grad, axis)


def log_softmax_grad(y, grad, axis=-1):
    """dL/dx of y = log_softmax(x, axis) from y itself: grad - exp(y) * sum(grad)."""
    return _grad_rows(_LOG_SOFTMAX_GRAD, y, grad, axis)


def logsumexp(x, axis=-1, *, keepdims=False, out=None):
    """log(sum(exp(x))) along ``axis`` (an axis, a tuple of them, or None for all, as
    scipy.special.logsumexp) without overflow; -inf for an empty or all -inf slice."""
    x, axes, rows = _rows_last(x, axis)
    shape = rows.shape[:-1]
    if rows.shape[-1] == 0:
        result = np.full(shape, -np.inf, dtype=x.dtype)
    else:
        result = np.empty(shape, dtype=x.dtype)
        _C.rows(_LOGSUMEXP, rows, result, rows.shape[-1])
    if keepdims and x.ndim:
        result = np.expand_dims(result, axes)
    if out is not None:
        check_out(out, result.shape, x.dtype)
    return deliver(result, out)
