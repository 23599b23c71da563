"""The training loop, its history, and a finite-difference gradient check."""
import operator
import sys

import numpy as np

from . import _random
from .nn.module import _pooled, backward_of
from ._arrays import as_float


class History:
    """Per-epoch mean losses of a ``nnk.train`` run; ``plot()`` draws them (matplotlib)."""

    def __init__(self):
        self.loss = []

    def __len__(self):
        return len(self.loss)

    def __repr__(self):
        if not self.loss:
            return "History(no epochs)"
        return f"History({len(self.loss)} epochs, loss {self.loss[0]:.6g} -> {self.loss[-1]:.6g})"

    def plot(self, ax=None, logy=True):
        """Draw the loss per epoch (log scale by default) on ``ax`` or a new figure."""
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("History.plot needs matplotlib (pip install matplotlib)") from None
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3))
        ax.plot(np.arange(1, len(self.loss) + 1), self.loss)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        if logy and all(v > 0 for v in self.loss):
            ax.set_yscale("log")
        return ax


def _progress(epochs, enabled):
    """A tqdm bar of ``epochs`` steps (terminals and notebooks alike), or None.  It is
    advanced by hand after each epoch, with the loss beside it, and stays when done."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=epochs, desc="training", unit="epoch")


def _backward_params_only(net, grad):
    """Backward for the parameters' sake: the data itself needs no gradient."""
    return backward_of(net, grad, input_grad=False)


def _data_parallel(net):
    """(rank, world size, the DDP wrapper) when ``net`` is a DistributedDataParallel of
    more than one rank, else None (nnk.distributed is only looked at when imported)."""
    dist = sys.modules.get("nnk.distributed")
    if dist is None or not isinstance(net, dist.DistributedDataParallel):
        return None
    world = dist.get_world_size()
    return (dist.get_rank(), world, dist) if world > 1 else None


def _epoch_order(n, shuffle, parallel):
    """The epoch's sample order: a permutation from ``nnk.manual_seed``'s generator (or
    0..n-1).  Under data parallelism every rank draws (the generators stay in step) and
    rank 0's order is used by all, so unseeded ranks still walk the same batches."""
    order = _random.generator().permutation(n) if shuffle else np.arange(n)
    if parallel is not None and shuffle:
        order = parallel[2].broadcast(np.ascontiguousarray(order, dtype=np.int64))
    return order


def _slice_weight(loss_fn, part, whole, world):
    """What a rank's loss gradient is scaled by so that the ranks' averaged gradients are
    the whole batch's: a mean over ``part`` of ``whole`` samples counts part / whole of
    it (ranks' slices may differ by one); a sum counts whole."""
    if getattr(loss_fn, "reduction", "mean") == "sum":
        return float(world)
    return part * world / whole


@_pooled  # the steps' layer calls nested in one pool scope, not four scopes a step
def train(net, loss_fn, optimizer, X, Y, epochs, batch_size=None, shuffle=True, progress=True):
    """Fit ``net`` to (X, Y): full-batch gradient descent when batch_size is None,
    otherwise mini-batches (reshuffled each epoch when ``shuffle``; the order comes from
    the generator ``nnk.manual_seed`` seeds).  Returns a History of per-epoch losses.

    ``net`` may be a ``nnk.distributed.DistributedDataParallel``: then ``batch_size`` is
    the global batch, each rank takes its slice of every batch (np.array_split: 15 on 2
    ranks is 8 + 7, weighted by size), the batches are those one process with the same
    seed walks, the History is the global loss (the same on every rank) and only rank 0
    draws the progress bar."""
    X, Y = np.asarray(X), np.asarray(Y)  # each layer converts its own input (ids stay ids)
    if X.ndim == 0 or Y.ndim == 0:
        raise ValueError(f"X and Y must hold samples along their first axis, got shapes "
                         f"{X.shape} and {Y.shape}")
    n = X.shape[0]
    if Y.shape[0] != n:
        raise ValueError(f"X has {n} samples but Y has {Y.shape[0]}")
    if n == 0:
        raise ValueError("train: X and Y hold no samples, so there is nothing to fit")
    epochs = operator.index(epochs)  # 2.5 epochs had run two
    batch_size = None if batch_size is None else operator.index(batch_size)
    if epochs < 0 or (batch_size is not None and batch_size < 1):
        raise ValueError("epochs must be >= 0 and batch_size >= 1")
    parallel = _data_parallel(net)
    rank, world = (parallel[0], parallel[1]) if parallel else (0, 1)
    if parallel:  # the ranks split one dataset's batches: it must be the same size everywhere
        sizes = parallel[2].all_reduce(np.array([n, -n], np.int64), op="max")
        if sizes[0] != -sizes[1]:
            raise ValueError(f"train: the ranks hold datasets of different sizes ({-sizes[1]} to "
                             f"{sizes[0]} samples); every rank passes the whole dataset")
    history = History()
    bar = _progress(int(epochs), progress and rank == 0)
    for _ in range(int(epochs)):
        if batch_size is None or batch_size >= n:
            batches = [np.arange(n)] if parallel else [slice(None)]
        else:
            order = _epoch_order(n, shuffle, parallel)
            batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
        total = 0.0
        for batch in batches:
            whole = n if isinstance(batch, slice) else len(batch)
            mine = np.array_split(batch, world)[rank] if parallel else batch
            net.zero_grad()
            if parallel and len(mine) == 0:  # a batch smaller than the world: nothing here
                net.sync_gradients()
            else:
                xb, yb = X[mine], Y[mine]
                loss = loss_fn(net(xb), yb)
                grad = loss_fn.backward()
                if parallel:
                    grad = grad * _slice_weight(loss_fn, len(mine), whole, world)
                _backward_params_only(net, grad)
                summed = parallel and getattr(loss_fn, "reduction", "mean") == "sum"
                total += loss * (whole if summed else xb.shape[0])  # the ranks' sum: the batch's
            optimizer.step()
        if parallel:
            total = float(parallel[2].all_reduce(np.array([total], np.float64))[0])
        history.loss.append(total / n)
        if bar is not None:
            bar.set_postfix(loss=f"{history.loss[-1]:.4g}", refresh=False)
            bar.update(1)
    if bar is not None:
        bar.close()
    return history


def _numeric_grad(fn, x, eps):
    """Central differences of scalar fn() with respect to every entry of x (in place).
    The step is what x's dtype actually stores of old +- eps, so float32 rounding of the
    perturbed value does not bias the quotient."""
    g = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):  # one perturbation per entry: the method itself
        old = flat[i]
        flat[i] = old + eps
        up = float(flat[i])
        hi = fn()
        flat[i] = old - eps
        down = float(flat[i])
        lo = fn()
        flat[i] = old
        gflat[i] = (hi - lo) / (up - down)
    return g


# Default (eps, atol, rtol) per dtype the check runs in.  float64: a step near the cube
# root of its epsilon (1e-16 ** (1/3) ~ 5e-6) balances truncation against rounding.
# float32 holds about 7 digits, so a float64-sized step would be lost in rounding: its
# step and tolerances are those torch.autograd.gradcheck's users take for float32.
_GRADCHECK_DEFAULTS = {np.dtype(np.float64): (1e-6, 1e-6, 1e-4),
                       np.dtype(np.float32): (1e-3, 1e-3, 1e-2)}


def gradcheck(f, *inputs, eps=None, atol=None, rtol=None, seed=0):
    """Compare analytic gradients with central finite differences.

    ``f`` is a Module (its input gradient and every parameter gradient are checked for
    L = sum(f(x) * R) with a fixed random R) or a function returning ``(value, grads)``
    with one gradient per input.  A Module is checked in its parameters' dtype, a
    function in float64; ``eps``, ``atol`` and ``rtol`` default by that dtype (float64:
    1e-6, 1e-6, 1e-4; float32: 1e-3, 1e-3, 1e-2).  Returns True, or raises
    AssertionError naming the worst entry.
    """
    from .nn import Module

    dtype = np.dtype(np.float64)
    if isinstance(f, Module):
        params = f.parameters()
        dtype = params[0].data.dtype if params else dtype
    d_eps, d_atol, d_rtol = _GRADCHECK_DEFAULTS[dtype]
    eps = d_eps if eps is None else eps
    atol = d_atol if atol is None else atol
    rtol = d_rtol if rtol is None else rtol
    inputs = [np.array(as_float(x), dtype=dtype) for x in inputs]
    checks = []
    if isinstance(f, Module):
        rng = np.random.default_rng(seed)
        R = rng.standard_normal(np.shape(f(*inputs)))
        loss = lambda: float(np.sum(f(*inputs) * R))  # noqa: E731
        f(*inputs)
        f.zero_grad()
        dx = f.backward(R)
        checks.append(("input", inputs[0], dx))
        analytic = {name: p.grad.copy() for name, p in f.named_parameters()}
        for name, p in f.named_parameters():
            checks.append((name, p.data, analytic[name]))
    else:
        loss = lambda: float(f(*inputs)[0])  # noqa: E731
        returned = f(*inputs)
        if not (isinstance(returned, tuple) and len(returned) == 2
                and isinstance(returned[1], (tuple, list))):
            raise TypeError("gradcheck: f must return (value, grads), grads a tuple or list with "
                            f"one gradient per input; got {type(returned).__name__}"
                            + (f" of {len(returned)}" if isinstance(returned, tuple) else ""))
        grads = list(returned[1])
        if len(grads) != len(inputs):
            raise AssertionError(f"gradcheck: f returned {len(grads)} gradients for {len(inputs)} inputs")
        checks += [(f"input {i}", x, None if g is None else np.asarray(g))
                   for i, (x, g) in enumerate(zip(inputs, grads))]
    for name, x, analytic in checks:
        if analytic is None:
            raise AssertionError(f"gradcheck: {name}: no analytic gradient (None)")
        if np.shape(analytic) != x.shape:
            raise AssertionError(f"gradcheck: {name}: analytic gradient of shape {np.shape(analytic)}, "
                                 f"the input's shape is {x.shape}")
        numeric = _numeric_grad(loss, x, eps)
        err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        err = np.where(np.isnan(err), np.inf, err)  # a NaN on either side disagrees, as in torch
        if err.size and err.max() > 0:
            i = np.unravel_index(np.argmax(err), err.shape)
            raise AssertionError(f"gradcheck: {name}{[int(j) for j in i]}: analytic {analytic[i]:.10g}, "
                                 f"numeric {numeric[i]:.10g}")
    return True
