"""LayerNorm: normalisation over the trailing axes, with a learned scale and shift."""
import math
import operator

import numpy as np

from .. import _C
from .._arrays import as_float
from .module import Module, Parameter, _check_grad_shape, _dtype, _keep, _layer_input, _size


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last
    ``len(normalized_shape)`` axes (biased variance), as ``torch.nn.LayerNorm``.

    weight starts at ones and bias at zeros; ``elementwise_affine=False`` has neither and
    ``bias=False`` no bias.  Forward keeps each row's mean and 1/std; backward gives
    dL/dx and accumulates ``weight.grad`` and ``bias.grad``, one kernel call each way.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=np.float64):
        dtype = _dtype(dtype)
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = tuple(_size(operator.index(s), "normalized_shape") for s in shape)
        if not self.normalized_shape:
            raise ValueError("normalized_shape must name at least one axis")
        self.eps = float(eps)
        if not self.eps >= 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.weight = Parameter(np.ones(self.normalized_shape, dtype)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype)) if elementwise_affine and bias else None
        self._dtype, self._saved = dtype, None

    def _to_dtype(self, dtype):
        self._dtype = dtype  # without weights, what the input is cast to

    def forward(self, x):
        x = _layer_input(x, self._dtype, self)
        y, mean, rstd = _layer_norm(x, self.normalized_shape, _data(self.weight), _data(self.bias), self.eps)
        self._saved = (_keep(x), mean, rstd)  # x itself: a read-only x is kept uncopied
        return y

    def backward(self, g, input_grad=True):
        """dL/dx (None when ``input_grad`` is False); weight.grad and bias.grad accumulate."""
        x, mean, rstd = self._needs("_saved")
        x2, shape = _rows(x, self.normalized_shape), x.shape
        g = np.ascontiguousarray(as_float(g), dtype=x2.dtype)
        _check_grad_shape("LayerNorm", g, shape)
        dx = np.empty(shape, x2.dtype)
        _C.layernorm_backward(x2, _data(self.weight), mean, rstd, g, dx, _grad(self.weight),
                              _grad(self.bias))
        return dx if input_grad else None

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.weight is not None}, dtype={self._dtype}")


def _rows(x, normalized_shape):
    """x as rows of the values normalised together (its trailing ``normalized_shape``)."""
    k = len(normalized_shape)
    if x.ndim < k or x.shape[x.ndim - k:] != normalized_shape:
        raise ValueError(f"LayerNorm{normalized_shape}: input of shape {x.shape} does "
                         f"not end in {normalized_shape}")
    return x.reshape(-1, math.prod(normalized_shape))


def _layer_norm(x, normalized_shape, weight, bias, eps):
    """(y, each row's mean, each row's 1/std) of a C-contiguous float x normalised over
    its trailing ``normalized_shape``, then scaled by ``weight`` and shifted by ``bias``
    (arrays of x's dtype and that shape, or None): one kernel call."""
    x2 = _rows(x, normalized_shape)
    y = np.empty(x.shape, x.dtype)
    mean, rstd = np.empty(x2.shape[0], x.dtype), np.empty(x2.shape[0], x.dtype)
    _C.layernorm_forward(x2, weight, bias, eps, y, mean, rstd)
    return y, mean, rstd


def _data(p):
    return None if p is None else p.data


def _grad(p):
    """The gradient the kernel accumulates into: none for a frozen parameter (torch's
    stays None), whose part of the kernel's work is then skipped."""
    return None if p is None or not p.requires_grad else p.grad
