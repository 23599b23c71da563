"""nnk equals PyTorch (float64) for the same weights and data: forward values, losses,
every gradient, and optimiser trajectories.  Skips where PyTorch is not installed."""
import numpy as np
import pytest

import nnk
from nnk import nn, optim

pytestmark = pytest.mark.usefixtures("isa")  # kernel results: once per ISA

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

X = np.random.default_rng(0).standard_normal((7, 3))
ACTS = {
    "relu": (nn.ReLU, torch.nn.ReLU), "sigmoid": (nn.Sigmoid, torch.nn.Sigmoid),
    "tanh": (nn.Tanh, torch.nn.Tanh), "leaky": (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    "gelu": (nn.GELU, torch.nn.GELU), "gelu_tanh": (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    "identity": (nn.Identity, torch.nn.Identity),
}


def pair(act, out=2, seed=0):
    a_n, a_t = ACTS[act]
    nnk.manual_seed(seed)
    ours = nn.Sequential(nn.Linear(3, 5), a_n(), nn.Linear(5, 4), a_n(), nn.Linear(4, out))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), a_t(), torch.nn.Linear(5, 4), a_t(),
                                 torch.nn.Linear(4, out)).double()
    with torch.no_grad():
        for p_t, p_n in zip(theirs.parameters(), ours.parameters()):
            p_t.copy_(torch.from_numpy(p_n.data))
    return ours, theirs


LOSSES = {
    "mse": (nn.MSELoss, torch.nn.MSELoss, lambda y: np.sin(np.arange(y.size)).reshape(y.shape)),
    "mae": (nn.MAELoss, torch.nn.L1Loss, lambda y: np.cos(np.arange(y.size)).reshape(y.shape)),
    "bce_logits": (nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss,
                   lambda y: (np.arange(y.size).reshape(y.shape) % 2).astype(float)),
    "ce": (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, lambda y: np.arange(y.shape[0]) % y.shape[1]),
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("act", sorted(ACTS))
def test_forward_loss_and_gradients_equal_torch(act, loss):
    ours, theirs = pair(act, out=3)
    l_n, l_t, make_target = LOSSES[loss]
    y = ours(X)
    target = make_target(y)
    lf = l_n()
    value = lf(y, target)
    ours.zero_grad()
    dx = ours.backward(lf.backward())

    xt = torch.from_numpy(X.copy()).requires_grad_()
    yt = theirs(xt)
    tt = torch.from_numpy(target)
    vt = l_t()(yt, tt)
    vt.backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-13, atol=1e-15)
    assert value == pytest.approx(vt.item(), rel=1e-13, abs=1e-15)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-11, atol=1e-14)
    for p_n, p_t in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p_n.grad, p_t.grad.numpy(), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("kind", ["sgd", "momentum", "nesterov", "adam"])
def test_optimizer_trajectories_equal_torch(kind):
    ours, theirs = pair("tanh", out=1)
    target = np.linspace(-1, 1, X.shape[0]).reshape(-1, 1)
    if kind == "adam":
        o_n, o_t = optim.Adam(ours.parameters(), lr=0.01), torch.optim.Adam(theirs.parameters(), lr=0.01)
    else:
        kw = dict(lr=0.05, momentum=0.0 if kind == "sgd" else 0.9, nesterov=kind == "nesterov",
                  weight_decay=0.01 if kind == "nesterov" else 0.0)
        o_n, o_t = optim.SGD(ours.parameters(), **kw), torch.optim.SGD(theirs.parameters(), **kw)
    lf, lt = nn.MSELoss(), torch.nn.MSELoss()
    xt, tt = torch.from_numpy(X), torch.from_numpy(target)
    for _ in range(40):
        lf(ours(X), target)
        ours.zero_grad()
        ours.backward(lf.backward())
        o_n.step()
        o_t.zero_grad()
        lt(theirs(xt), tt).backward()
        o_t.step()
    for p_n, p_t in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p_n.data, p_t.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_bce_on_probabilities_equals_torch():
    ours, theirs = pair("tanh", out=1)
    ours.layers.append(nn.Sigmoid())
    theirs.append(torch.nn.Sigmoid())
    target = (np.arange(X.shape[0]) % 2).astype(float).reshape(-1, 1)
    y = ours(X)
    lf = nn.BCELoss()
    value = lf(y, target)
    ours.zero_grad()
    dx = ours.backward(lf.backward())
    xt = torch.from_numpy(X.copy()).requires_grad_()
    vt = torch.nn.BCELoss()(theirs(xt), torch.from_numpy(target))
    vt.backward()
    assert value == pytest.approx(vt.item(), rel=1e-13)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-11, atol=1e-14)
    for p_n, p_t in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p_n.grad, p_t.grad.numpy(), rtol=1e-11, atol=1e-14)
