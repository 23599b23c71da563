"""nnk.nn.init: weight initialisation in place, as torch.nn.init (the course's point that
gradient descent depends on where it starts, tried in a notebook).

Each function fills a Parameter (its ``.data``) or a float array in place, in its own
dtype, and returns it; the draws come from the generator ``nnk.manual_seed`` seeds.
Fans are torch's: fan_in = size(1) x receptive field, fan_out = size(0) x receptive
field, the receptive field the product of the dimensions after the first two.
"""
import math

import numpy as np

from .. import _random
from .module import Parameter

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]


def _values(tensor):
    """The float array to fill: a Parameter's data, or the array itself."""
    values = tensor.data if isinstance(tensor, Parameter) else tensor
    if not isinstance(values, np.ndarray) or values.dtype.kind != "f":
        raise TypeError(f"nnk.nn.init fills a Parameter or a float NumPy array, got "
                        f"{getattr(values, 'dtype', type(values).__name__)}")
    return values


def _fill(tensor, draw):
    """tensor's values replaced by draw(shape) (float64 draws, rounded once)."""
    values = _values(tensor)
    values[...] = draw(values.shape)
    return tensor


def _fans(tensor):
    values = _values(tensor)
    if values.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than "
                         f"2 dimensions (got shape {values.shape})")
    receptive = math.prod(values.shape[2:])
    return values.shape[1] * receptive, values.shape[0] * receptive


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity, torch's table: 1 for linear and sigmoid,
    5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope
    ``param``, 0.01 by default), 3/4 for selu."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def uniform_(tensor, a=0.0, b=1.0):
    """Draws from U(a, b)."""
    return _fill(tensor, lambda shape: _random.generator().uniform(a, b, shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Draws from N(mean, std^2)."""
    return _fill(tensor, lambda shape: _random.generator().normal(mean, std, shape))


def constant_(tensor, val):
    """Every value ``val``."""
    _values(tensor)[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot & Bengio's U(-a, a), a = gain sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """Glorot & Bengio's N(0, std^2), std = gain sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _fans(tensor)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He et al.'s U(-b, b), b = gain sqrt(3 / fan), the fan by ``mode``."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He et al.'s N(0, std^2), std = gain / sqrt(fan), the fan by ``mode``."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))
