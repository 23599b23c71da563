"""Whether forwards keep what backward needs: ``nnk.no_grad()``, as ``torch.no_grad()``.

nnk's backpropagation is explicit (``module.backward(grad)``), so there is no graph to
record; what a forward does for backward is keep its inputs (a private copy, module.py's
``_keep``) and a few intermediates.  Inside ``no_grad()`` a module called as
``module(x)`` keeps nothing past the call: its inputs are not copied and what it would
have kept is dropped when the call returns (a model's activations are not held after
an evaluation), and a ``backward`` after such a forward raises a RuntimeError that says
why.  The time of a forward stays as it was (measured: a 784-256-10 MLP at batch 64, the
GPT of the bench): its copies are small against its products.  The mode is per thread,
as PyTorch's.
"""
import functools

from . import _C

# The thread's mode, ``_mode.grad_enabled`` (False inside no_grad()): read on every layer
# call, so a C thread-local (csrc/python/thread_flags.c), a third of a threading.local
# attribute's time.
_mode = _C.thread_flags


def is_grad_enabled():
    """Whether forwards keep what backward needs (``torch.is_grad_enabled``): True but
    inside ``no_grad()`` or ``set_grad_enabled(False)``."""
    return _mode.grad_enabled


class _GradMode:
    """A context manager (and a decorator) that sets the mode for its block, then puts
    back the mode it found."""

    _enabled = True

    def __enter__(self):
        self._before = is_grad_enabled()
        _mode.grad_enabled = self._enabled

    def __exit__(self, *exc):
        _mode.grad_enabled = self._before

    def __call__(self, fn):
        """``fn`` run in this mode: ``@nnk.no_grad()`` over a function, as in torch."""
        @functools.wraps(fn)
        def in_mode(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)
        return in_mode

    def _fresh(self):
        return type(self)()


class no_grad(_GradMode):
    """``with nnk.no_grad(): y = net(x)``: forwards keep nothing for backward (no copies of
    their inputs; what they keep is dropped when ``module(x)`` returns), as
    ``torch.no_grad()``; also a decorator, ``@nnk.no_grad()``."""

    _enabled = False


class inference_mode(_GradMode):
    """``with nnk.inference_mode():`` as ``no_grad()`` (nnk has no tensor versions for it to
    skip besides), as ``torch.inference_mode(mode=True)``; ``inference_mode(False)``, as
    torch's, enables gradients for its block; also a decorator."""

    def __init__(self, mode=True):
        self._mode_arg, self._enabled = mode, not mode

    def _fresh(self):
        return type(self)(self._mode_arg)


class enable_grad(_GradMode):
    """``with nnk.enable_grad():`` forwards keep what backward needs again inside a
    ``no_grad()`` block, as ``torch.enable_grad()``; also a decorator."""

    _enabled = True


class set_grad_enabled(_GradMode):
    """``nnk.set_grad_enabled(mode)``, as torch's: sets the mode at once (for the thread),
    and as ``with nnk.set_grad_enabled(False):`` for a block, putting back the mode it
    found when the block ends; also a decorator."""

    def __init__(self, mode):
        if not isinstance(mode, (bool, int)):
            raise TypeError(f"set_grad_enabled(mode): mode must be a bool, got {type(mode).__name__}")
        self._before, self._enabled = is_grad_enabled(), bool(mode)
        _mode.grad_enabled = self._enabled

    def __enter__(self):
        pass  # the mode was set when the object was made; _before is the mode before it

    def __call__(self, fn):
        """``fn`` run in this mode: ``@nnk.set_grad_enabled(False)`` over a function, which
        (as in torch) changes nothing until it runs."""
        _mode.grad_enabled = self._before
        return super().__call__(fn)

    def _fresh(self):
        mode = type(self).__new__(type(self))
        mode._before, mode._enabled = is_grad_enabled(), self._enabled
        _mode.grad_enabled = self._enabled
        return mode
