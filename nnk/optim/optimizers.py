"""Optimisers, PyTorch-shaped: ``step()`` updates every parameter in place with one C
kernel call (sgd_step / adam_step) per parameter, or, for Adam and AdamW, one call
(adam_steps) over a whole parameter group, as PyTorch's foreach form does."""
import sys
import warnings

import numpy as np

from .. import _C
from .._arrays import as_float, as_real
from .._docs import inherit_docstrings
from ..nn.module import Parameter


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

    # options read as attributes (opt.momentum, opt.betas): the first group's
    _first_group_options = ()

    def __getattr__(self, name):
        if name in type(self)._first_group_options:
            return self.__dict__["param_groups"][0][name]
        raise AttributeError(name)

    def _checked(self, group):
        """A group's hyper-parameters validated (subclasses add theirs); ``maximize``, which
        every optimiser of nnk's takes, as a bool."""
        group["lr"] = _non_negative(group["lr"], "learning rate")
        if "maximize" in group:
            group["maximize"] = bool(group["maximize"])
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

    def _stepped_by_group(self):
        """(group, [(index, parameter), ...]) for each group, the parameters a step moves:
        not the frozen ones (requires_grad False), nor those no backward reached since
        zero_grad (see Parameter), which PyTorch's optimisers pass by (their gradient is
        None)."""
        # (the slots themselves, not the properties: a step of a small net is its calls)
        i = 0
        for g in self.param_groups:
            params = g["params"]
            yield g, [(i + j, p) for j, p in enumerate(params) if p._requires_grad and not p._zeroed]
            i += len(params)

    def _stepped(self):
        """(group, index, parameter) over the parameters a step moves (_stepped_by_group)."""
        return ((g, i, p) for g, members in self._stepped_by_group() for i, p in members)

    def zero_grad(self, set_to_none=True):
        """Set every parameter's ``.grad`` to 0 (``set_to_none``: see Module.zero_grad)."""
        for p in self.params:
            p._zero_grad(set_to_none)

    # torch's options of this kind of optimiser that nnk's has fixed (see _as_torch): a
    # state dict names them, as torch's does, so that torch's optimiser steps from it
    # (torch.optim.Adam reads a group's decoupled_weight_decay)
    _torch_fixed = ()

    def _as_torch(self):
        """The values of torch's options that mean what this optimiser does."""
        return {"decoupled_weight_decay": getattr(self, "_decoupled", False)}

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
                    v = as_float(v, f"state {k}.{name}")  # complex would lose its imaginary part
                    v = np.array(v, dtype=params[k].data.dtype)
                    if v.shape != params[k].data.shape:
                        raise ValueError(f"state {k}.{name}: expected shape {params[k].data.shape}, got {v.shape}")
                entry[name] = v
            state[k] = entry
        for mine, options in zip(self.param_groups, loaded):
            mine.update(options)
        self.state = state


class SGD(Optimizer):
    """p -= lr * v with v = momentum * v + (1 - dampening) * (g + weight_decay * p) (the
    first step's v the gradient term whole), or Nesterov's g + momentum * v, as
    torch.optim.SGD, arguments in its order; ``maximize`` climbs the objective."""
    _first_group_options = ("momentum", "dampening", "weight_decay", "nesterov", "maximize")

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _checked(self, g):
        g = super()._checked(g)
        g["momentum"] = _non_negative(g["momentum"], "momentum")
        g["dampening"] = as_real(g["dampening"], "dampening")
        g["weight_decay"] = _non_negative(g["weight_decay"], "weight_decay")
        g["nesterov"] = bool(g["nesterov"])
        if g["nesterov"] and (g["momentum"] <= 0 or g["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        return g

    def step(self):
        # a group's options read once, and its parameters' slots (a stepped parameter's
        # gradient is its _grad): a step of a small net is its Python (the notes' 2-3-4-1
        # network's six parameters, with sgd_step's FASTCALL: 5.6 -> 2.9 us on Zen 3)
        for g, members in self._stepped_by_group():
            lr, momentum, decay = g["lr"], g["momentum"], g["weight_decay"]
            nesterov, damping, maximize = g["nesterov"], g["dampening"], g["maximize"]
            for i, p in members:
                v, dampening = None, damping
                if momentum:
                    st = self._state(i, p)
                    v = st.get("momentum_buffer")
                    if v is None:  # torch's first buffer is the gradient term, undamped
                        v, dampening = st.setdefault("momentum_buffer", np.zeros_like(p._data)), 0.0
                _C.sgd_step(p._data, p._grad, v, lr, momentum, decay, nesterov, dampening, maximize)


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as torch.optim.Adam (L2 weight decay).

    ``amsgrad``: AMSGrad (Reddi et al.), the running maximum of the second moment under the
    square root (state ``max_exp_avg_sq``); ``maximize``: the parameters climb the
    objective (the gradient's negative is stepped on), both as torch's."""
    _decoupled = False
    _torch_fixed = ("decoupled_weight_decay",)
    _first_group_options = ("betas", "eps", "weight_decay", "amsgrad", "maximize")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _checked(self, g):
        g = super()._checked(g)
        b1, b2 = g["betas"]
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must lie in [0, 1), got {g['betas']}")
        g["betas"] = (float(b1), float(b2))
        g["eps"] = _non_negative(g["eps"], "eps")
        g["weight_decay"] = _non_negative(g["weight_decay"], "weight_decay")
        g["amsgrad"] = bool(g["amsgrad"])
        return g

    def step(self):
        """A group whose parameters share a dtype and a step count (every one, unless
        parameters were added or loaded apart) is one kernel call over all of them,
        threaded as one large array; others go one parameter at a time."""
        groups = {}
        for g, i, p in self._stepped():
            st = self._state(i, p)
            if not st:
                st.update(step=0, exp_avg=np.zeros_like(p.data), exp_avg_sq=np.zeros_like(p.data))
            if g["amsgrad"] and "max_exp_avg_sq" not in st:  # (also a group turned AMSGrad)
                st["max_exp_avg_sq"] = np.zeros_like(p.data)
            st["step"] += 1
            groups.setdefault(id(g), (g, []))[1].append((p, st))
        for g, members in groups.values():
            b1, b2 = g["betas"]
            args = (g["lr"], b1, b2, g["eps"])
            decay = (g["weight_decay"], self._decoupled)
            if len({st["step"] for _, st in members}) == 1 and len({p.data.dtype for p, _ in members}) == 1:
                t = members[0][1]["step"]
                maxima = [st["max_exp_avg_sq"] for _, st in members] if g["amsgrad"] else None
                _C.adam_steps([p.data for p, _ in members], [p.grad for p, _ in members],
                              [st["exp_avg"] for _, st in members], [st["exp_avg_sq"] for _, st in members],
                              *args, 1 - b1 ** t, 1 - b2 ** t, *decay, maxima, g["maximize"])
                continue
            for p, st in members:
                t = st["step"]
                _C.adam_step(p.data, p.grad, st["exp_avg"], st["exp_avg_sq"], *args, 1 - b1 ** t,
                             1 - b2 ** t, *decay, st.get("max_exp_avg_sq") if g["amsgrad"] else None,
                             g["maximize"])

    @property
    def t(self):
        """Steps taken (the first parameter's count)."""
        st = self.state.get(0)
        return st["step"] if st else 0


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW: each
    step first shrinks every parameter by lr * weight_decay, and the gradient stays as it
    is.  One kernel pass over each parameter group (Adam.step); ``amsgrad`` and
    ``maximize`` as Adam's."""
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


class RMSprop(Optimizer):
    """RMSprop (Hinton), as torch.optim.RMSprop: v = alpha v + (1 - alpha) g^2 and
    p -= lr g / (sqrt(v) + eps); centred (the gradient's running mean subtracted from v),
    momentum, weight decay and ``maximize`` optional.  One kernel pass per parameter."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

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
                            g["weight_decay"], g["momentum"], g["maximize"])


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), as torch.optim.Adagrad: sum += g^2 and
    p -= lr_t g / (sqrt(sum) + eps), lr_t = lr / (1 + (t - 1) lr_decay); ``maximize``
    climbs the objective.  One kernel pass per parameter."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

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
            _C.adagrad_step(p.data, p.grad, st["sum"], lr, g["eps"], g["weight_decay"], g["maximize"])
