"""Learning-rate schedules, as torch.optim.lr_scheduler (the same names, so that
``from nnk.optim.lr_scheduler import StepLR`` reads as in PyTorch; nnk.optim has them
too): each sets every parameter group's lr from the group's starting lr and the number
of steps taken, and their state dicts load across the two libraries."""
import bisect
import collections
import math
import operator

from .._docs import inherit_docstrings
from ..nn.module import _size
from .optimizers import _non_negative


class _Schedule:
    """A learning-rate schedule: each group's lr from its own starting lr and the epoch."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        inherit_docstrings(cls)

    def lr_at(self, epoch, base):
        """The learning rate after ``epoch`` steps of a group that started at ``base``."""
        raise NotImplementedError

    def __init__(self, optimizer):
        self.optimizer, self.epoch = optimizer, 0
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]

    @property
    def base_lr(self):
        """The first group's starting learning rate."""
        return self.base_lrs[0]

    def step(self):
        """Advance one epoch (OneCycleLR: one batch) and set every group's lr."""
        self.epoch += 1
        self._set_lrs(self.epoch)

    def _set_lrs(self, epoch):
        for i, (g, base) in enumerate(zip(self.optimizer.param_groups, self.base_lrs)):
            g["lr"] = self._group_lr(i, epoch, base)

    def _group_lr(self, group, epoch, base):
        """Group ``group``'s lr after ``epoch`` steps (the same rule for every group but
        in LambdaLR)."""
        return self.lr_at(epoch, base)

    def get_last_lr(self):
        """Each group's current learning rate."""
        return [g["lr"] for g in self.optimizer.param_groups]

    # torch's name of each hyperparameter a state dict carries -> (our attribute, its type)
    _torch_hyper = {}

    def state_dict(self):
        """PyTorch's layout (``last_epoch``, ``base_lrs``, ``_last_lr``, ``_step_count``
        and the schedule's settings under torch's names), so that either library's
        schedule loads the other's."""
        state = {"last_epoch": self.epoch, "base_lrs": list(self.base_lrs),
                 "_last_lr": self.get_last_lr(), "_step_count": self.epoch + 1}
        state.update({key: getattr(self, attr) for key, (attr, _) in self._torch_hyper.items()})
        return state

    def load_state_dict(self, state):
        """Restore what state_dict gave, or a PyTorch schedule's state dict: the epoch,
        each group's starting lr, and the settings it names, as torch's load does (the
        other entries of torch's, its own bookkeeping, are not needed here).  The
        learning rates themselves come back with the optimiser's state."""
        epoch = state["last_epoch"] if "last_epoch" in state else state["epoch"]  # (older nnk)
        base_lrs = [float(b) for b in state["base_lrs"]]
        if len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(f"the state holds {len(base_lrs)} groups' starting lrs; the optimiser "
                             f"has {len(self.optimizer.param_groups)} groups")
        hyper = {attr: kind(state[key]) for key, (attr, kind) in self._torch_hyper.items() if key in state}
        self.epoch, self.base_lrs = int(epoch), base_lrs
        for attr, value in hyper.items():
            setattr(self, attr, value)


class StepLR(_Schedule):
    """lr = base * gamma ** (epoch // step_size)."""

    _torch_hyper = {"step_size": ("step_size", int), "gamma": ("gamma", float)}

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer)
        # both checked: a step_size of 0 divided by zero at the first step
        self.step_size, self.gamma = _size(step_size, "step_size"), _non_negative(gamma, "gamma")

    def lr_at(self, epoch, base):
        return base * self.gamma ** (epoch // self.step_size)


class MultiStepLR(_Schedule):
    """lr = base * gamma ** (the milestones reached), a milestone named twice counting
    twice, as torch.optim.lr_scheduler.MultiStepLR."""

    # torch keeps the milestones as a Counter, and its state dict so
    _torch_hyper = {"milestones": ("_milestones", collections.Counter), "gamma": ("gamma", float)}

    def __init__(self, optimizer, milestones, gamma=0.1):
        super().__init__(optimizer)
        self._milestones = collections.Counter(operator.index(m) for m in milestones)
        self.gamma = _non_negative(gamma, "gamma")

    @property
    def milestones(self):
        """The milestones, sorted, each as often as it was named."""
        return sorted(self._milestones.elements())

    def lr_at(self, epoch, base):
        return base * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class LambdaLR(_Schedule):
    """lr = base * lr_lambda(epoch), one function for every group or one per group, as
    torch.optim.lr_scheduler.LambdaLR (a warm-up or any rule written as a function).  Its
    state dict holds no code: torch's records its functions as None, and so does this."""

    def __init__(self, optimizer, lr_lambda):
        super().__init__(optimizer)
        n = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(lambdas) != n:
            raise ValueError(f"Expected {n} lr_lambdas, but got {len(lambdas)}")
        for f in lambdas:
            if not callable(f):
                raise TypeError(f"lr_lambda must be a function of the epoch, got {type(f).__name__}")
        self.lr_lambdas = lambdas
        self._set_lrs(0)

    def _group_lr(self, group, epoch, base):
        return base * self.lr_lambdas[group](epoch)

    def lr_at(self, epoch, base):
        """The first group's rule (each group has its own: _group_lr)."""
        return self._group_lr(0, epoch, base)

    def state_dict(self):
        return {**super().state_dict(), "lr_lambdas": [None] * len(self.lr_lambdas)}


class ExponentialLR(_Schedule):
    """lr = base * gamma ** epoch."""

    _torch_hyper = {"gamma": ("gamma", float)}

    def __init__(self, optimizer, gamma):
        super().__init__(optimizer)
        self.gamma = _non_negative(gamma, "gamma")  # a negative one made the lr negative

    def lr_at(self, epoch, base):
        return base * self.gamma**epoch


class CosineAnnealingLR(_Schedule):
    """lr = eta_min + (base - eta_min) (1 + cos(pi epoch / T_max)) / 2."""

    _torch_hyper = {"T_max": ("T_max", int), "eta_min": ("eta_min", float)}

    def __init__(self, optimizer, T_max, eta_min=0.0):
        super().__init__(optimizer)
        self.T_max, self.eta_min = _size(T_max, "T_max"), _non_negative(eta_min, "eta_min")

    def lr_at(self, epoch, base):
        return self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LinearLR(_Schedule):
    """lr = base * f, f going linearly from start_factor to end_factor over total_iters
    steps and staying there (a warm-up), as torch.optim.lr_scheduler.LinearLR."""

    _torch_hyper = {"start_factor": ("start", float), "end_factor": ("end", float),
                    "total_iters": ("total", int)}

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        if not (0 < start_factor <= 1 and 0 <= end_factor <= 1):
            raise ValueError("start_factor must lie in (0, 1] and end_factor in [0, 1]")
        super().__init__(optimizer)
        self.start, self.end, self.total = float(start_factor), float(end_factor), int(total_iters)
        self._set_lrs(0)

    def lr_at(self, epoch, base):
        t = min(epoch, self.total) / self.total if self.total else 1.0
        return base * (self.start + (self.end - self.start) * t)


class ConstantLR(_Schedule):
    """lr = base * factor for the first total_iters steps, base after (a warm-up at a
    constant fraction), as torch.optim.lr_scheduler.ConstantLR."""

    _torch_hyper = {"factor": ("factor", float), "total_iters": ("total", int)}

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5):
        if not 0 <= factor <= 1:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        total_iters = operator.index(total_iters)
        if total_iters < 0:
            raise ValueError(f"total_iters must be >= 0, got {total_iters}")
        super().__init__(optimizer)
        self.factor, self.total = float(factor), total_iters
        self._set_lrs(0)

    def lr_at(self, epoch, base):
        return base if epoch >= self.total else base * self.factor


class PolynomialLR(_Schedule):
    """lr = base * (1 - min(epoch, total_iters) / total_iters) ** power, reaching 0 at
    total_iters, as torch.optim.lr_scheduler.PolynomialLR."""

    _torch_hyper = {"total_iters": ("total", int), "power": ("power", float)}

    def __init__(self, optimizer, total_iters=5, power=1.0):
        super().__init__(optimizer)
        self.total, self.power = _size(total_iters, "total_iters"), _non_negative(power, "power")

    def lr_at(self, epoch, base):
        return base * (1.0 - min(epoch, self.total) / self.total) ** self.power


class OneCycleLR(_Schedule):
    """The one-cycle policy (Smith), as torch.optim.lr_scheduler.OneCycleLR: the learning
    rate rises from max_lr/div_factor to max_lr over the first pct_start of total_steps
    and anneals to max_lr/div_factor/final_div_factor by the last (cosine or linear);
    with cycle_momentum, SGD's momentum or Adam's beta1 moves the other way between
    max_momentum and base_momentum.  step() once per batch."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4):
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR needs total_steps, or epochs and steps_per_epoch")
            total_steps = int(epochs) * int(steps_per_epoch)
        if int(total_steps) <= 0 or not 0 <= pct_start <= 1:
            raise ValueError("total_steps must be > 0 and pct_start in [0, 1]")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy is 'cos' or 'linear', got {anneal_strategy!r}")
        groups = optimizer.param_groups
        maxes = list(max_lr) if isinstance(max_lr, (list, tuple)) else [max_lr] * len(groups)
        self.total, self.anneal = int(total_steps), anneal_strategy
        self.warm_end = float(pct_start * self.total) - 1
        self.max_lrs = [float(m) for m in maxes]
        self.min_lrs = [m / div_factor / final_div_factor for m in self.max_lrs]
        self.momentum = None
        if cycle_momentum:
            key = "betas" if "betas" in groups[0] else "momentum"
            if key == "momentum" and not groups[0].get("momentum"):
                raise ValueError("optimizer must support momentum or beta1 with cycle_momentum")
            self.momentum = (key, float(base_momentum), float(max_momentum))
        # the bounds also in the groups, where torch's OneCycleLR reads them: a torch
        # schedule then steps on from this optimiser's state dict (nnk's loads drop them)
        for g, m, low in zip(groups, self.max_lrs, self.min_lrs):
            g["lr"] = g["initial_lr"] = m / div_factor
            g["max_lr"], g["min_lr"] = m, low
            if cycle_momentum:
                g["max_momentum"], g["base_momentum"] = float(max_momentum), float(base_momentum)
        super().__init__(optimizer)
        self._apply(0)

    def _phase(self, step, start_value, peak, end_value):
        """The value at ``step``: start -> peak over the warm-up, peak -> end after."""
        if step <= self.warm_end:
            a, b, pct = start_value, peak, step / self.warm_end if self.warm_end > 0 else 1.0
        else:
            a, b = peak, end_value
            pct = (step - self.warm_end) / (self.total - 1 - self.warm_end)
        if self.anneal == "cos":
            return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (b - a) * pct + a

    def _apply(self, step):
        if step > self.total:  # PyTorch's bound (the step after the last is still allowed)
            raise ValueError(f"OneCycleLR stepped {step} times with total_steps = {self.total}")
        for g, base, peak, low in zip(self.optimizer.param_groups, self.base_lrs, self.max_lrs,
                                      self.min_lrs):
            g["lr"] = self._phase(step, base, peak, low)
            if self.momentum is not None:
                key, m_low, m_high = self.momentum
                m = self._phase(step, m_high, m_low, m_high)
                g[key] = (m, g[key][1]) if key == "betas" else m

    def step(self):
        self.epoch += 1
        self._apply(self.epoch)


class ReduceLROnPlateau:
    """Cut every group's lr by ``factor`` once the metric given to ``step(metric)`` has
    not improved for more than ``patience`` steps, as torch.optim.lr_scheduler's:
    improvement beyond ``threshold`` (relative or absolute, ``mode`` "min" or "max"),
    ``cooldown`` steps of rest after a cut, no lr below ``min_lr`` (one, or one per
    group), a cut smaller than ``eps`` not made.  Its state dict is torch's."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if not factor < 1.0:
            raise ValueError("Factor should be < 1.0.")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"expected {n} min_lrs, got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, [float(m) for m in min_lr]
        else:
            self.default_min_lr, self.min_lrs = min_lr, [float(min_lr)] * n
        self.optimizer, self.factor, self.eps = optimizer, float(factor), float(eps)
        self.patience, self.cooldown = operator.index(patience), operator.index(cooldown)
        self.mode, self.threshold, self.threshold_mode = mode, float(threshold), threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.best, self.num_bad_epochs, self.cooldown_counter = self.mode_worse, 0, 0
        self.last_epoch = 0

    def _is_better(self, value):
        """torch's test, its quirks kept (a relative threshold scales a negative best the
        other way), so that both libraries cut at the same steps."""
        if self.mode == "min":
            return value < (self.best * (1 - self.threshold) if self.threshold_mode == "rel"
                            else self.best - self.threshold)
        return value > (self.best * (1 + self.threshold) if self.threshold_mode == "rel"
                        else self.best + self.threshold)

    def step(self, metrics):
        """One step with the metric just measured (a validation loss, say)."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # bad steps in the rest after a cut do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            groups = self.optimizer.param_groups
            if len(self.min_lrs) != len(groups) and self.default_min_lr is not None:
                self.min_lrs = [float(self.default_min_lr)] * len(groups)
            for g, floor in zip(groups, self.min_lrs):
                new = max(g["lr"] * self.factor, floor)
                if g["lr"] - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self):
        """Each group's current learning rate."""
        return [g["lr"] for g in self.optimizer.param_groups]

    _STATE = ("factor", "default_min_lr", "min_lrs", "patience", "cooldown", "eps", "last_epoch",
              "mode_worse", "mode", "threshold", "threshold_mode", "best", "cooldown_counter",
              "num_bad_epochs")

    def state_dict(self):
        """torch's ReduceLROnPlateau state: its settings and where it stands (the groups'
        lrs as ``_last_lr``, read from the optimiser, as the other schedules give them)."""
        return {**{key: getattr(self, key) for key in self._STATE}, "_last_lr": self.get_last_lr()}

    def load_state_dict(self, state):
        """Restore a state of either library's (entries it does not know are passed by)."""
        for key in self._STATE:
            if key in state:
                setattr(self, key, state[key])
