"""nnk.nn.functional: torch.nn.functional's names and arguments over nnk's kernels, so that
code written with ``import torch.nn.functional as F`` reads the same with
``import nnk.nn.functional as F`` (``dim=``, ``reduction=``, ``ignore_index=``, ...).

Values only: backpropagation in nnk is explicit (the layers' and loss modules' backward,
or nnk's ``*_grad`` functions), so nothing here records a graph.  Arrays in, NumPy arrays
out; a loss reduced to one value is a Python float.  Each function is one of nnk's
kernels (or two, for the options torch has and nnk's kernels do not: BCE's ``weight``
and ``pos_weight``), and raises what nnk's raises for bad input.
"""
import operator

import numpy as np

from .. import elementwise as _ew
from .. import losses as _losses
from .._arrays import as_float
from ..linalg import linear as _linear
from ..softmax import log_softmax as _log_softmax
from ..softmax import softmax as _softmax
from .layers import _dropout_scale
from .module import _np_dtype
from .normalization import _layer_norm


def relu(input, inplace=False):
    """max(input, 0); ``inplace`` writes it into ``input`` (a float array) and returns it."""
    return _ew.relu(input, out=input if inplace else None)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input where positive, else negative_slope * input."""
    return _ew.leaky_relu(input, negative_slope, out=input if inplace else None)


def gelu(input, approximate="none"):
    """input * Phi(input) (``approximate="tanh"``: the tanh form), within 1 ULP."""
    return _ew.gelu(input, approximate)


def sigmoid(input):
    """1 / (1 + exp(-input))."""
    return _ew.sigmoid(input)


def tanh(input):
    """tanh(input)."""
    return _ew.tanh(input)


def _cast(input, dtype):
    """torch's ``dtype=`` of softmax: the input converted first (NumPy's type or name, or
    torch's dtype)."""
    return input if dtype is None else np.asarray(input, dtype=_np_dtype(dtype))


def softmax(input, dim, dtype=None):
    """exp(input) / sum(exp(input)) along ``dim`` (which torch's F.softmax asks for too:
    its implicit choice is deprecated), by log-sum-exp: no overflow."""
    return _softmax(_cast(input, dtype), axis=dim)


def log_softmax(input, dim, dtype=None):
    """input - logsumexp(input) along ``dim``."""
    return _log_softmax(_cast(input, dtype), axis=dim)


def linear(input, weight, bias=None):
    """input @ weight.T + bias (weight (out, in))."""
    return _linear(input, weight, bias)


def dropout(input, p=0.5, training=True, inplace=False):
    """Each value zeroed with probability ``p`` and the rest scaled by 1/(1 - p) when
    ``training`` (the generator nnk.manual_seed seeds draws the mask), else the input
    itself."""
    p = float(p)
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    x = input if inplace else as_float(input)
    scale = _dropout_scale(np.shape(x), p, x.dtype)
    if inplace:
        x *= scale
        return x
    return x * scale


def mse_loss(input, target, reduction="mean"):
    """The squared error, reduced by its mean (or "sum", or "none": each one)."""
    return _losses.mse_loss(input, target, reduction)


def l1_loss(input, target, reduction="mean"):
    """The absolute error, reduced as mse_loss's (nnk.mae_loss)."""
    return _losses.mae_loss(input, target, reduction)


def _weighted(each, weight, reduction):
    """Each value's loss times ``weight`` (broadcast, as torch's), then reduced."""
    each = each * as_float(weight)
    if reduction == "none":
        return each
    if reduction == "sum":
        return float(np.sum(each))
    return float(np.mean(each)) if each.size else float("nan")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(t log p + (1 - t) log(1 - p)) of probabilities ``input`` (nnk.bce_loss, each log
    clamped at -100 as torch's); ``weight`` rescales each value's loss."""
    if weight is None:
        return _losses.bce_loss(input, target, reduction)
    _losses._check_reduction(reduction)
    return _weighted(_losses.bce_loss(input, target, "none"), weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """binary_cross_entropy of sigmoid(input), computed from the logits without
    overflow (nnk.bce_with_logits); ``weight`` rescales each value's loss and
    ``pos_weight`` the positive term's, -(pos_weight t log s + (1 - t) log(1 - s))."""
    if weight is None and pos_weight is None:
        return _losses.bce_with_logits(input, target, reduction)
    _losses._check_reduction(reduction)
    if pos_weight is None:
        each = _losses.bce_with_logits(input, target, "none")
    else:  # -log s and -log(1 - s), each one kernel call, weighted as torch weighs them
        x = as_float(input)
        t = np.asarray(as_float(target), dtype=x.dtype)
        if t.shape != x.shape:
            raise ValueError(f"binary_cross_entropy_with_logits: target of shape {t.shape} "
                             f"for input of shape {x.shape}")
        positive = _losses.bce_with_logits(x, np.ones_like(x), "none")
        negative = _losses.bce_with_logits(x, np.zeros_like(x), "none")
        each = as_float(pos_weight) * t * positive + (1 - t) * negative
    return _weighted(each, 1.0 if weight is None else weight, reduction)


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """-log softmax(input)[target] from class indices (or a probability target), fused
    with log-sum-exp; input (N, C), (C,) or (N, C, d1, ...) as torch's."""
    return _losses.cross_entropy(input, target, reduction, weight=weight, ignore_index=ignore_index,
                                 label_smoothing=label_smoothing)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-input[i, target[i]] of log-probabilities, reduced as torch's (class weights in the
    mean's divisor)."""
    return _losses.nll_loss(input, target, reduction, weight=weight, ignore_index=ignore_index)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """input normalised over its trailing ``normalized_shape`` (biased variance), then
    times ``weight`` plus ``bias`` when given: one kernel call, as nn.LayerNorm's forward."""
    x = np.ascontiguousarray(as_float(input))
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    shape = tuple(operator.index(s) for s in shape)
    affine = []
    for name, a in (("weight", weight), ("bias", bias)):
        if a is not None:
            a = np.ascontiguousarray(as_float(a), dtype=x.dtype)
            if a.shape != shape:
                raise ValueError(f"layer_norm: {name} of shape {a.shape} for normalized_shape {shape}")
        affine.append(a)
    return _layer_norm(x, shape, *affine, float(eps))[0]


def embedding(input, weight, padding_idx=None):
    """The rows of ``weight`` at the integer ids ``input`` (any shape): (..., dim).
    ``padding_idx`` only keeps a row's gradient at zero in torch; in a forward alone it
    changes nothing, and is taken as torch takes it (checked to lie in range)."""
    ids, w = np.asarray(input), np.asarray(weight)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding takes integer ids, got dtype {ids.dtype}")
    if w.ndim != 2:
        raise ValueError(f"embedding's weight must be 2-D (num_embeddings, dim), got shape {w.shape}")
    n = w.shape[0]
    if padding_idx is not None and not -n <= operator.index(padding_idx) < n:
        raise ValueError(f"padding_idx must be within num_embeddings ({n}), got {padding_idx}")
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        raise IndexError(f"embedding ids must lie in [0, {n}), got {ids.min()}..{ids.max()}")
    return w[ids]


def one_hot(tensor, num_classes=-1):
    """(..., num_classes) int64 array with a 1 at each id of ``tensor`` (non-negative
    integers); num_classes -1: one more than the largest id, as torch's."""
    ids = np.asarray(tensor)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensors (integers), got dtype {ids.dtype}")
    if ids.size and ids.min() < 0:
        raise ValueError("Class values must be non-negative.")
    num_classes = operator.index(num_classes)
    if num_classes == -1:
        if not ids.size:
            raise ValueError("Can not infer total number of classes from empty tensor.")
        num_classes = int(ids.max()) + 1
    if ids.size and ids.max() >= num_classes:
        raise ValueError("Class values must be smaller than num_classes.")
    return (ids[..., None] == np.arange(num_classes)).astype(np.int64)
