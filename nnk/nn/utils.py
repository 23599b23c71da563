"""nnk.nn.utils: clip_grad_norm_, clip_grad_value_, parameters_to_vector and
vector_to_parameters, as torch.nn.utils."""
import math

import numpy as np

from .._arrays import as_float, as_real
from ..linalg import matmul


def _params(parameters):
    """A module's parameters, or the parameters given (an iterable, or one)."""
    if hasattr(parameters, "parameters"):
        return list(parameters.parameters())
    return [parameters] if hasattr(parameters, "data") else list(parameters)


def _grads(parameters):
    """The gradients of the parameters that have one: not the frozen (requires_grad
    False), nor those no backward reached since zero_grad (torch's None)."""
    return [p.grad for p in _params(parameters) if p.requires_grad and p._has_grad]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), total_norm the
    norm of all gradients together (2-norm by default, ``inf`` for the largest value), as
    torch.nn.utils.clip_grad_norm_; returns total_norm.  Frozen parameters
    (requires_grad False) and those no backward reached since zero_grad are left out, as
    torch leaves out those without a gradient."""
    grads = _grads(parameters)
    if not grads:
        return 0.0
    norm_type, max_norm = float(norm_type), float(max_norm)
    if not norm_type > 0:  # 0 divided by zero; a negative one is no norm
        raise ValueError(f"norm_type must be > 0 (or inf), got {norm_type}")
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm}")
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    elif norm_type == 2.0:
        flat = [g.reshape(-1) for g in grads]
        total = math.sqrt(sum(float(matmul(f, f)) for f in flat if f.size))  # dot products
    else:
        total = sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1 / norm_type)
    coef = min(1.0, max_norm / (total + 1e-6))
    if coef < 1.0:
        for g in grads:
            g *= g.dtype.type(coef)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient to [-clip_value, clip_value] in place, as
    torch.nn.utils.clip_grad_value_ (the parameters without a gradient left out, as in
    clip_grad_norm_)."""
    clip_value = as_real(clip_value, "clip_value")
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)


def parameters_to_vector(parameters):
    """Every parameter's values in one 1-D array (a copy), in order, as torch's."""
    params = _params(parameters)
    if not params:
        raise ValueError("parameters_to_vector: no parameters")
    dtypes = {p.data.dtype for p in params}
    if len(dtypes) > 1:  # torch's torch.cat would promote; a silent copy in another dtype would not fit back
        raise TypeError(f"parameters_to_vector: the parameters hold {sorted(map(str, dtypes))}; one dtype expected")
    return np.concatenate([p.data.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy the 1-D ``vec`` into the parameters' values in order (parameters_to_vector's
    inverse), as torch's; a length that does not fit is a ValueError."""
    vec, params = as_float(vec), _params(parameters)
    total = sum(p.data.size for p in params)
    if vec.ndim != 1 or vec.size != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {total} values, got shape {vec.shape}")
    at = 0
    for p in params:
        p.data[...] = vec[at:at + p.data.size].reshape(p.data.shape)
        at += p.data.size
