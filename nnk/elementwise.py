"""Elementwise activations and their gradients, each one kernel call."""

from . import _C
from ._dispatch import kernel_ops
from ._arrays import as_float, as_floats, as_real, check_out, contiguous, deliver, kernel_target

_MAP, _GRAD, _PMAP, _PGRAD = (kernel_ops(f) for f in ("map", "grad", "pmap", "pgrad"))


def _unary(op, x, out):
    if out is None:  # a plain array: the binding makes the result (else None: convert)
        y = _C.map(_MAP[op], x, None)
        if y is not None:
            return y
    elif _C.map_into(_MAP[op], x, out) is not None:  # plain arrays alike: written
        return out
    x = as_float(x)
    if out is not None:
        check_out(out, x.shape, x.dtype)
    y = kernel_target(out, x.shape, x.dtype)
    _C.map(_MAP[op], contiguous(x), y)
    return deliver(y, out)


def _grad(op, u, grad, out, names):
    if out is None:  # plain arrays alike: the binding makes the result (else None: convert)
        dx = _C.grad(_GRAD[op], u, grad, None)
        if dx is not None:
            return dx
    elif _C.grad_into(_GRAD[op], u, grad, out) is not None:  # plain arrays alike: written
        return out
    (u, grad), dtype = as_floats(u, grad, names=names)  # the kernel's binding checks shapes
    if out is not None:
        check_out(out, u.shape, dtype)
    dx = kernel_target(out, u.shape, dtype)
    _C.grad(_GRAD[op], contiguous(u), contiguous(grad), dx)
    return deliver(dx, out)


def relu(x, *, out=None):
    """max(x, 0), elementwise (NaN stays NaN)."""
    return _unary("relu", x, out)


def exp(x, *, out=None):
    """e**x through SLEEF (1.0 ULP)."""
    return _unary("exp", x, out)


def log(x, *, out=None):
    """Natural logarithm through SLEEF (1.0 ULP); log(0) = -inf, log(<0) = NaN."""
    return _unary("log", x, out)


def tanh(x, *, out=None):
    """Hyperbolic tangent through SLEEF (1.0 ULP)."""
    return _unary("tanh", x, out)


def sigmoid(x, *, out=None):
    """1 / (1 + e**-x), computed without overflow for any input."""
    return _unary("sigmoid", x, out)


def gelu(x, approximate="none", *, out=None):
    """x * Phi(x) (``approximate="none"``, PyTorch's nn.GELU()) or its tanh approximation.

    Accuracy of the erf form: within 1 ULP of the exact value for float32 (every input)
    and float64 (a dense sample to the underflow near -38.6): x - a P(Z > a) or
    -a P(Z > a), a = |x|, from Mills's ratio and e^(-a**2/2) of the exact a**2, never
    through the rounded x/sqrt(2).  The tanh form is that formula, within a few ULP.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    return _unary("gelu" if approximate == "none" else "gelu_tanh", x, out)


def identity(x, *, out=None):
    """x itself, as a new array (or copied into ``out``)."""
    x = as_float(x)
    if out is not None:
        check_out(out, x.shape, x.dtype)
    return deliver(x.copy() if out is None else x, out)


def leaky_relu(x, negative_slope=0.01, *, out=None):
    """x for x >= 0, negative_slope * x below."""
    x = as_float(x)
    slope = as_real(negative_slope, "negative_slope")
    if out is not None:
        check_out(out, x.shape, x.dtype)
    y = kernel_target(out, x.shape, x.dtype)
    _C.pmap(_PMAP["leaky_relu"], contiguous(x), y, slope)
    return deliver(y, out)


# Gradients: d(loss)/d(input) from the upstream gradient ``grad``.

def relu_grad(x, grad, *, out=None):
    """grad where x > 0, else 0."""
    return _grad("relu_grad", x, grad, out, ("x", "grad"))


def tanh_grad(y, grad, *, out=None):
    """grad * (1 - y**2), from the forward output y = tanh(x)."""
    return _grad("tanh_grad", y, grad, out, ("y", "grad"))


def sigmoid_grad(y, grad, *, out=None):
    """grad * y * (1 - y), from the forward output y = sigmoid(x)."""
    return _grad("sigmoid_grad", y, grad, out, ("y", "grad"))


def gelu_grad(x, grad, approximate="none", *, out=None):
    """grad * GELU'(x), exact or of the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    op = "gelu_grad" if approximate == "none" else "gelu_tanh_grad"
    return _grad(op, x, grad, out, ("x", "grad"))


def leaky_relu_grad(x, grad, negative_slope=0.01, *, out=None):
    """grad where x > 0, negative_slope * grad elsewhere."""
    (x, grad), dtype = as_floats(x, grad, names=("x", "grad"))  # the binding checks shapes
    if out is not None:
        check_out(out, x.shape, dtype)
    dx = kernel_target(out, x.shape, dtype)
    _C.pgrad(_PGRAD["leaky_relu_grad"], contiguous(x), contiguous(grad), dx,
              as_real(negative_slope, "negative_slope"))
    return deliver(dx, out)
