"""Optimisers and learning-rate schedules, PyTorch-shaped: ``step()`` updates every
parameter in place with one C kernel call (sgd_step / adam_step) per parameter."""
import math
import warnings

import numpy as np

from . import _C
from ._arrays import as_real


def _non_negative(value, what):
    """A hyper-parameter that must be a real number >= 0 (NaN is not)."""
    value = as_real(value, what)
    if not value >= 0:
        raise ValueError(f"invalid {what}: {value} (must be >= 0)")
    return value


class Optimizer:
    def __init__(self, params, lr):
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        unique = list({id(p): p for p in params}.values())
        if len(unique) < len(params):  # each step must move a parameter once
            warnings.warn("optimizer got some parameters more than once; each is updated once "
                          "per step (as in PyTorch, this will be an error in a future version)",
                          UserWarning, stacklevel=3)
        self.params = unique
        self.lr = _non_negative(lr, "learning rate")

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0


class SGD(Optimizer):
    """p -= lr * v with v = momentum * v + (g + weight_decay * p); Nesterov optional."""

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr)
        momentum, weight_decay = _non_negative(momentum, "momentum"), _non_negative(weight_decay, "weight_decay")
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = momentum, bool(nesterov), weight_decay
        self._velocity = [np.zeros_like(p.data) for p in self.params] if momentum else None

    def step(self):
        for i, p in enumerate(self.params):
            v = self._velocity[i] if self._velocity is not None else None
            _C.sgd_step(p.data, p.grad, v, self.lr, self.momentum, self.weight_decay, self.nesterov)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as torch.optim.Adam (L2 weight decay)."""
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        self.betas = (float(b1), float(b2))
        self.eps, self.weight_decay = _non_negative(eps, "eps"), _non_negative(weight_decay, "weight_decay")
        self._m = [np.zeros_like(p.data) for p in self.params]
        self._v = [np.zeros_like(p.data) for p in self.params]
        self.t = 0

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for p, m, v in zip(self.params, self._m, self._v):
            _C.adam_step(p.data, p.grad, m, v, self.lr, b1, b2, self.eps, c1, c2, self.weight_decay,
                         self._decoupled)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW: each
    step first shrinks every parameter by lr * weight_decay, and the gradient stays as it
    is.  One kernel pass per parameter."""
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)


class _Schedule:
    def __init__(self, optimizer):
        self.optimizer, self.base_lr, self.epoch = optimizer, optimizer.lr, 0

    def step(self):
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)

    def get_last_lr(self):
        return self.optimizer.lr


class StepLR(_Schedule):
    """lr = base * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer)
        self.step_size, self.gamma = int(step_size), float(gamma)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(_Schedule):
    """lr = base * gamma ** epoch."""

    def __init__(self, optimizer, gamma):
        super().__init__(optimizer)
        self.gamma = float(gamma)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma**epoch


class CosineAnnealingLR(_Schedule):
    """lr = eta_min + (base - eta_min) (1 + cos(pi epoch / T_max)) / 2."""

    def __init__(self, optimizer, T_max, eta_min=0.0):
        super().__init__(optimizer)
        self.T_max, self.eta_min = int(T_max), float(eta_min)

    def lr_at(self, epoch):
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
