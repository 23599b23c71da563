"""Loss functions and their gradients (functional forms).

Each loss returns the reduced value; ``*_grad`` returns dL/d(input) for the same
reduction.  Pointwise losses are one C kernel for the value and one for the gradient;
cross-entropy is built on the log-sum-exp kernels.
"""
import numpy as np

from . import _C
from ._dispatch import kernel_ops
from ._arrays import _NATIVE, as_float, as_floats, contiguous
from .softmax import logsumexp, softmax

_LOSS = kernel_ops("loss")
_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, hint=""):
    """A ValueError for anything but "mean", "sum" or "none" (``hint`` appended)."""
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}{hint}")


def _pair(y, t, names, op=None):
    """The operands of pointwise loss ``op``: one float dtype, one shape, C order (0-d
    stays 0-d).  BCE's probabilities must lie in [0, 1] (NaN passes through)."""
    if not (type(y) is np.ndarray and type(t) is np.ndarray and y.dtype == t.dtype
            and y.dtype in _NATIVE):  # the common case needs no conversion
        (y, t), _ = as_floats(y, t, names=names)  # shapes: checked by the kernel's binding
    if op == "bce" and ((y < 0).any() or (y > 1).any()):
        raise ValueError(f"bce: every {names[0]} must be a probability in [0, 1], got values "
                         f"from {np.nanmin(y):g} to {np.nanmax(y):g} (for logits use bce_with_logits)")
    return np.asarray(y, order="C"), np.asarray(t, order="C")


def _reduced(op, y, t, reduction):
    """The loss of an already validated pair (see _pair): one kernel call."""
    if reduction == "none":
        each = np.empty_like(y)
        _C.loss(_LOSS[op], y, t, each)
        return each
    total = _C.loss(_LOSS[op], y, t, None)
    if reduction == "sum":
        return total
    return total / y.size if y.size else float("nan")


def _reduced_grad(op, y, t, reduction):
    """dL/dy of an already validated pair: one kernel call."""
    scale = 1.0 / y.size if (reduction == "mean" and y.size) else 1.0
    dy = np.empty_like(y)
    _C.loss_grad(_LOSS[op], y, t, dy, scale)
    return dy


def _pointwise(op, y, t, reduction, names):
    _check_reduction(reduction)
    return _reduced(op, *_pair(y, t, names, op), reduction)


def _pointwise_grad(op, y, t, reduction, names):
    _check_reduction(reduction)
    return _reduced_grad(op, *_pair(y, t, names, op), reduction)


def mse_loss(input, target, reduction="mean"):
    """Mean (or sum) of (input - target)**2."""
    return _pointwise("mse", input, target, reduction, ("input", "target"))


def mae_loss(input, target, reduction="mean"):
    """Mean (or sum) of |input - target|."""
    return _pointwise("mae", input, target, reduction, ("input", "target"))


def bce_loss(prob, target, reduction="mean"):
    """Binary cross-entropy on probabilities; each log is clamped at -100 (as PyTorch)."""
    return _pointwise("bce", prob, target, reduction, ("prob", "target"))


def bce_with_logits(logits, target, reduction="mean"):
    """Binary cross-entropy on logits, stable for any logit."""
    return _pointwise("bce_logits", logits, target, reduction, ("logits", "target"))


def mse_loss_grad(input, target, reduction="mean"):
    return _pointwise_grad("mse", input, target, reduction, ("input", "target"))


def mae_loss_grad(input, target, reduction="mean"):
    return _pointwise_grad("mae", input, target, reduction, ("input", "target"))


def bce_loss_grad(prob, target, reduction="mean"):
    return _pointwise_grad("bce", prob, target, reduction, ("prob", "target"))


def bce_with_logits_grad(logits, target, reduction="mean"):
    return _pointwise_grad("bce_logits", logits, target, reduction, ("logits", "target"))


def _ce_inputs(logits, target, ignore_index=None, name="cross_entropy"):
    """(logits as (N, C), class indices or None, probabilities (N, C) or None).

    The target is class indices (integers, one per row: shape (N,), or () for 1-D
    logits) or a probability / one-hot matrix of the logits' own shape (any real dtype,
    integer one-hot rows included)."""
    logits = as_float(logits, "logits")
    if logits.ndim not in (1, 2):
        raise ValueError(f"{name}: logits must be (C,) or (N, C), got shape {logits.shape}")
    x = logits.reshape(1, -1) if logits.ndim == 1 else logits
    t = np.asarray(target)
    c = x.shape[1]
    if t.shape == logits.shape and (t.dtype.kind == "f" or logits.ndim == 2):
        return x, None, as_float(t, "target").astype(x.dtype, copy=False).reshape(x.shape)
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and t.shape == logits.shape[:-1]:
            raise TypeError(f"{name}: class indices must be integers, got a {t.dtype} "
                            f"target of shape {t.shape} (a float target is a probability matrix "
                            f"of the logits' shape {logits.shape})")
        raise ValueError(f"{name}: logits have shape {logits.shape}, so the target is "
                         f"class indices of shape {logits.shape[:-1]} or probabilities of shape "
                         f"{logits.shape}; got a {t.dtype} target of shape {t.shape}")
    if t.shape != logits.shape[:-1]:
        multi = " (multi-target is not supported)" if t.ndim >= logits.ndim else ""
        raise ValueError(f"{name}: class indices for logits of shape {logits.shape} must "
                         f"have shape {logits.shape[:-1]}, got {t.shape}{multi}")
    labels = t.reshape(-1)
    counted = labels if ignore_index is None else labels[labels != ignore_index]
    if counted.size and (counted.min() < 0 or counted.max() >= c):
        raise ValueError(f"{name}: class labels must lie in [0, {c}), got "
                         f"{counted.min()}..{counted.max()}")
    return x, labels, None


def _class_weight(weight, x, name):
    """``weight`` (None, or one number per class, as PyTorch's ``weight=``) as a vector
    of the logits' dtype; another length is a ValueError."""
    if weight is None:
        return None
    w = as_float(weight, "weight").astype(x.dtype, copy=False)
    if w.shape != (x.shape[1],):
        raise ValueError(f"{name}: weight must hold one value per class, shape ({x.shape[1]},); "
                         f"got shape {w.shape}")
    return w


def _cross_entropy(logits, target, reduction, want_loss, want_grad, ignore_index=-100,
                   label_smoothing=0.0, weight=None):
    """(the loss as ``cross_entropy`` gives it, dL/dlogits) -- each only when wanted.

    Class indices go through one fused kernel (per row: max, one exp pass, the loss and
    softmax - onehot; rows labelled ``ignore_index`` give 0 and 0, and the mean is over
    the others, as PyTorch's); probability targets through log-sum-exp and softmax.
    label_smoothing eps mixes the target with the uniform distribution: (1 - eps) onehot
    + eps / C (PyTorch's definition).  Class weights w, as PyTorch's: with class indices
    row i counts w[t_i] times and the mean divides by the sum of the counted rows' w[t_i]
    (the smoothing's term is -sum_c w_c log p_ic, over the same sum); with probabilities
    each class's term counts w_c times and the mean divides by the rows."""
    _check_reduction(reduction)
    if np.ndim(logits) > 2:  # torch's (N, C, d1, ...): every position a row of C scores
        return _positions_as_rows(
            lambda x, t: _cross_entropy(x, t, reduction, want_loss, want_grad, ignore_index,
                                        label_smoothing, weight),
            logits, target, reduction, "cross_entropy")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing}")
    ignore_index = int(ignore_index)
    x, labels, probs = _ce_inputs(logits, target, ignore_index)
    rows, classes = x.shape
    w = _class_weight(weight, x, "cross_entropy")
    if labels is not None:
        kept = labels != ignore_index
        picked = np.where(kept, labels, 0)  # a valid index on every row, masked by kept
        w_row = None if w is None else np.where(kept, w[picked], 0).astype(x.dtype)
        counted = int(kept.sum()) if w is None else float(w_row.sum())  # the mean's divisor
        scale = 1.0 / counted if reduction == "mean" and counted else 1.0
        x = contiguous(x)
        each = np.empty(rows, x.dtype)
        g = np.empty_like(x) if want_grad else None
        # weighted rows: the kernel's plain softmax - onehot, weighted and scaled below
        _C.cross_entropy(x, labels.astype(np.int64, copy=False), ignore_index,
                         scale if w is None else 1.0, each, g)
        if w is not None:
            if eps:  # -sum_c w_c log p_c = lse sum(w) - w.x, lse = nll + x[label]
                lse = each + x[np.arange(rows), picked]
                smooth = np.where(kept, lse * w.sum() - x @ w, 0).astype(x.dtype)
                if want_grad:  # its gradient sum(w) p - w; p = g + onehot on kept rows
                    p = g.copy()
                    p[kept, labels[kept]] += 1
                    g_smooth = w.sum() * p - np.where(kept[:, None], w, 0)
            each = each * w_row
            if want_grad:
                g *= w_row[:, None]
            if eps:
                each = ((1 - eps) * each + (eps / classes) * smooth).astype(x.dtype)
                if want_grad:
                    g = ((1 - eps) * g + (eps / classes) * g_smooth).astype(x.dtype)
            if want_grad and scale != 1.0:
                g *= x.dtype.type(scale)
        elif eps:  # (1 - eps) nll + eps (lse - mean x); lse = nll + x[label]
            smooth = np.where(kept, each + x[np.arange(rows), picked] - x.mean(axis=1), 0).astype(x.dtype)
            each = (1 - eps) * each + eps * smooth
            if want_grad:  # softmax - (1 - eps) onehot - eps / C, on the counted rows
                g[kept, labels[kept]] += x.dtype.type(eps * scale)
                g[kept] -= x.dtype.type(eps * scale / classes)
    else:
        counted = rows
        scale = 1.0 / rows if reduction == "mean" and rows else 1.0
        if eps:
            probs = probs * (1 - eps) + eps / classes
        if w is not None:
            probs = probs * w
        each = logsumexp(x, axis=1) * probs.sum(axis=1) - np.einsum("ij,ij->i", probs, x) \
            if want_loss else None
        g = softmax(x, axis=1) * probs.sum(axis=1, keepdims=True) - probs if want_grad else None
        if g is not None and scale != 1.0:
            g *= scale
    if not want_grad:
        g = None
    value = None
    if want_loss:
        if reduction == "none":
            value = each if np.ndim(logits) == 2 else each[0]
        else:
            total = float(each.sum())
            # an empty mean (no rows, or every row ignored) is NaN, as PyTorch's
            value = total if reduction == "sum" else total / counted if counted else float("nan")
    return value, None if g is None else g.reshape(np.shape(logits))


def _positions_as_rows(rows_loss, logits, target, reduction, name):
    """``rows_loss`` ((N, C) scores, a target per row -> (loss, gradient)) over logits
    (N, C, d1, ...) with class indices (N, d1, ...) or probabilities of the logits' shape,
    as PyTorch's: the classes moved last and every position made a row (a copy), the mean
    over all counted positions; the loss per position (N, d1, ...) and the gradient come
    back in the logits' layout."""
    x, t = np.asarray(logits), np.asarray(target)
    classes, at = x.shape[1], np.moveaxis(x, 1, -1)
    positions = at.shape[:-1]  # (N, d1, ...)
    if t.shape == x.shape and t.dtype.kind == "f":
        rows_t = np.moveaxis(t, 1, -1).reshape(-1, classes)
    elif t.shape == positions:
        rows_t = t.reshape(-1)
    else:
        raise ValueError(f"{name}: logits of shape {x.shape} take class indices of shape "
                         f"{positions} or probabilities of shape {x.shape}; got a target of shape {t.shape}")
    value, g = rows_loss(at.reshape(-1, classes), rows_t)
    if value is not None and reduction == "none":
        value = value.reshape(positions)
    return value, None if g is None else np.moveaxis(g.reshape(at.shape), -1, 1)


# The fused kernel's "ignore" label: none (labels are checked to lie in [0, C)).
_NO_LABEL = -1


def cross_entropy(logits, target, reduction="mean", *, weight=None, ignore_index=-100,
                  label_smoothing=0.0):
    """-log softmax(logits)[target] from class indices, or -sum p log softmax for a
    probability / one-hot target; logits (N, C) or (C,), or (N, C, d1, ...) with a target
    per position, as PyTorch's.  Fused with log-sum-exp: no overflow for any finite
    logits.  weight (one per class), ignore_index and label_smoothing as in PyTorch."""
    return _cross_entropy(logits, target, reduction, True, False, ignore_index, label_smoothing,
                          weight)[0]


def cross_entropy_grad(logits, target, reduction="mean", *, weight=None, ignore_index=-100,
                       label_smoothing=0.0):
    """dL/dlogits of ``cross_entropy``: softmax - onehot (times sum p for soft targets)."""
    return _cross_entropy(logits, target, reduction, False, True, ignore_index, label_smoothing,
                          weight)[1]


def nll_loss(log_probs, target, reduction="mean", *, weight=None, ignore_index=-100):
    """-log_probs[i, target[i]] from log-probabilities (N, C) or (C,) and class indices
    (or (N, C, d1, ...) with class indices (N, d1, ...)), as torch.nn.functional.nll_loss
    (ignored rows give 0; the mean is over the others; with class weights w, row i counts
    w[target[i]] times and the mean divides by their sum)."""
    return _nll(log_probs, target, reduction, ignore_index, True, weight)[0]


def _nll(log_probs, target, reduction, ignore_index, want_grad, weight=None):
    """(loss, dL/dlog_probs) of the negative log-likelihood."""
    _check_reduction(reduction)
    if np.ndim(log_probs) > 2:  # torch's (N, C, d1, ...): every position a row
        return _positions_as_rows(lambda x, t: _nll(x, t, reduction, ignore_index, want_grad, weight),
                                  log_probs, target, reduction, "nll_loss")
    x, labels, probs = _ce_inputs(log_probs, target, int(ignore_index), "nll_loss")
    if labels is None:
        raise ValueError("nll_loss takes class indices, not probabilities")
    w = _class_weight(weight, x, "nll_loss")
    rows = x.shape[0]
    kept = labels != int(ignore_index)
    picked = np.where(kept, labels, 0)
    w_row = kept.astype(x.dtype) if w is None else np.where(kept, w[picked], 0).astype(x.dtype)
    counted = int(kept.sum()) if w is None else float(w_row.sum())  # the mean's divisor
    # ignored rows give 0 whatever they hold (-inf times their weight 0 would be NaN)
    each = (-np.where(kept, x[np.arange(rows), picked], 0) * w_row).astype(x.dtype)
    if reduction == "none":
        value = each if np.ndim(log_probs) == 2 else each[0]
    else:
        total = float(each.sum())
        value = total if reduction == "sum" else total / counted if counted else float("nan")
    g = None
    if want_grad:
        scale = 1.0 / counted if reduction == "mean" and counted else 1.0
        g = np.zeros_like(x)
        g[kept, labels[kept]] = -scale * w_row[kept]
        g = g.reshape(np.shape(log_probs))
    return value, g
