"""The module base: Parameter, Module, parameter-free layers and Sequential.

Layers have forward and explicit backward, PyTorch-shaped (DESIGN.md "Networks").

``module(x)`` runs forward and keeps what backward needs; ``module.backward(grad)``
returns dL/d(input) (None with ``input_grad=False``, when the input is data) and
*accumulates* parameter gradients into ``p.grad``.  Every
numeric step is a kernel call (GEMM, activation maps and their gradients).

Two rules a user can rely on:

- dtypes: a layer with parameters computes in its parameters' dtype.  A floating-point
  array of another dtype is refused with a TypeError (as PyTorch does) rather than
  silently rounded to float32 or promoted to float64; convert it with ``.astype``.
  Lists, Python numbers and integer or bool arrays carry no float dtype and convert.
- changes after forward: what backward needs is kept as a private copy (``_keep``), so
  changing an input or an output in place after forward cannot change the gradients.
  Arrays that are read-only and own their data are kept as they are (nobody can write
  them): a Sequential marks its large intermediate outputs so (_seal), because setting
  NumPy's flag costs about as much as copying 1 KiB.  Measured on an AMD EPYC (Zen 3):
  a training step of the notes' 2-3-4-1 network went from 21 to 25 us (small copies and
  Sequential's check for repeated layers); a float64 784-256-10 MLP step at batch 64
  (about 1.8 ms) moved by 3 % (median of ten alternating pairs).
"""
import contextlib
import functools
import html
import inspect
import math
import operator
from collections import OrderedDict, namedtuple

import numpy as np

from .. import _C, _random
from .._docs import inherit_docstrings
from .._arrays import _NATIVE, as_float


def _np_dtype(dtype):
    """NumPy's dtype for NumPy's type, its name, or torch's dtype (``torch.float32`` as a
    PyTorch user writes it: read by its name, without importing torch)."""
    if type(dtype).__module__ == "torch":
        dtype = str(dtype).removeprefix("torch.")
    return np.dtype(dtype)


def _dtype(dtype):
    """A layer's parameter dtype: float32 or float64 (see _np_dtype), else a TypeError."""
    dtype = _np_dtype(dtype)
    if dtype not in _NATIVE:
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def _size(value, what):
    """A layer size: an int >= 1, else a ValueError naming it (as PyTorch)."""
    value = operator.index(value)
    if value < 1:
        raise ValueError(f"{what} must be >= 1, got {value}")
    return value


@functools.lru_cache(maxsize=None)
def _takes_input_grad(cls):
    """Whether cls.backward has an ``input_grad`` parameter: nnk's layers all do, a
    user's Module subclass may define backward(self, grad) alone."""
    params = inspect.signature(cls.backward).parameters
    return "input_grad" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def backward_of(module, grad, input_grad=True):
    """``module.backward(grad, input_grad=...)``; a backward without that parameter is
    called with the gradient alone (and its dL/d(input) used or dropped)."""
    if input_grad or not _takes_input_grad(type(module)):
        return module.backward(grad)
    return module.backward(grad, input_grad=False)


# ``_pooled(method)``: method run with nnk's array pool as NumPy's allocator
# (csrc/python/array_pool.c): the arrays a layer makes come from blocks that the step
# before freed instead of fresh pages.  The outermost call sets the pool and puts NumPy's
# allocator back; nested calls find it set.  A method when set on a class.  Module calls
# pass ``unless_small``: a forward whose inputs are all float arrays below the pool's
# smallest kept block (64 KiB) or plain scalars makes arrays of their order, which the
# pool would leave to malloc, so its outermost call keeps NumPy's allocator (a 2 x 2
# nn.Linear's forward 1.83-1.95 -> 1.40-1.44 us, NumPy's W @ x + b 1.60-1.66).
_pooled = _C.pooled


def _uniform(shape, fan_in, dtype):
    """PyTorch's default initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from the
    generator that ``nnk.manual_seed`` seeds, as a Parameter of ``dtype``."""
    bound = 1 / math.sqrt(fan_in)
    return Parameter(_random.generator().uniform(-bound, bound, shape).astype(dtype))


# The thread's switches (csrc/python/thread_flags.c), grad_mode's too: .grad_enabled (False
# inside nnk.no_grad()) and .inputs_owned (the caller owns every array the thread's layers
# are given: _owned_inputs).
_flags = _C.thread_flags
# What forwards keep for backward (the names backward asks _needs for): dropped after a
# forward inside nnk.no_grad().
_SAVED_FOR_BACKWARD = ("_u", "_shape", "_x", "_y", "_ids", "_saved", "_T", "_grad_saved")


def _keep(arr):
    """``arr`` as backward may keep it: a private copy, unless nobody can write it (a
    read-only array that owns its data, or one of a loop that owns its layers' inputs:
    _owned_inputs), so later in-place changes cannot reach it; inside ``nnk.no_grad()``
    itself (Module.__call__ drops it when the call returns)."""
    if (_flags.inputs_owned or (not arr.flags.writeable and arr.base is None)
            or not _flags.grad_enabled):
        return arr
    return arr.copy()


@contextlib.contextmanager
def _owned_inputs():
    """A block whose layers are given only arrays the caller made and will not change
    (GPT.generate's loop: no one else sees them): their forwards keep them uncopied."""
    before = _flags.inputs_owned
    _flags.inputs_owned = True
    try:
        yield
    finally:
        _flags.inputs_owned = before


def _check_grad_shape(layer, g, shape, one_sequence=False):
    """A backward's incoming gradient must have its output's shape, as PyTorch's autograd
    requires: a gradient of the same size in another shape (a transposed (T, B, H) for
    (B, T, H)) would otherwise be reshaped into a wrong answer.  ``one_sequence``: the
    layer also takes one sequence without its batch axis, whose output is shape[1:]."""
    # (an array's own .shape: np.shape's dispatch costs more than the whole check)
    got, shape = g.shape if type(g) is np.ndarray else np.shape(g), tuple(shape)
    if got == shape or (one_sequence and shape[0] == 1 and got == shape[1:]):
        return
    alone = f" (or {shape[1:]} for one sequence)" if one_sequence and shape[0] == 1 else ""
    raise ValueError(f"{layer}.backward: grad has shape {got} for an output of shape {shape}{alone}")


def _layer_input(x, dtype, layer):
    """``x`` as a C-contiguous array of a layer's parameter dtype (see the module notes):
    a float array of another dtype is a TypeError, never silently converted."""
    if type(x) is np.ndarray and x.dtype == dtype and x.flags.c_contiguous:
        return x
    if isinstance(x, (np.ndarray, np.generic)) and np.asarray(x).dtype.kind in "fc":
        arr = as_float(x)
        if arr.dtype != dtype:
            raise TypeError(
                f"{type(layer).__name__} has {dtype} parameters but got {arr.dtype} input: "
                f"convert it with x.astype(np.{dtype}) or build the layer with "
                f"dtype=np.{arr.dtype}")
    else:
        arr = as_float(x)
    return np.asarray(arr, dtype=dtype, order="C")


def _is_device(arg):
    """Whether a ``to`` argument names a device (torch.device, or a string NumPy does not
    read as a dtype: "cpu", "cuda:0")."""
    if type(arg).__name__ == "device":
        return True
    if isinstance(arg, str):
        try:
            np.dtype(arg)
        except TypeError:
            return True
    return False


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict left out: the model's names the state lacked and the state's
    names the model lacks, as torch's (its repr too when both are empty)."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class Parameter:
    """A trainable array: ``.data`` and its gradient ``.grad`` (same shape and dtype).

    ``zero_grad()`` marks the gradient zero without writing its memory: the next backward
    through a Linear writes the gradient instead of adding to it (the same GEMM, without a
    pass of zeros over the weight's size and the GEMM's read of them: a twelfth of a
    784-256-10 float64 training step), and reading ``.grad`` before that gives the zeros.
    A gradient so marked and not touched since (by backward, or by reading or assigning
    ``.grad``) is PyTorch's None: from its creation on, and after ``zero_grad()``, until
    a backward reaches it (``zero_grad(set_to_none=False)`` writes zeros, as torch's, and
    leaves a None as it is).  Optimisers and clip_grad_norm_ pass such a parameter by, as
    torch's pass by a gradient of None: an unused layer's weights do not decay, nor move
    on momentum.

    ``requires_grad`` False (``requires_grad_(False)``, or a module's) freezes it, as in
    PyTorch: optimisers and clip_grad_norm_ pass it by.  Linear, LayerNorm and Embedding
    leave its ``.grad`` as it is and skip that part of their backward (a frozen Linear
    computes dx alone), as torch prunes it; the RNN's kernels still fill it, which nothing
    then reads.  Unfrozen, it starts from zero, as torch's starts from None (what backward
    left while it was frozen would otherwise reach the next step)."""

    __slots__ = ("_data", "_grad", "_zeroed", "_requires_grad")

    def __init__(self, data, requires_grad=True):
        self._grad = None
        self.data = data
        self._requires_grad = bool(requires_grad)

    @property
    def requires_grad(self):
        """False: frozen (optimisers pass it by), as PyTorch's."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if value and not self._requires_grad:
            self._zeroed = True
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` (False: frozen, as PyTorch's); returns the parameter."""
        self.requires_grad = requires_grad
        return self

    @property
    def data(self):
        """The values, a C-contiguous float32 or float64 array (the kernels' operand)."""
        return self._data

    @data.setter
    def data(self, value):
        """As torch's ``p.data = t``: any float32 or float64 array, a non-contiguous one
        (a transpose, a slice) stored as a contiguous copy, since the kernels read and
        update it in place; the gradient follows a change of shape or dtype (zeros)."""
        data = np.asarray(value, order="C")  # (ascontiguousarray would make a 0-d one 1-d)
        if data.dtype not in _NATIVE:
            raise TypeError(f"parameters are float32 or float64, got {data.dtype}")
        self._data = data
        if self._grad is None or self._grad.shape != data.shape or self._grad.dtype != data.dtype:
            self._grad, self._zeroed = np.zeros_like(data), True  # no gradient yet

    @property
    def grad(self):
        """The gradient, an array of the parameter's shape and dtype."""
        if self._zeroed:
            self._grad[...] = 0
            self._zeroed = False
        return self._grad

    @grad.setter
    def grad(self, value):
        """As torch refuses a gradient of another size or type at assignment, not at the
        optimiser's step; nnk keeps a gradient array always (zero_grad() zeroes it), so
        None is refused too, and a non-contiguous array is stored as a contiguous copy."""
        if value is None:
            raise TypeError("Parameter.grad is an array of the parameter's shape and dtype "
                            "(nnk keeps one always: zero_grad() zeroes it), got None")
        grad = np.asarray(value, order="C")
        if grad.dtype != self.data.dtype:
            raise TypeError(f"Parameter.grad must have the parameter's dtype {self.data.dtype}, "
                            f"got {grad.dtype}")
        if grad.shape != self.data.shape:
            raise ValueError(f"Parameter.grad must have the parameter's shape {self.data.shape}, "
                             f"got {grad.shape}")
        self._grad, self._zeroed = grad, False

    def _astype(self, dtype):
        """Values and gradient converted to ``dtype`` in place (Module.to), a gradient
        marked zero staying so (the data setter alone would start it over at zeros)."""
        if self._data.dtype != dtype:
            grad, zeroed = self._grad.astype(dtype), self._zeroed
            self.data = self._data.astype(dtype)
            self._grad, self._zeroed = grad, zeroed

    def _zero_grad(self, set_to_none=True):
        if set_to_none:
            self._zeroed = True
        elif not self._zeroed:  # zeros in place, which torch's optimisers step (weight
            self._grad[...] = 0  # decay, momentum); a gradient that is None stays None

    @property
    def _has_grad(self):
        """False while its gradient is torch's None (see the class): optimisers skip it."""
        return not self._zeroed

    @property
    def shape(self):
        """The array's shape (the gradient has the same)."""
        return self.data.shape

    @property
    def dtype(self):
        """float32 or float64."""
        return self.data.dtype

    @property
    def ndim(self):
        """The number of dimensions."""
        return self.data.ndim

    @property
    def size(self):
        """The number of values (NumPy's ``size``; PyTorch's ``numel()``)."""
        return self.data.size

    def numel(self):
        """The number of values, as a tensor's ``numel()``."""
        return self.data.size

    def numpy(self):
        """The values, sharing their memory, as a tensor's ``numpy()``."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        """The values for NumPy (``np.asarray(p)``, ``np.round(p, 3)``), as a tensor
        gives them, not a 0-d array of one object."""
        values = self._data if dtype is None else self._data.astype(dtype, copy=False)
        if copy is False and values is not self._data:
            raise ValueError(f"the parameter's {self._data.dtype} values as {np.dtype(dtype)} need a copy")
        return values.copy() if copy else values

    def __repr__(self):
        frozen = "" if self._requires_grad else ", requires_grad=False"
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}{frozen})"


class Module:
    """Base class: forward, backward, parameters, state dicts, notebook display.

    ``training`` is True until ``eval()`` (layers such as Dropout read it); ``train()`` and
    ``eval()`` set it on the module and every module inside it, as in PyTorch."""

    training = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        inherit_docstrings(cls)  # an override without a docstring shows its base's
        if "backward" in vars(cls):  # every backward draws its arrays from the pool
            cls.backward = _pooled(vars(cls)["backward"])

    _forward_without_grad = False  # the last forward ran inside nnk.no_grad(): kept nothing

    @functools.partial(_pooled, unless_small=True)
    def __call__(self, *args):
        """``forward(*args)``: the output, with what backward needs kept (inside
        ``nnk.no_grad()``, nothing past the call)."""
        if _flags.grad_enabled:
            return self.forward(*args)
        try:
            return self.forward(*args)
        finally:
            self._drop_saved()

    def _drop_saved(self):
        """Let go of what the last forward of this module and of every module inside it
        (those ``_members`` names, each once) kept for backward (a forward inside
        ``nnk.no_grad()``), and remember why, for backward's error.  Walking
        ``modules()`` instead, with its names and nested generators, cost more than the
        forward: a 2-3-4-1 Sequential's forward took 22.0-24.7 µs inside no_grad (16.9-17.1
        now, 6.9 with gradients), a 2 x 2 Linear's 4.6-4.8 (3.6-3.8 now, 1.8 with
        gradients)."""
        seen, todo = {id(self)}, [self]
        for module in todo:
            state = vars(module)
            for name in _SAVED_FOR_BACKWARD:
                if state.get(name) is not None:
                    state[name] = None
            state["_forward_without_grad"] = True
            for _, member in module._members():
                if isinstance(member, Module) and id(member) not in seen:
                    seen.add(id(member))
                    todo.append(member)

    def forward(self, *args):
        """The layer's output for its input (for most layers x of shape (N, features) or
        (B, T, features); see the class)."""
        raise NotImplementedError(
            f"{type(self).__name__} defines no forward(): a Module subclass implements "
            f"forward(self, x) returning its output")

    def backward(self, grad, input_grad=True):
        """dL/d(input) from dL/d(output) ``grad``; parameter gradients accumulate into
        ``p.grad``.  With ``input_grad=False`` (the input is data) a layer may skip
        dL/d(input) and return None."""
        raise NotImplementedError(
            f"{type(self).__name__} defines no backward(): nnk's backpropagation is explicit, "
            f"so a Module subclass implements backward(self, grad, input_grad=True), which takes dL/d(output), "
            f"calls backward on its layers in reverse order and returns dL/d(input) "
            f"(each layer's backward accumulates its parameters' .grad)")

    def _members(self):
        """(name, Parameter or Module) in attribute order, a list or tuple of modules
        expanded as name.0, name.1, ...: what named_children and named_parameters walk."""
        for name, value in vars(self).items():
            if isinstance(value, (Parameter, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, m in enumerate(value):
                    if isinstance(m, Module):
                        yield f"{name}.{i}", m

    def named_children(self):
        """(name, module) for each module held in an attribute (or a list or tuple of them)."""
        return ((name, m) for name, m in self._members() if isinstance(m, Module))

    def children(self):
        """The modules directly inside this one (see named_children)."""
        return [m for _, m in self.named_children()]

    def named_modules(self, prefix="", _seen=None):
        """(name, module) for this module ("") and every module inside it, depth first,
        each once (PyTorch's order and names: "0", "0.fc", ...)."""
        seen = set() if _seen is None else _seen
        if id(self) in seen:
            return
        seen.add(id(self))
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name, seen)

    def modules(self):
        """This module and every module inside it (see named_modules)."""
        return [m for _, m in self.named_modules()]

    def apply(self, fn):
        """fn(module) on every module inside this one, children first, then on this one
        (PyTorch's order); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def train(self, mode=True):
        """Set ``training`` on this module and every module inside it; returns self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self):
        """``train(False)``: layers such as Dropout become the identity."""
        return self.train(False)

    def _shown_children(self):
        """The children as the repr names them."""
        return self.named_children()

    def named_parameters(self, prefix="", _seen=None):
        """(name, Parameter) in attribute order, each parameter once: a layer used twice
        (or a tied weight) is listed where it first appears, as in PyTorch."""
        seen = set() if _seen is None else _seen
        for name, value in self._members():
            if isinstance(value, Module):
                yield from value.named_parameters(prefix + name + ".", seen)
            elif id(value) not in seen:
                seen.add(id(value))
                yield prefix + name, value

    def parameters(self):
        """Every trainable Parameter, each once (see named_parameters)."""
        return [p for _, p in self.named_parameters()]

    def to(self, *args, dtype=None, device=None):
        """As torch's Module.to: a dtype (float32 or float64, by NumPy's type, its name or
        torch's) converts every parameter and its gradient in place; a device must be the
        CPU ("cpu", torch.device("cpu")), where nnk runs (another is a ValueError).
        Returns the module."""
        for arg in args:
            if _is_device(arg):
                device = arg
            else:
                dtype = arg
        if device is not None and str(device).split(":")[0] != "cpu":
            raise ValueError(f"nnk runs on the CPU; got device {str(device)!r}")
        if dtype is not None:
            dtype = _dtype(dtype)
            for m in self.modules():
                m._to_dtype(dtype)
            for p in self.parameters():
                p._astype(dtype)
        return self

    def double(self):
        """``to(np.float64)``, as torch's."""
        return self.to(np.float64)

    def float(self):
        """``to(np.float32)``, as torch's."""
        return self.to(np.float32)

    def _to_dtype(self, dtype):
        """What a module keeps of its dtype besides its parameters, set by ``to``; most
        modules keep nothing."""

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter of the module, as PyTorch's; returns
        the module (see Parameter.requires_grad)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Set every parameter's ``.grad`` to 0 (backward accumulates into it).  nnk keeps
        a gradient array always, marked zero until the next backward writes it; with
        ``set_to_none`` (the default) it also counts as torch's None until then, so that
        optimisers pass by the parameters no backward reached (see Parameter)."""
        for p in self.parameters():
            p._zero_grad(set_to_none)

    def _parameter_names(self, prefix=""):
        """(name, Parameter) under every name a parameter has, as PyTorch's state_dict
        lists them: each module's own parameters at its place, so that a tied weight or a
        layer used twice comes once for each place it sits (named_parameters lists each
        parameter once)."""
        for name, value in self._members():
            if isinstance(value, Module):
                yield from value._parameter_names(prefix + name + ".")
            else:
                yield prefix + name, value

    def state_dict(self):
        """{name: copy of the parameter's array}, PyTorch's names ("0.weight", ...), a tied
        weight under each of its names (GPT's lm_head.weight and transformer.wte.weight)."""
        return OrderedDict((name, p.data.copy()) for name, p in self._parameter_names())

    def load_state_dict(self, state, strict=True):
        """Copy ``state``'s arrays (NumPy arrays or PyTorch tensors) into the parameters of
        the same names and shapes (cast to their dtype); a missing or extra name is a
        KeyError (with ``strict=False``, as torch's, a missing parameter keeps its values
        and an extra name is passed by), another shape a ValueError, complex, string or
        object values a TypeError, and any of these leaves every parameter as it was.  A
        tied weight needs one of its names; where the state holds several, their values
        must be equal (a ValueError otherwise: the model cannot hold both).  Returns
        (missing_keys, unexpected_keys), as torch's."""
        state = dict(state)  # a copy: modules may rename their entries (_torch_names)
        for name, m in self.named_modules():
            m._torch_names(state, f"{name}." if name else "")
        names = {}  # id(parameter) -> (parameter, its names)
        for name, p in self._parameter_names():
            names.setdefault(id(p), (p, []))[1].append(name)
        given = {i: [n for n in ns if n in state] for i, (_, ns) in names.items()}
        missing = [n for i, (_, ns) in names.items() if not given[i] for n in ns]
        known = {n for _, ns in names.values() for n in ns}
        unexpected = [n for n in state if n not in known]
        if strict and (missing or unexpected):
            raise KeyError(f"state_dict mismatch: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
        values = {}
        for i, (p, _) in names.items():  # every shape and tie checked before any is copied
            if not given[i]:
                continue
            first, *others = given[i]
            values[i] = as_float(state[first], first)  # complex would lose its imaginary part
            if values[i].shape != p.data.shape:
                raise ValueError(f"{first}: expected shape {p.data.shape}, got {values[i].shape}")
            for other in others:
                if not np.array_equal(np.asarray(state[other]), values[i]):
                    raise ValueError(f"{other} differs from {first}: the model ties them (one parameter)")
        for i, value in values.items():
            names[i][0].data[...] = value
        return IncompatibleKeys(missing, unexpected)

    def _torch_names(self, state, prefix):
        """Rename in ``state`` what PyTorch's module of this kind calls otherwise (under
        ``prefix``, this module's place in the model), so that a PyTorch state dict loads
        where the structures differ only in names; most modules have nothing to do."""

    def _needs(self, attr):
        """What the last forward kept for backward under ``attr`` (one of
        _SAVED_FOR_BACKWARD), or a RuntimeError saying why there is none."""
        value = getattr(self, attr, None)
        if value is None:
            if self._forward_without_grad:
                raise self._no_grad_error()
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return value

    def _no_grad_error(self):
        return RuntimeError(f"{type(self).__name__}.backward after a forward inside nnk.no_grad(), which "
                            f"keeps nothing for backward: run the forward with gradients enabled")

    # display
    def extra_repr(self):
        """The arguments shown in the module's repr, Name(extra_repr)."""
        return ""

    def num_parameters(self):
        """How many trainable values the module holds."""
        return sum(p.data.size for p in self.parameters())

    def __repr__(self):
        """Name(extra), or one line per child below it, as PyTorch prints modules."""
        children = [f"({name}): " + repr(child).replace("\n", "\n  ")
                    for name, child in self._shown_children()]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(([extra] if extra else []) + children) + "\n)"

    def _repr_html_(self):
        return (f"<code>{html.escape(repr(self))}</code> "
                f"<small>({self.num_parameters():,} parameters)</small>")


class _ParameterFree(Module):
    """A layer without parameters: nothing to list or zero (a step calls these often)."""

    def named_parameters(self, prefix="", _seen=None):
        return iter(())

    def zero_grad(self, set_to_none=True):
        pass


# From this size on, making a fresh intermediate read-only (one flag, about 0.5 us) is
# cheaper than the next layer's private copy of it (about 0.2 us + 0.1 us per KiB).
_SEAL_BYTES = 16384


def _seal(y, x):
    """Make a large layer output ``y`` read-only when only the next layer of a Sequential
    will see it: a fresh array (it owns its data and is not the layer's input ``x``).
    The next layer then keeps it without a copy (_keep).  Views (Flatten) stay as they
    are: they share the memory of an array someone else may hold."""
    if y.base is None and y is not x and y.flags.writeable:
        y.flags.writeable = False


def _snapshot(module):
    """What a module and every module inside it kept from its last forward (layers keep
    it in underscore attributes), to be put back before the backward of that call."""
    state = [(module, {k: v for k, v in vars(module).items() if k.startswith("_")})]
    for _, child in module.named_children():
        state += _snapshot(child)
    return state


def _restore(state):
    for module, saved in state:
        vars(module).update(saved)


class _ModuleSequence(Module):
    """Modules in the list ``layers``, as torch's Sequential and ModuleList hold them: under
    their positions "0", "1", ... (PyTorch's state-dict keys), iterated, and grown by
    append, extend and insert."""

    def _members(self):
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def append(self, layer):
        """Add ``layer`` at the end, as torch's; returns the container."""
        self._insert(len(self.layers), layer)
        return self

    def extend(self, layers):
        """Add each of ``layers`` at the end, as torch's; returns the container."""
        for layer in layers:
            self.append(layer)
        return self

    def _insert(self, index, layer):
        """``layer`` before position ``index`` (negative: from the end, -n the front;
        beyond -n..n an IndexError), as torch's containers insert."""
        if not isinstance(layer, Module):
            raise TypeError(f"{type(self).__name__} takes Modules, got {type(layer).__name__}")
        n, index = len(self.layers), operator.index(index)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        self.layers.insert(index, layer)


class Sequential(_ModuleSequence):
    """Layers applied in order.  A layer may appear more than once (its parameters are
    shared, listed and stepped once): each use's forward state is kept and put back for
    that use's backward, so the gradients are those of the whole composition.

    Large intermediate outputs, which only the next layer sees, are made read-only
    rather than copied by it (_seal); a custom layer must not write into the array it
    returned after returning it."""

    def __init__(self, *layers):
        self.layers, self._uses = [], None
        self.extend(layers)

    def forward(self, x):
        layers, last = self.layers, len(self.layers) - 1
        uses = None if len(set(map(id, layers))) == len(layers) else []  # layers repeated?
        for i, layer in enumerate(layers):
            y = layer.forward(x)
            if uses is not None:
                uses.append(_snapshot(layer))
            if type(y) is np.ndarray and y.nbytes >= _SEAL_BYTES and i < last:
                _seal(y, x)
            x = y
        self._uses = uses
        return x

    def backward(self, g, input_grad=True):
        """dL/d(input) through every layer; with ``input_grad=False`` the first layer
        skips it (the input is data)."""
        uses = self._uses
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if uses is not None:
                _restore(uses[i])
            g = backward_of(layer, g, input_grad or i > 0)
        return g

    def zero_grad(self, set_to_none=True):
        for layer in self.layers:  # each layer knows its own parameters
            layer.zero_grad(set_to_none)

    def __getitem__(self, i):
        """A layer, or a Sequential of the layers a slice selects (shared, not copied)."""
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def insert(self, index, layer):
        """Put ``layer`` before position ``index`` (negative: from the end; beyond -n..n an
        IndexError, as torch's); returns the Sequential."""
        self._insert(index, layer)
        return self

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td>{i}</td><td>{type(m).__name__}</td><td><code>{html.escape(m.extra_repr())}</code></td>"
            f"<td style='text-align:right'>{m.num_parameters():,}</td></tr>"
            for i, m in enumerate(self.layers))
        return ("<table><thead><tr><th>#</th><th>layer</th><th>shape</th><th>parameters</th></tr>"
                f"</thead><tbody>{rows}</tbody><tfoot><tr><td colspan=3>total</td>"
                f"<td style='text-align:right'>{self.num_parameters():,}</td></tr></tfoot></table>")


class ModuleList(_ModuleSequence):
    """Modules in a list, as torch.nn.ModuleList: indexed (a slice another ModuleList),
    iterated and grown (append, extend, insert), their parameters named "0.weight",
    "1.weight", ...  It has no forward: the module holding it calls its members (and
    their backward, in reverse order) itself."""

    def __init__(self, modules=()):
        self.layers = []
        self.extend(modules)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ModuleList(self.layers[i])
        try:
            return self.layers[operator.index(i)]
        except IndexError:
            raise IndexError(f"index {i} is out of range") from None

    def __setitem__(self, i, module):
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self.layers[operator.index(i)] = module

    def insert(self, index, module):
        """Put ``module`` before position ``index``, as torch's (which returns None)."""
        self._insert(index, module)


class ModuleDict(Module):
    """Modules by name, as torch.nn.ModuleDict: ``d["wte"]`` and ``d.wte`` alike, in the
    order they were added, their parameters under their names ("wte.weight").  A name
    must be a non-empty string without "." that is not already an attribute (``keys``,
    ``training``: a KeyError, as torch's)."""

    def __init__(self, modules=None):
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        module = vars(self).get(key) if isinstance(key, str) else None
        if not isinstance(module, Module):
            raise KeyError(key)
        return module

    def __setitem__(self, key, module):
        if not isinstance(key, str):
            raise TypeError(f"module name should be a string, got {type(key).__name__}")
        if "." in key:
            raise KeyError(f'module name can\'t contain ".", got: {key}')
        if not key:
            raise KeyError('module name can\'t be empty string ""')
        if hasattr(type(self), key) or (key in vars(self) and not isinstance(vars(self)[key], Module)):
            raise KeyError(f"attribute '{key}' already exists")
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        setattr(self, key, module)

    def __delitem__(self, key):
        self[key]  # a KeyError for a name it does not hold
        delattr(self, key)

    def __contains__(self, key):
        return isinstance(key, str) and isinstance(vars(self).get(key), Module)

    def __len__(self):
        return len(self.keys())

    def __iter__(self):
        return iter(self.keys())

    def keys(self):
        """The names, in the order they were added."""
        return [name for name, _ in self.named_children()]

    def values(self):
        """The modules, in the order they were added."""
        return [module for _, module in self.named_children()]

    def items(self):
        """(name, module) pairs, in the order they were added."""
        return list(self.named_children())

    def update(self, modules):
        """Add (or replace) the modules of a mapping or of (name, module) pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key):
        """Remove the module named ``key`` and return it."""
        module = self[key]
        del self[key]
        return module
