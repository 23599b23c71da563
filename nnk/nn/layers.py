"""Layers: activations, softmax, the fully connected layer and Flatten."""
import math
import operator

import numpy as np

from .. import _C, _random
from .._arrays import as_float
from ..elementwise import (gelu, gelu_grad, leaky_relu, leaky_relu_grad, relu, relu_grad,
                           sigmoid, sigmoid_grad, tanh, tanh_grad)
from ..softmax import log_softmax, log_softmax_grad, softmax, softmax_grad
from .module import (Module, Parameter, _ParameterFree, _check_grad_shape, _dtype, _keep,
                     _layer_input, _size, _uniform)
def _activation(name, fwd, grad, keep_output, extra=""):
    """A parameter-free layer y = fwd(x) with dx = grad(u, dy), u = y or x."""

    def forward(self, x):
        x = as_float(x)
        y = fwd(self, x)
        self._u = _keep(y if keep_output else x)
        return y

    def backward(self, g, input_grad=True):
        u = self._needs("_u")
        return grad(self, u, g) if input_grad else None

    return type(name, (_ParameterFree,), {"forward": forward, "backward": backward, "_u": None,
                                          "__doc__": f"{name} activation{extra}."})


ReLU = _activation("ReLU", lambda s, x: relu(x), lambda s, x, g: relu_grad(x, g), False)
Sigmoid = _activation("Sigmoid", lambda s, x: sigmoid(x), lambda s, y, g: sigmoid_grad(y, g), True)
Tanh = _activation("Tanh", lambda s, x: tanh(x), lambda s, y, g: tanh_grad(y, g), True)


class Identity(_ParameterFree):
    """The input itself; backward passes the gradient through."""

    _shape = None

    def forward(self, x):
        x = as_float(x)
        self._shape = x.shape
        return x

    def backward(self, g, input_grad=True):
        shape = self._shape
        if shape is None:
            self._needs("_shape")  # raises, saying why
        if type(g) is not np.ndarray or g.shape != shape:  # (the check's fast path inline)
            _check_grad_shape("Identity", g, shape)
        return as_float(g) if input_grad else None


class _Tuned(_ParameterFree):
    """An activation with one setting (not trained), named by ``_setting``:
    y = _fwd(x, setting), dx = _grad(x, dy, setting)."""
    _setting = _fwd = _grad = None

    def forward(self, x):
        x = as_float(x)
        self._x = _keep(x)
        return type(self)._fwd(x, getattr(self, self._setting))

    def backward(self, g, input_grad=True):
        x = self._needs("_x")
        return type(self)._grad(x, g, getattr(self, self._setting)) if input_grad else None

    def extra_repr(self):
        return f"{self._setting}={getattr(self, self._setting)!r}"


class LeakyReLU(_Tuned):
    """x for x > 0, negative_slope * x otherwise."""
    _setting, _fwd, _grad = "negative_slope", staticmethod(leaky_relu), staticmethod(leaky_relu_grad)

    def __init__(self, negative_slope=0.01):
        self.negative_slope, self._x = float(negative_slope), None


class GELU(_Tuned):
    """x * Phi(x) (approximate='none', through erf) or its tanh approximation."""
    _setting, _fwd, _grad = "approximate", staticmethod(gelu), staticmethod(gelu_grad)

    def __init__(self, approximate="none"):
        self.approximate, self._x = approximate, None


class _RowsLayer(_ParameterFree):
    """A row function along ``dim`` (softmax, log_softmax) that backward differentiates
    from its output."""
    _fwd = _grad = None  # the functions, as staticmethods

    def __init__(self, dim=-1):
        self.dim, self._y = dim, None

    def forward(self, x):
        y = self._fwd(x, axis=self.dim)
        self._y = _keep(y)
        return y

    def backward(self, g, input_grad=True):
        y = self._needs("_y")
        return self._grad(y, g, axis=self.dim) if input_grad else None

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_RowsLayer):
    """softmax along ``dim``; backward: dx = y * (g - sum(g * y))."""
    _fwd, _grad = staticmethod(softmax), staticmethod(softmax_grad)


class LogSoftmax(_RowsLayer):
    """log_softmax along ``dim``; backward: dx = g - exp(y) sum(g)."""
    _fwd, _grad = staticmethod(log_softmax), staticmethod(log_softmax_grad)


class Linear(Module):
    """y = x W^T + b with W of shape (out_features, in_features).

    Initialised like PyTorch's default, U(-1/sqrt(in), 1/sqrt(in)) for weight and bias,
    from the generator that ``nnk.manual_seed`` seeds.  float64 by default.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=np.float64):
        dtype = _dtype(dtype)
        in_features, out_features = _size(in_features, "in_features"), _size(out_features, "out_features")
        self.weight = _uniform((out_features, in_features), in_features, dtype)
        self.bias = _uniform(out_features, in_features, dtype) if bias else None
        self._x = None

    @classmethod
    def from_weights(cls, weight, bias=None):
        """A layer holding the given arrays (their dtype is kept)."""
        weight = as_float(weight, "weight")
        if weight.ndim != 2:
            raise ValueError(f"weight must be 2-D (out_features, in_features), got {weight.shape}")
        layer = cls.__new__(cls)
        layer.weight = Parameter(weight.copy())
        layer.bias = None
        if bias is not None:
            b = as_float(bias, "bias").astype(weight.dtype).reshape(-1)
            if b.shape != (weight.shape[0],):
                raise ValueError(f"bias must have shape ({weight.shape[0]},), got {b.shape}")
            layer.bias = Parameter(b.copy())
        layer._x = None
        return layer

    def zero_grad(self, set_to_none=True):
        self.weight._zero_grad(set_to_none)
        if self.bias is not None:
            self.bias._zero_grad(set_to_none)

    @property
    def in_features(self):
        """The input size (weight's second dimension)."""
        return self.weight.data.shape[1]

    @property
    def out_features(self):
        """The output size (weight's first dimension)."""
        return self.weight.data.shape[0]

    def forward(self, x):
        w = self.weight._data  # (the property's own field: a call less per forward)
        b = None if self.bias is None else self.bias._data
        # One kernel call (nnk.linear's too), which checks the shapes and, for plain
        # arrays, makes y: on small nets a training step is nothing but per-call costs.
        y = _C.linear_forward(x, w, b, None)
        if y is None:
            x = _layer_input(x, w.dtype, self)
            y = np.empty(x.shape[:-1] + (w.shape[0],), w.dtype)
            _C.linear_forward(x, w, b, y)
        self._x = _keep(x)
        return y

    def backward(self, g, input_grad=True):
        """dL/dx (None when ``input_grad`` is False: the data needs none, and it costs a
        third of the layer's backward work); dW and db accumulate."""
        # (slots and the checks' fast paths inline: on small nets a step is its calls)
        x = self._x
        if x is None:
            self._needs("_x")  # raises, saying why
        if type(g) is not np.ndarray or g.dtype != x.dtype or not g.flags.c_contiguous:
            g = np.ascontiguousarray(as_float(g), dtype=x.dtype)
        w, b = self.weight, self.bias
        wd = w._data
        shape = x.shape[:-1] + (wd.shape[0],)
        if g.shape != shape:
            _check_grad_shape("Linear", g, shape)  # raises
        dx = np.empty(x.shape, x.dtype) if input_grad else None
        # a frozen parameter's gradient is not computed (torch's stays None): in a frozen
        # layer only dx is left, a third of the work
        w_on, b_on = w._requires_grad, b is not None and b._requires_grad
        # gradients zeroed lazily are written, not added to; one zeroed and the other not,
        # the zeroed one's zeros are made (its .grad) and both added to
        add = (w_on and not w._zeroed) or (b_on and not b._zeroed)
        dw = (w.grad if add else w._grad) if w_on else None
        db = (b.grad if add else b._grad) if b_on else None
        if w_on or b_on or input_grad:
            _C.linear_backward(x, wd, g, dw, db, dx, add)
        if w_on:
            w._zeroed = False
        if b_on:
            b._zeroed = False
        return dx

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}, dtype={self.weight.data.dtype}")


def _dropout_scale(shape, p, dtype):
    """Inverted dropout's mask times 1/(1 - p), one array of ``dtype`` (p = 1: every value
    dropped), drawn from the generator nnk.manual_seed seeds (Dropout, RNN's dropout)."""
    keep = _random.generator().random(shape) >= p
    return keep.astype(dtype) * np.dtype(dtype).type(0 if p == 1 else 1 / (1 - p))


class Dropout(_ParameterFree):
    """Zeroes each value with probability ``p`` while training and scales the rest by
    1/(1 - p) (inverted dropout, as PyTorch), so that eval() -- the identity -- needs no
    rescaling.  The mask comes from the generator ``nnk.manual_seed`` seeds; backward
    applies the same mask and scale."""

    def __init__(self, p=0.5):
        p = float(p)
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self._scale = p, None

    def forward(self, x):
        x = as_float(x)
        self._shape = x.shape
        if not self.training or self.p == 0:
            self._scale = None
            return x
        self._scale = _dropout_scale(x.shape, self.p, x.dtype)
        return x * self._scale

    def backward(self, g, input_grad=True):
        _check_grad_shape("Dropout", g, self._needs("_shape"))
        if not input_grad:
            return None
        g = as_float(g)
        return g if self._scale is None else g * self._scale

    def extra_repr(self):
        return f"p={self.p}"


class Flatten(_ParameterFree):
    """Dimensions start_dim..end_dim joined into one, as torch.nn.Flatten; by default all
    but the first, (N, d1, d2, ...) -> (N, d1*d2*...): a window's embeddings concatenated."""

    def __init__(self, start_dim=1, end_dim=-1):
        self.start_dim, self.end_dim = operator.index(start_dim), operator.index(end_dim)

    def _out_shape(self, shape):
        nd = len(shape)
        s = self.start_dim + nd if self.start_dim < 0 else self.start_dim
        e = self.end_dim + nd if self.end_dim < 0 else self.end_dim
        if not (0 <= s < nd and 0 <= e < nd and s <= e):
            raise ValueError(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}) does not "
                             f"fit an input of shape {tuple(shape)}")
        # math.prod, not -1: -1 cannot size a dimension beside an empty one
        return tuple(shape[:s]) + (math.prod(shape[s:e + 1]),) + tuple(shape[e + 1:])

    def forward(self, x):
        x = np.asarray(x)
        out = self._out_shape(x.shape)
        self._shape = x.shape
        return x.reshape(out)

    def backward(self, g, input_grad=True):
        shape = self._needs("_shape")
        _check_grad_shape("Flatten", g, self._out_shape(shape))
        return np.asarray(g).reshape(shape) if input_grad else None

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


