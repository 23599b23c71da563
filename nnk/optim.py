"""Optimisers and learning-rate schedules, PyTorch-shaped: ``step()`` updates every
parameter in place with one C kernel call (sgd_step / adam_step) per parameter, or, for
Adam and AdamW, one call (adam_steps) over a whole parameter group, as PyTorch's foreach
form does."""
import bisect
import collections
import math
import operator
import sys
import warnings

import numpy as np

from . import _C
from ._arrays import as_real
from ._docs import inherit_docstrings
from .nn.module import Parameter, _size


def _non_negative(value, what):
    """A hyper-parameter that must be a real number >= 0 (NaN is not)."""
    value = as_real(value, what)
    if not value >= 0:
        raise ValueError(f"invalid {what}: {value} (must be >= 0)")
    return value


def _outside_this_file():
    """The stacklevel of the first caller outside this module, for a warning raised in
    it: the user's line, however many constructors and helpers lie between."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


class Optimizer:
    """Base class: parameter groups, zero_grad, state_dict / load_state_dict, as
    torch.optim.Optimizer.

    ``params`` is an iterable of Parameters or of dicts ``{"params": [...], "lr": ...}``
    (parameter groups: a key a group leaves out takes the optimiser's argument).  The
    per-parameter state (momentum, moments) lives in ``state``, keyed by the parameter's
    position across the groups, which is also how state_dict names it."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        inherit_docstrings(cls)

    def step(self):
        """Update every parameter in place from its ``.grad`` (one C kernel call each)."""
        raise NotImplementedError

    def __init__(self, params, defaults):
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults, self.param_groups, self.state = dict(defaults), [], {}
        for group in groups:
            self._add_group(group)

    def add_param_group(self, param_group):
        """Add a parameter group (a dict with "params"; the options it leaves out take the
        optimiser's), as torch's: for layers unfrozen or added while training.  Its
        parameters take the next state indices; one already in a group is a ValueError."""
        self._add_group(param_group)

    def _add_group(self, group):
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError("parameter groups are dicts with a 'params' list")
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"unknown option(s) in a parameter group: {sorted(unknown)}")
        members = [group["params"]] if isinstance(group["params"], Parameter) else list(group["params"])
        for p in members:  # an array has no .grad to step from (torch: "can only optimize Tensors")
            if not isinstance(p, Parameter):
                raise TypeError(f"an optimizer steps nnk Parameters (a layer's .parameters()), "
                                f"got a {type(p).__name__}")
        unique = list({id(p): p for p in members}.values())
        if len(unique) < len(members):  # each step must move a parameter once
            warnings.warn("optimizer got some parameters more than once; each is updated once "
                          "per step (as in PyTorch, this will be an error in a future version)",
                          UserWarning, stacklevel=_outside_this_file())
        if {id(p) for p in self.params} & {id(p) for p in unique}:
            raise ValueError("some parameters appear in more than one parameter group")
        full = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        self.param_groups.append(self._checked({**full, "params": unique}))

    def _checked(self, group):
        """A group's hyper-parameters validated (subclasses add theirs)."""
        group["lr"] = _non_negative(group["lr"], "learning rate")
        return group

    @property
    def params(self):
        """Every parameter, in group order."""
        return [p for g in self.param_groups for p in g["params"]]

    @property
    def lr(self):
        """The first group's learning rate; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        for g in self.param_groups:
            g["lr"] = _non_negative(value, "learning rate")

    def _state(self, index, p):
        """Parameter ``index``'s state, created empty on first use."""
        return self.state.setdefault(index, {})

    def _indexed(self):
        """(group, index, parameter) over every parameter."""
        i = 0
        for g in self.param_groups:
            for p in g["params"]:
                yield g, i, p
                i += 1

    def _stepped(self):
        """(group, index, parameter) over the parameters a step moves: not the frozen
        ones (requires_grad False), nor those no backward reached since zero_grad (see
        Parameter), which PyTorch's optimisers pass by (their gradient is None)."""
        return ((g, i, p) for g, i, p in self._indexed() if p.requires_grad and p._has_grad)

    def zero_grad(self, set_to_none=True):
        """Set every parameter's ``.grad`` to 0 (``set_to_none``: see Module.zero_grad)."""
        for p in self.params:
            p._zero_grad(set_to_none)

    # torch's options of this kind of optimiser that nnk's has fixed (see _as_torch): a
    # state dict names them, as torch's does, so that torch's optimiser steps from it
    # (torch.optim.SGD reads a group's dampening and has no default for it)
    _torch_fixed = ("maximize",)

    def _as_torch(self):
        """The values of torch's options that mean what this optimiser does."""
        return {"maximize": False, "amsgrad": False, "dampening": 0,
                "decoupled_weight_decay": getattr(self, "_decoupled", False)}

    def state_dict(self):
        """{"state": {index: {name: array or number}}, "param_groups": [{hyper-parameters,
        "params": [indices]}]}: PyTorch's layout, the arrays copied, the groups with the
        options torch's optimiser of this kind reads (``dampening`` 0, ``maximize``
        False, ...) at the values that mean what nnk's does."""
        fixed = {k: v for k, v in self._as_torch().items() if k in self._torch_fixed}
        groups, i = [], 0
        for g in self.param_groups:
            n = len(g["params"])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, **fixed,
                           "params": list(range(i, i + n))})
            i += n
        state = {k: {name: (v.copy() if isinstance(v, np.ndarray) else v) for name, v in st.items()}
                 for k, st in self.state.items()}
        return {"state": state, "param_groups": groups}

    # torch.optim's group options that nnk's optimisers do not have: a loaded group may
    # carry one only with the value that means what nnk does (Adam(amsgrad=True)'s state
    # would otherwise go on as plain Adam without a word).  Dropped: torch's speed and
    # autograd switches, and what its schedules keep in the groups (initial_lr; OneCycleLR
    # and CyclicLR's bounds), none of which changes an update.
    _TORCH_DROPPED = frozenset({"foreach", "fused", "capturable", "differentiable", "initial_lr",
                                 "max_lr", "min_lr", "max_momentum", "base_momentum"})

    def _own_options(self, group):
        """A loaded group's options, torch's that nnk does anyway dropped; ValueError for
        one that would change the updates."""
        as_nnk = self._as_torch()
        options = {}
        for key, value in group.items():
            if key == "params" or key in self._TORCH_DROPPED:
                continue
            if key not in self.defaults and not (key in as_nnk and value == as_nnk[key]):
                own = f" (its {key} is {as_nnk[key]!r})" if key in as_nnk else ""
                raise ValueError(f"loaded state dict has {key}={value!r}, which "
                                 f"nnk.optim.{type(self).__name__} does not do{own}")
            if key in self.defaults:
                options[key] = value
        return options

    def load_state_dict(self, state_dict):
        """Restore what state_dict gave (groups of the same sizes, state of the same shapes);
        what cannot be restored raises before anything changes."""
        groups = state_dict["param_groups"]
        if [len(g["params"]) for g in groups] != [len(g["params"]) for g in self.param_groups]:
            raise ValueError("loaded state dict has parameter groups of other sizes than this optimizer's")
        loaded = [self._checked({**mine, **self._own_options(theirs)})
                  for mine, theirs in zip(self.param_groups, groups)]
        params, state = self.params, {}
        for k, st in state_dict["state"].items():
            k = int(k)
            if not 0 <= k < len(params):
                raise ValueError(f"loaded state dict has state for parameter {k}; this optimizer "
                                 f"has {len(params)}")
            entry = {}
            for name, v in st.items():
                if hasattr(v, "detach") and hasattr(v, "numpy"):  # a PyTorch tensor
                    v = v.detach().cpu().numpy()
                if np.ndim(v) == 0 and not isinstance(v, str):  # a count (PyTorch: a tensor)
                    v = float(v)
                    v = int(v) if v.is_integer() else v
                elif isinstance(v, np.ndarray):
                    v = np.array(v, dtype=params[k].data.dtype)
                    if v.shape != params[k].data.shape:
                        raise ValueError(f"state {k}.{name}: expected shape {params[k].data.shape}, got {v.shape}")
                entry[name] = v
            state[k] = entry
        for mine, options in zip(self.param_groups, loaded):
            mine.update(options)
        self.state = state


class SGD(Optimizer):
    """p -= lr * v with v = momentum * v + (g + weight_decay * p); Nesterov optional."""
    _torch_fixed = ("dampening", "maximize")

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov,
                                      weight_decay=weight_decay))

    def _checked(self, g):
        g = super()._checked(g)
        g["momentum"] = _non_negative(g["momentum"], "momentum")
        g["weight_decay"] = _non_negative(g["weight_decay"], "weight_decay")
        g["nesterov"] = bool(g["nesterov"])
        if g["nesterov"] and g["momentum"] <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        return g

    def __getattr__(self, name):  # momentum, nesterov, weight_decay: the first group's
        if name in ("momentum", "nesterov", "weight_decay"):
            return self.__dict__["param_groups"][0][name]
        raise AttributeError(name)

    def step(self):
        for g, i, p in self._stepped():
            v = None
            if g["momentum"]:
                st = self._state(i, p)
                v = st.get("momentum_buffer")
                if v is None:
                    v = st["momentum_buffer"] = np.zeros_like(p.data)
            _C.sgd_step(p.data, p.grad, v, g["lr"], g["momentum"], g["weight_decay"], g["nesterov"])


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as torch.optim.Adam (L2 weight decay)."""
    _decoupled = False
    _torch_fixed = ("amsgrad", "maximize", "decoupled_weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _checked(self, g):
        g = super()._checked(g)
        b1, b2 = g["betas"]
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must lie in [0, 1), got {g['betas']}")
        g["betas"] = (float(b1), float(b2))
        g["eps"] = _non_negative(g["eps"], "eps")
        g["weight_decay"] = _non_negative(g["weight_decay"], "weight_decay")
        return g

    def __getattr__(self, name):  # betas, eps, weight_decay: the first group's
        if name in ("betas", "eps", "weight_decay"):
            return self.__dict__["param_groups"][0][name]
        raise AttributeError(name)

    def step(self):
        """A group whose parameters share a dtype and a step count (every one, unless
        parameters were added or loaded apart) is one kernel call over all of them,
        threaded as one large array; others go one parameter at a time."""
        groups = {}
        for g, i, p in self._stepped():
            st = self._state(i, p)
            if not st:
                st.update(step=0, exp_avg=np.zeros_like(p.data), exp_avg_sq=np.zeros_like(p.data))
            st["step"] += 1
            groups.setdefault(id(g), (g, []))[1].append((p, st))
        for g, members in groups.values():
            b1, b2 = g["betas"]
            args = (g["lr"], b1, b2, g["eps"])
            if len({st["step"] for _, st in members}) == 1 and len({p.data.dtype for p, _ in members}) == 1:
                t = members[0][1]["step"]
                _C.adam_steps([p.data for p, _ in members], [p.grad for p, _ in members],
                              [st["exp_avg"] for _, st in members], [st["exp_avg_sq"] for _, st in members],
                              *args, 1 - b1 ** t, 1 - b2 ** t, g["weight_decay"], self._decoupled)
                continue
            for p, st in members:
                t = st["step"]
                _C.adam_step(p.data, p.grad, st["exp_avg"], st["exp_avg_sq"], *args, 1 - b1 ** t,
                             1 - b2 ** t, g["weight_decay"], self._decoupled)

    @property
    def t(self):
        """Steps taken (the first parameter's count)."""
        st = self.state.get(0)
        return st["step"] if st else 0


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW: each
    step first shrinks every parameter by lr * weight_decay, and the gradient stays as it
    is.  One kernel pass over each parameter group (Adam.step)."""
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)


class RMSprop(Optimizer):
    """RMSprop (Hinton), as torch.optim.RMSprop: v = alpha v + (1 - alpha) g^2 and
    p -= lr g / (sqrt(v) + eps); centred (the gradient's running mean subtracted from v),
    momentum and weight decay optional.  One kernel pass per parameter."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _checked(self, g):
        g = super()._checked(g)
        for key in ("alpha", "eps", "weight_decay", "momentum"):
            g[key] = _non_negative(g[key], key)
        g["centered"] = bool(g["centered"])
        return g

    def step(self):
        for g, i, p in self._stepped():
            st = self._state(i, p)
            if not st:
                st.update(step=0, square_avg=np.zeros_like(p.data))
                if g["momentum"] > 0:
                    st["momentum_buffer"] = np.zeros_like(p.data)
                if g["centered"]:
                    st["grad_avg"] = np.zeros_like(p.data)
            st["step"] += 1
            _C.rmsprop_step(p.data, p.grad, st["square_avg"], st.get("grad_avg"),
                            st.get("momentum_buffer"), g["lr"], g["alpha"], g["eps"],
                            g["weight_decay"], g["momentum"])


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), as torch.optim.Adagrad: sum += g^2 and
    p -= lr_t g / (sqrt(sum) + eps), lr_t = lr / (1 + (t - 1) lr_decay).  One kernel pass
    per parameter."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _add_group(self, group):
        super()._add_group(group)
        for g, i, p in self._indexed():  # PyTorch creates the state with the group
            if g is self.param_groups[-1]:
                self.state[i] = {"step": 0, "sum": np.full_like(p.data, g["initial_accumulator_value"])}

    def _checked(self, g):
        g = super()._checked(g)
        for key in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            g[key] = _non_negative(g[key], key)
        return g

    def step(self):
        for g, i, p in self._stepped():
            st = self._state(i, p)
            st["step"] += 1
            lr = g["lr"] / (1 + (st["step"] - 1) * g["lr_decay"])
            _C.adagrad_step(p.data, p.grad, st["sum"], lr, g["eps"], g["weight_decay"])


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
