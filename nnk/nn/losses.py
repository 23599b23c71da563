"""Loss modules: forward gives the loss, backward dL/d(input)."""
import numpy as np

from .._arrays import as_float
from ..losses import _check_reduction, _cross_entropy, _nll, _pair, _reduced, _reduced_grad
from ..grad_mode import _mode as _grad_mode
from .module import Module, _keep


def _times_upstream(loss, g, grad, class_axis=None):
    """dL/dinput ``g`` times ``grad``, the gradient of what uses the loss (None: 1): one
    number for reduction mean or sum, an array of the loss's own shape for 'none': the
    input's, or with ``class_axis`` (cross-entropy's classes: the last, or 1 for PyTorch's
    (N, C, d1, ...)) g's shape without that axis, also taken as a column (N, 1) where the
    classes are last.  Another shape would broadcast into a wrong answer ((N,) times an
    (N, 1) input's gradient makes (N, N)): a ValueError, as autograd's."""
    if grad is None:
        return g
    grad = np.asarray(grad, g.dtype)
    name = type(loss).__name__
    if loss.reduction != "none":
        if grad.ndim:
            raise ValueError(f"{name}.backward: the loss is one number (reduction="
                             f"{loss.reduction!r}), so is its grad; got shape {grad.shape}")
        return g * grad
    if class_axis is None:
        want = g.shape
    else:
        want = g.shape[:class_axis % g.ndim] + g.shape[class_axis % g.ndim + 1:]
        if grad.shape == want:
            return g * np.expand_dims(grad, class_axis)
    if grad.shape == want or (class_axis == -1 and grad.shape == want + (1,)):
        return g * grad
    raise ValueError(f"{name}.backward: grad has shape {grad.shape} for a loss of shape {want} "
                     f"(reduction='none')")


class _Loss(Module):
    """A loss over a pair of same-shape operands; subclasses name their pointwise kernel
    (``_pointwise``) or define forward and backward themselves (CrossEntropyLoss)."""
    _names = ("input", "target")
    _pointwise = None  # the kernel's name: operands validated and converted once

    _takes_weight = False  # PyTorch's first positional argument is weight=: nnk's by keyword

    def __init__(self, reduction="mean"):
        _check_reduction(reduction, " (class weights go by keyword: weight=...)"
                         if self._takes_weight and not isinstance(reduction, str) else "")
        self.reduction, self._saved = reduction, None

    def forward(self, input, target):
        input, target = _pair(input, target, self._names, self._pointwise)
        value = _reduced(self._pointwise, input, target, self.reduction)
        self._saved = (_keep(input), _keep(target))  # backward reuses the converted pair
        return value if self.reduction == "none" else float(value)

    def backward(self, grad=None):
        """dL/d(input), times ``grad`` when given: a number for reduction mean or sum,
        an array of the loss's shape for 'none' (_times_upstream)."""
        input, target = self._needs("_saved")
        return _times_upstream(self, _reduced_grad(self._pointwise, input, target, self.reduction), grad)

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


def _loss(name, doc, pointwise):
    """A loss module over the pointwise loss kernel ``pointwise``."""
    return type(name, (_Loss,), {"__doc__": doc, "_pointwise": pointwise})


MSELoss = _loss("MSELoss", "Mean squared error, mean over all elements.", "mse")
MAELoss = _loss("MAELoss", "Mean absolute error.", "mae")
L1Loss = MAELoss
BCELoss = _loss("BCELoss", "Binary cross-entropy on probabilities.", "bce")
BCEWithLogitsLoss = _loss("BCEWithLogitsLoss", "Binary cross-entropy on logits (stable).", "bce_logits")


class CrossEntropyLoss(_Loss):
    """Cross-entropy from logits (N, C) or (C,) (or (N, C, d1, ...), as PyTorch's); class
    indices or probability targets.

    forward computes the loss and its gradient together (for class indices one kernel
    pass per row, as the loss over a vocabulary needs) and keeps only the gradient, no
    copy of the logits (32 MB for a batch of GPT logits); backward hands it over, once
    per forward, as PyTorch frees its graph after a backward."""
    _grad_saved = None
    _takes_weight = True

    def __init__(self, reduction="mean", ignore_index=-100, label_smoothing=0.0, *, weight=None):
        super().__init__(reduction)
        self.ignore_index, self.label_smoothing = int(ignore_index), float(label_smoothing)
        # one weight per class, as torch's weight= (checked against the logits' classes)
        self.weight = None if weight is None else np.array(as_float(weight, "weight"))
        if self.weight is not None and self.weight.ndim != 1:
            raise ValueError(f"weight must be 1-D, one value per class; got shape {self.weight.shape}")

    def _value_and_grad(self, input, target, want_grad):
        return _cross_entropy(input, target, self.reduction, True, want_grad, self.ignore_index,
                              self.label_smoothing, self.weight)

    def forward(self, input, target):
        """The loss, and (but inside ``nnk.no_grad()``) its gradient kept for backward."""
        want_grad = _grad_mode.grad_enabled
        value, self._grad_saved = self._value_and_grad(input, target, want_grad)
        self._forward_without_grad = not want_grad
        return value if self.reduction == "none" else float(value)

    def backward(self, grad=None):
        """dL/d(input), times ``grad`` when given: a number for reduction mean or sum,
        an array of the loss's shape for 'none' (_times_upstream)."""
        g, self._grad_saved = self._grad_saved, None
        if g is None:
            if self._forward_without_grad:
                raise self._no_grad_error()
            raise RuntimeError("CrossEntropyLoss.backward: no gradient kept; call forward first "
                               "(each forward's gradient is handed over by one backward)")
        return _times_upstream(self, g, grad, class_axis=1 if g.ndim > 2 else -1)

    def extra_repr(self):
        return (f"reduction={self.reduction!r}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}"
                + ("" if self.weight is None else f", weight={self.weight.tolist()}"))


class NextTokenLoss(CrossEntropyLoss):
    """Cross-entropy at every position of a batch of sequences: logits (B, T, V) and
    target token ids (B, T), the mean over all B T positions.  What nanoGPT writes as
    ``F.cross_entropy(logits.view(-1, V), targets.view(-1))``; backward returns dL/dlogits
    in the logits' shape, so ``nnk.train(gpt, NextTokenLoss(), ...)`` works as it is."""

    def forward(self, input, target):
        input, target = np.asarray(input), np.asarray(target)
        if input.ndim != 3 or target.shape != input.shape[:2]:
            raise ValueError(f"NextTokenLoss takes logits (B, T, V) and targets (B, T), got "
                             f"{input.shape} and {target.shape}")
        self._shape = input.shape
        return super().forward(input.reshape(-1, input.shape[-1]), target.reshape(-1))

    def backward(self, grad=None):
        return super().backward(grad).reshape(self._shape)


class NLLLoss(CrossEntropyLoss):
    """Negative log-likelihood from log-probabilities (N, C) (LogSoftmax's output) and
    class indices, or (N, C, d1, ...) and (N, d1, ...), as torch.nn.NLLLoss; forward keeps
    the gradient as CrossEntropyLoss."""

    def __init__(self, reduction="mean", ignore_index=-100, *, weight=None):
        super().__init__(reduction, ignore_index, weight=weight)

    def _value_and_grad(self, input, target, want_grad):
        return _nll(input, target, self.reduction, self.ignore_index, want_grad, self.weight)

    def extra_repr(self):
        return (f"reduction={self.reduction!r}, ignore_index={self.ignore_index}"
                + ("" if self.weight is None else f", weight={self.weight.tolist()}"))
