"""The training loop, its history, and a finite-difference gradient check."""
import numpy as np

from . import _random
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
    if not enabled:
        return range(epochs), None
    try:
        from tqdm.auto import tqdm  # renders in terminals and notebooks alike
    except ImportError:
        return range(epochs), None
    bar = tqdm(range(epochs), desc="training", unit="epoch", leave=False)
    return bar, bar


def _backward_params_only(net, grad):
    """Backward for the parameters' sake: the data itself needs no gradient."""
    from .nn import Linear, Sequential

    if isinstance(net, (Linear, Sequential)):
        return net.backward(grad, input_grad=False)
    return net.backward(grad)


def train(net, loss_fn, optimizer, X, Y, epochs, batch_size=None, shuffle=True, progress=True):
    """Fit ``net`` to (X, Y): full-batch gradient descent when batch_size is None,
    otherwise mini-batches (reshuffled each epoch when ``shuffle``; the order comes from
    the generator ``nnk.manual_seed`` seeds).  Returns a History of per-epoch losses."""
    X, Y = np.asarray(X), np.asarray(Y)  # each layer converts its own input (ids stay ids)
    n = X.shape[0]
    if Y.shape[0] != n:
        raise ValueError(f"X has {n} samples but Y has {Y.shape[0]}")
    if epochs < 0 or (batch_size is not None and batch_size < 1):
        raise ValueError("epochs must be >= 0 and batch_size >= 1")
    history = History()
    steps, bar = _progress(int(epochs), progress)
    for _ in steps:
        if batch_size is None or batch_size >= n:
            batches = [(X, Y)]
        else:
            order = _random.generator().permutation(n) if shuffle else np.arange(n)
            batches = [(X[order[i:i + batch_size]], Y[order[i:i + batch_size]])
                       for i in range(0, n, batch_size)]
        total = 0.0
        for xb, yb in batches:
            loss = loss_fn(net(xb), yb)
            net.zero_grad()
            _backward_params_only(net, loss_fn.backward())
            optimizer.step()
            total += loss * xb.shape[0]
        history.loss.append(total / n)
        if bar is not None:
            bar.set_postfix(loss=f"{history.loss[-1]:.4g}")
    if bar is not None:
        bar.close()
    return history


def _numeric_grad(fn, x, eps):
    """Central differences of scalar fn() with respect to every entry of x (in place)."""
    g = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):  # one perturbation per entry: the method itself
        old = flat[i]
        flat[i] = old + eps
        hi = fn()
        flat[i] = old - eps
        lo = fn()
        flat[i] = old
        gflat[i] = (hi - lo) / (2 * eps)
    return g


def gradcheck(f, *inputs, eps=1e-6, atol=1e-6, rtol=1e-4, seed=0):
    """Compare analytic gradients with central finite differences (in float64).

    ``f`` is a Module (its input gradient and every parameter gradient are checked for
    L = sum(f(x) * R) with a fixed random R) or a function returning ``(value, grads)``
    with one gradient per input.  Returns True, or raises AssertionError naming the
    worst entry.
    """
    from .nn import Module

    inputs = [np.array(as_float(x), dtype=np.float64) for x in inputs]
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
        _, grads = f(*inputs)
        checks += [(f"input {i}", x, np.asarray(g)) for i, (x, g) in enumerate(zip(inputs, grads))]
    for name, x, analytic in checks:
        numeric = _numeric_grad(loss, x, eps)
        err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if err.size and err.max() > 0:
            i = np.unravel_index(np.argmax(err), err.shape)
            raise AssertionError(f"gradcheck: {name}{list(i)}: analytic {analytic[i]:.10g}, "
                                 f"numeric {numeric[i]:.10g}")
    return True
