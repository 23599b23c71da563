"""Layers, losses, optimisers, schedules, the training loop, gradcheck and lstsq."""
import math

import numpy as np
import pytest

import nnk
from nnk import nn, optim

pytestmark = pytest.mark.usefixtures("isa")  # kernel results: once per ISA

X5 = np.array([[0.5, 1.0], [1.5, 0.5], [0.0, 1.0], [1.0, 1.5], [1.0, 0.0]])
Y5 = np.array([[1.5], [2.0], [1.0], [2.5], [1.0]])
ACTIVATIONS = [nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Identity, lambda: nn.LeakyReLU(0.1),
               nn.GELU, lambda: nn.GELU("tanh")]


def mlp(act, dtype=np.float64, seed=0):
    nnk.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 3, dtype=dtype), act(), nn.Linear(3, 4, dtype=dtype), act(),
                         nn.Linear(4, 1, dtype=dtype))


def test_linear_forward_by_hand():
    layer = nn.Linear.from_weights([[1.0, -2.0], [3.0, 1.0]], [0.0, -2.0])
    np.testing.assert_array_equal(layer(np.array([2.0, -1.0])), [4.0, 3.0])  # sheet ex. 1.1
    np.testing.assert_array_equal(layer(np.array([[2.0, -1.0], [0.0, 0.0]])), [[4, 3], [0, -2]])


def test_linear_backward_by_hand():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    layer = nn.Linear.from_weights(W, [0.5, -0.5])
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    g = np.array([[1.0, 0.0], [2.0, 1.0]])
    layer(x)
    dx = layer.backward(g)
    np.testing.assert_array_equal(dx, g @ W)
    np.testing.assert_array_equal(layer.weight.grad, g.T @ x)
    np.testing.assert_array_equal(layer.bias.grad, g.sum(axis=0))
    layer(x)
    layer.backward(g)  # gradients accumulate, as in PyTorch
    np.testing.assert_array_equal(layer.weight.grad, 2 * g.T @ x)
    layer.zero_grad()
    assert not layer.weight.grad.any() and not layer.bias.grad.any()


def test_linear_without_bias_and_batched_leading_dims():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((4, 3)).astype(np.float32)
    layer = nn.Linear.from_weights(W)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    y = layer(x)
    assert y.shape == (2, 5, 4) and y.dtype == np.float32
    np.testing.assert_allclose(y, x @ W.T, rtol=1e-5, atol=1e-6)
    g = rng.standard_normal((2, 5, 4)).astype(np.float32)
    dx = layer.backward(g)
    np.testing.assert_allclose(dx, g @ W, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.weight.grad, g.reshape(-1, 4).T @ x.reshape(-1, 3),
                               rtol=1e-5, atol=1e-5)
    assert layer.backward(g, input_grad=False) is None
    with pytest.raises(ValueError, match="grad has shape"):
        layer.backward(g.reshape(10, 4))


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_gradcheck_mlp_every_activation(act):
    x = X5 + 0.01  # keep ReLU kinks away from the finite differences
    assert nnk.gradcheck(mlp(act), x)


def test_gradcheck_catches_a_wrong_gradient():
    class Wrong(nn.Tanh):
        def backward(self, g):
            return super().backward(g) * 1.01

    with pytest.raises(AssertionError, match="analytic"):
        nnk.gradcheck(nn.Sequential(nn.Linear(2, 2), Wrong()), X5)


def test_gradcheck_catches_gradients_that_cannot_be_compared_entry_by_entry():
    """A NaN gradient, one of another shape (broadcasting would hide it) and a missing one
    each fail, where comparisons that are False for NaN and broadcasting passed all four;
    a None gradient is named as missing, for a 0-d input too (not a TypeError)."""
    sq = lambda grad: (lambda x: (float(np.sum(x ** 2)), [grad(x)]))  # noqa: E731
    with pytest.raises(AssertionError, match=r"input 0\[0\]: analytic nan, numeric 2"):
        nnk.gradcheck(sq(lambda x: np.full_like(x, np.nan)), np.ones(3))
    with pytest.raises(AssertionError, match=r"shape \(3,\), the input's shape is \(3, 1\)"):
        nnk.gradcheck(sq(lambda x: 2 * x.ravel()), np.ones((3, 1)))
    with pytest.raises(AssertionError, match=r"shape \(\), the input's shape is \(3,\)"):
        nnk.gradcheck(sq(lambda x: np.array(2.0)), np.ones(3))
    for x in (3.0, np.ones(3)):
        with pytest.raises(AssertionError, match=r"input 0: no analytic gradient \(None\)"):
            nnk.gradcheck(sq(lambda x: None), x)
    with pytest.raises(AssertionError, match="1 gradients for 2 inputs"):
        nnk.gradcheck(lambda x, y: (float(np.sum(x * y)), [y]), np.ones(3), np.arange(3.0))
    assert nnk.gradcheck(sq(lambda x: 2 * x), np.ones((3, 1)))
    assert nnk.gradcheck(sq(lambda x: 2 * x), 3.0)  # a 0-d input
    with pytest.raises(AssertionError, match=r"input 0\[\]: analytic 9, numeric 6"):
        nnk.gradcheck(sq(lambda x: 3 * x), 3.0)


def test_gradcheck_names_what_a_function_must_return():
    """A function that returns its output alone, or (value, grad) with a bare array for
    the grads, is told what gradcheck takes, not a TypeError from deep inside."""
    for f in (lambda x: x ** 2, lambda x: (float(np.sum(x ** 2)), 2 * x), lambda x: (1.0, [2 * x], 0)):
        with pytest.raises(TypeError, match=r"f must return \(value, grads\)"):
            nnk.gradcheck(f, np.ones(3))


def test_softmax_layer_gradcheck():
    nnk.manual_seed(3)
    assert nnk.gradcheck(nn.Sequential(nn.Linear(2, 4), nn.Softmax()), X5)


def test_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Linear(2, 2).backward(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.ReLU().backward(np.ones(2))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.MSELoss().backward()


def test_parameters_order_and_state_dict():
    net = mlp(nn.ReLU)
    names = [n for n, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias",
                     "4.weight", "4.bias"]
    state = net.state_dict()
    other = mlp(nn.ReLU, seed=99)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other(X5), net(X5))
    with pytest.raises(KeyError):
        other.load_state_dict({"nope": 1})


def test_a_refused_load_changes_nothing():
    """A state that cannot load (a shape, GPT's untied lm_head, an optimiser state of
    another shape) raises before any parameter or state changes, where the parameters
    before the bad one were already overwritten; a float64 GPT state loads into a
    float32 GPT (its tied weight compared in the state, not after rounding)."""
    net, other = mlp(nn.ReLU), mlp(nn.ReLU, seed=99)
    keep = other.state_dict()
    bad = net.state_dict()
    bad["4.bias"] = np.ones(2)
    with pytest.raises(ValueError, match=r"4.bias: expected shape \(1,\), got \(2,\)"):
        other.load_state_dict(bad)
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value, keep[name])
    for kind in (complex, str, object):  # complex would drop its imaginary part
        bad = {k: v.astype(kind) for k, v in net.state_dict().items()}
        with pytest.raises(TypeError, match=r"0.weight: nnk computes in float32 or float64"):
            other.load_state_dict(bad)
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value, keep[name])
    g64, g32 = nn.GPT(20, 8, 1, 2, 8, dtype=np.float64), nn.GPT(20, 8, 1, 2, 8, dtype=np.float32)
    keep = g32.state_dict()
    untied = g64.state_dict()
    untied["lm_head.weight"] = untied["lm_head.weight"] + 1
    with pytest.raises(ValueError, match="ties them"):
        g32.load_state_dict(untied)
    for name, value in g32.state_dict().items():
        np.testing.assert_array_equal(value, keep[name])
    g32.load_state_dict(g64.state_dict())
    np.testing.assert_array_equal(g32.transformer.wte.weight.data,
                                  g64.transformer.wte.weight.data.astype(np.float32))
    wrapped = nn.Sequential(nn.GPT(20, 8, 1, 2, 8))  # nanoGPT's names under a prefix, lm_head too
    with pytest.raises(ValueError, match="ties them"):
        wrapped.load_state_dict({"0." + k: v for k, v in untied.items()})
    wrapped.load_state_dict({"0." + k: v for k, v in g64.state_dict().items()})
    np.testing.assert_array_equal(wrapped[0].transformer.wte.weight.data,
                                  g64.transformer.wte.weight.data.astype(np.float32))
    opt = optim.Adam(net.parameters(), lr=0.1)
    net(X5), net.backward(np.ones((5, 1))), opt.step()
    state = opt.state_dict()
    state["param_groups"][0]["lr"] = 0.5
    state["state"][1]["exp_avg"] = np.ones(7)
    fresh = optim.Adam(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="state 1.exp_avg"):
        fresh.load_state_dict(state)
    assert fresh.lr == 0.1 and fresh.state == {}
    state = opt.state_dict()
    state["state"][1]["exp_avg"] = state["state"][1]["exp_avg"] + 1j
    with pytest.raises(TypeError, match="state 1.exp_avg: nnk computes in float32 or float64"):
        fresh.load_state_dict(state)
    assert fresh.lr == 0.1 and fresh.state == {}


def test_seed_reproducible_and_dtype():
    a, b = mlp(nn.Tanh, seed=5), mlp(nn.Tanh, seed=5)
    np.testing.assert_array_equal(a(X5), b(X5))
    f32 = mlp(nn.Tanh, dtype=np.float32)
    assert f32(X5.astype(np.float32)).dtype == np.float32
    assert mlp(nn.Tanh)(X5).dtype == np.float64
    assert nn.Linear.from_weights(np.ones((2, 2), np.float32)).weight.data.dtype == np.float32


# ---- losses against their formulas ------------------------------------------------

def test_losses_against_formulas():
    y = np.array([0.2, 0.9, 0.5, 0.01])
    t = np.array([0.0, 1.0, 1.0, 0.0])
    assert nnk.mse_loss(y, t) == pytest.approx(np.mean((y - t) ** 2), rel=1e-15)
    assert nnk.mae_loss(y, t) == pytest.approx(np.mean(np.abs(y - t)), rel=1e-15)
    bce = -np.mean(t * np.log(y) + (1 - t) * np.log(1 - y))
    assert nnk.bce_loss(y, t) == pytest.approx(bce, rel=1e-14)
    z = np.array([-3.0, 0.0, 2.0, 40.0])
    ref = np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))
    assert nnk.bce_with_logits(z, t) == pytest.approx(ref, rel=1e-14)
    assert nnk.mse_loss(y, t, reduction="sum") == pytest.approx(np.sum((y - t) ** 2), rel=1e-15)
    np.testing.assert_allclose(nnk.mse_loss(y, t, reduction="none"), (y - t) ** 2, rtol=1e-15)


def test_loss_stability():
    with np.errstate(all="raise"):
        assert nnk.bce_loss([0.0, 1.0], [1.0, 0.0]) == 100.0  # logs clamped at -100
        v = nnk.bce_with_logits([1000.0, -1000.0], [0.0, 1.0])
        assert v == 1000.0
        assert nnk.cross_entropy(np.array([[1000.0, 0.0]]), np.array([1])) == 1000.0


def test_cross_entropy_forms():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
    labels = np.array([0, 1])
    ref = np.mean([math.log(sum(math.exp(v) for v in row)) - row[c] for row, c in zip(logits, labels)])
    assert nnk.cross_entropy(logits, labels) == pytest.approx(ref, rel=1e-14)
    onehot = np.eye(3)[labels]
    assert nnk.cross_entropy(logits, onehot) == pytest.approx(ref, rel=1e-14)
    with pytest.raises(ValueError, match="labels"):
        nnk.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(ValueError, match="labels"):
        nnk.cross_entropy(logits, np.array([-1, 0]))


@pytest.mark.parametrize("loss_cls,target", [
    (nn.MSELoss, Y5), (nn.MAELoss, Y5 + 0.3), (nn.BCEWithLogitsLoss, (Y5 > 1.5) * 1.0),
])
def test_loss_gradients_by_gradcheck(loss_cls, target):
    loss = loss_cls()
    y = Y5 * 0.9 + 0.05

    def value_and_grad(y):
        v = loss(y, target)
        return v, [loss.backward()]

    assert nnk.gradcheck(value_and_grad, y)


def test_bce_and_ce_gradients_by_gradcheck():
    p = np.array([0.2, 0.7, 0.4])
    t = np.array([0.0, 1.0, 1.0])
    bce = nn.BCELoss()
    assert nnk.gradcheck(lambda p: (bce(p, t), [bce.backward()]), p)
    ce = nn.CrossEntropyLoss()
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
    assert nnk.gradcheck(lambda z: (ce(z, np.array([2, 0])), [ce.backward()]), logits)
    soft = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    assert nnk.gradcheck(lambda z: (ce(z, soft), [ce.backward()]), logits)


# ---- optimisers and schedules ----------------------------------------------------

def test_sgd_momentum_by_hand():
    p = nn.Parameter(np.array([1.0, -2.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad[...] = [1.0, 2.0]
    opt.step()  # v = g, p -= 0.1 g
    np.testing.assert_allclose(p.data, [0.9, -2.2], rtol=1e-15)
    opt.step()  # v = 0.9 g + g = 1.9 g
    np.testing.assert_allclose(p.data, [0.9 - 0.19, -2.2 - 0.38], rtol=1e-15)


def test_adam_first_step_by_hand():
    p = nn.Parameter(np.array([1.0, -2.0, 3.0]))
    opt = optim.Adam([p], lr=0.01)
    p.grad[...] = [0.5, -4.0, 1e-3]
    opt.step()  # bias-corrected m = g, v = g^2: step = lr g / (|g| + eps)
    g = np.array([0.5, -4.0, 1e-3])
    np.testing.assert_allclose(p.data, [1.0, -2.0, 3.0] - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_schedules_closed_forms():
    p = nn.Parameter(np.zeros(1))
    o = optim.SGD([p], lr=1.0)
    s = optim.StepLR(o, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        s.step()
        lrs.append(o.lr)
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]
    o.lr = 1.0
    e = optim.ExponentialLR(o, gamma=0.9)
    e.step(), e.step()
    assert o.lr == pytest.approx(0.81)
    o.lr = 1.0
    c = optim.CosineAnnealingLR(o, T_max=4, eta_min=0.1)
    for _ in range(2):
        c.step()
    assert o.lr == pytest.approx(0.1 + 0.9 * 0.5)


def test_train_decreases_loss_and_is_reproducible():
    def run():
        net = mlp(nn.Tanh, seed=1)
        nnk.manual_seed(2)
        return nnk.train(net, nn.MSELoss(), optim.SGD(net.parameters(), lr=0.05, momentum=0.9),
                         X5, Y5, epochs=60, batch_size=2, progress=False)

    h1, h2 = run(), run()
    assert h1.loss == h2.loss
    assert h1.loss[-1] < 0.1 * h1.loss[0]


@pytest.mark.parametrize("batch_size", [None, 2, 5])
def test_train_is_the_loop_it_describes(batch_size):
    """Without shuffling, train is zero_grad, forward, loss, backward and a step per batch
    (full batch when batch_size is None or covers the data; batches of 2, 2, 1 of the five
    samples for 2), and each epoch's loss is its batches' losses weighted by their sizes:
    the same parameters and losses, bit for bit, as that loop written out."""
    def fresh():
        net = mlp(nn.Tanh, seed=3)
        return net, optim.Adam(net.parameters(), lr=0.05), nn.MSELoss()

    net, opt, lf = fresh()
    history = nnk.train(net, lf, opt, X5, Y5, epochs=4, batch_size=batch_size, shuffle=False,
                        progress=False)
    ref, ref_opt, ref_lf = fresh()
    size = len(X5) if batch_size is None else batch_size
    losses = []
    for _ in range(4):
        total = 0.0
        for lo in range(0, len(X5), size):
            xb, yb = X5[lo:lo + size], Y5[lo:lo + size]
            loss = ref_lf(ref(xb), yb)
            ref.zero_grad()
            ref.backward(ref_lf.backward())
            ref_opt.step()
            total += loss * len(xb)
        losses.append(total / len(X5))
    assert history.loss == losses
    for p, q in zip(net.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_lstsq():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4))
    Y = rng.standard_normal((50, 2))
    np.testing.assert_allclose(nnk.lstsq(X, Y), np.linalg.lstsq(X, Y, rcond=None)[0], rtol=1e-10)
    np.testing.assert_allclose(nnk.lstsq(X5, Y5[:, 0]), [1.0, 1.0], rtol=1e-12)  # notes, case 1
    with pytest.raises(ValueError, match="singular"):
        nnk.lstsq(np.c_[X, X[:, :1]], Y)
    with pytest.raises(ValueError, match="2 rows cannot fix 3 weights"):
        nnk.lstsq(X[:2, :3], Y[:2])


def test_lstsq_keeps_the_digits_of_an_ill_conditioned_fit():
    """A degree-11 polynomial fit on 20 points: cond(X) is about 1.6e8, so X^T X (about
    2.5e16) is singular to float64 and the normal equations lose every digit (the weights
    0.5-5 % off, by ISA); QR keeps about eight, as the SVD of numpy.linalg.lstsq does."""
    t = np.linspace(0, 1, 20)
    X, Y = np.vander(t, 12), np.sin(3 * t)
    W, ref = nnk.lstsq(X, Y), np.linalg.lstsq(X, Y, rcond=None)[0]
    assert np.abs(W - ref).max() <= 1e-6 * np.abs(ref).max()
    assert np.linalg.norm(X @ W - Y) <= 2 * np.linalg.norm(X @ ref - Y) + 1e-14


def test_repr_html():
    net = mlp(nn.ReLU)
    assert "parameters" in net._repr_html_() and "Linear" in net._repr_html_()
    assert "in_features=2" in repr(net)


def test_input_grad_false_skips_only_the_input_gradient():
    net, ref = mlp(nn.Tanh, seed=8), mlp(nn.Tanh, seed=8)
    for m in (net, ref):
        m(X5)
        m.zero_grad()
    assert net.backward(np.ones((5, 1)), input_grad=False) is None
    assert ref.backward(np.ones((5, 1))).shape == X5.shape
    for p, q in zip(net.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad)


# ---- dtypes: parameterised layers refuse the other float dtype -------------------------

def test_layer_dtype_rule():
    X32 = X5.astype(np.float32)
    with pytest.raises(TypeError, match="float64 parameters but got float32"):
        nn.Linear(2, 3)(X32)
    with pytest.raises(TypeError, match="float32 parameters but got float64"):
        nn.Linear(2, 3, dtype=np.float32)(X5)
    with pytest.raises(TypeError, match="float32 parameters"):
        mlp(nn.Tanh, dtype=np.float32)(X5)
    with pytest.raises(TypeError, match="float32 parameters"):
        nn.RNN(2, 3, dtype=np.float32)(X5[None])
    with pytest.raises(TypeError, match="float32 parameters"):
        nn.SelfAttention(2, dtype=np.float32)(X5[None])
    # no float dtype to lose: lists, Python numbers, ints and bools take the layer's
    for x in (X5.tolist(), X5.astype(np.int64), X5 > 0.5):
        assert nn.Linear(2, 3, dtype=np.float32)(x).dtype == np.float32
        assert nn.Linear(2, 3)(x).dtype == np.float64
    assert mlp(nn.Tanh, dtype=np.float32)(X32).dtype == np.float32


# ---- gradcheck chooses its step and tolerances by dtype -------------------------------

@pytest.mark.parametrize("act", [nn.Tanh, nn.Sigmoid, nn.GELU])
def test_gradcheck_float32_module_with_defaults(act):
    for seed in range(5):
        net = mlp(act, dtype=np.float32, seed=seed)
        x = np.random.default_rng(seed).standard_normal((4, 2)).astype(np.float32)
        assert nnk.gradcheck(net, x)


def test_gradcheck_float32_still_catches_a_wrong_gradient():
    class Off(nn.Tanh):  # a gradient 3 % too large: float32 tolerances must see it
        def backward(self, g):
            return super().backward(g) * 1.03

    nnk.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3, dtype=np.float32), Off(), nn.Linear(3, 1, dtype=np.float32))
    with pytest.raises(AssertionError, match="gradcheck"):
        nnk.gradcheck(net, X5.astype(np.float32))


# ---- writing your own Module -----------------------------------------------------------

class TwoLayer(nn.Module):
    def __init__(self):
        self.fc1 = nn.Linear(2, 3)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(3, 1)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def test_subclass_without_backward_says_what_to_implement():
    net = TwoLayer()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    net(X5)
    with pytest.raises(NotImplementedError, match=r"TwoLayer defines no backward\(\).*returns dL/d\(input\)"):
        net.backward(np.ones((5, 1)))
    with pytest.raises(NotImplementedError, match=r"defines no forward\(\)"):
        nn.Module()(X5)


def test_repr_lists_children_like_pytorch():
    assert repr(TwoLayer()) == (
        "TwoLayer(\n"
        "  (fc1): Linear(in_features=2, out_features=3, bias=True, dtype=float64)\n"
        "  (act): Tanh()\n"
        "  (fc2): Linear(in_features=3, out_features=1, bias=True, dtype=float64)\n"
        ")")
    nested = nn.Sequential(nn.ReLU(), TwoLayer())
    assert repr(nested).splitlines()[2:4] == [
        "  (1): TwoLayer(",
        "    (fc1): Linear(in_features=2, out_features=3, bias=True, dtype=float64)"]
    assert [type(m).__name__ for m in TwoLayer().children()] == ["Linear", "Tanh", "Linear"]


# ---- the training loop's progress bar ------------------------------------------------

def test_train_progress_bar_advances_and_stays(capsys):
    pytest.importorskip("tqdm")
    net = mlp(nn.Tanh)
    nnk.train(net, nn.MSELoss(), optim.SGD(net.parameters(), lr=0.01), X5, Y5, epochs=5)
    err = capsys.readouterr().err
    final = err.replace("\r", "\n").strip().splitlines()[-1]  # what stays on the screen
    assert "5/5" in final and "100%" in final and "loss=" in final, err


def test_train_on_zero_samples_is_a_clear_error():
    net = mlp(nn.Tanh)
    with pytest.raises(ValueError, match="no samples"):
        nnk.train(net, nn.MSELoss(), optim.SGD(net.parameters(), lr=0.1), X5[:0], Y5[:0], 3,
                  progress=False)


# ---- a layer used twice is one set of parameters --------------------------------------

def test_shared_layer_listed_and_stepped_once():
    lin = nn.Linear.from_weights(np.eye(2), np.zeros(2))
    model = nn.Sequential(lin, nn.Tanh(), lin)
    assert model.parameters() == [lin.weight, lin.bias]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    # the state under each place, as torch's (so torch's state loads, and torch loads it)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    lin.weight.grad[...] = 1.0
    optim.SGD(model.parameters(), lr=0.1).step()
    np.testing.assert_allclose(lin.weight.data, np.eye(2) - 0.1)  # moved by lr * grad, once
    with pytest.warns(UserWarning, match="more than once") as warned:
        opt = optim.SGD([lin.weight, lin.weight], lr=0.1)
        optim.AdamW([lin.weight, lin.weight])  # (was shown at Adam's constructor)
        optim.Adagrad([lin.bias]).add_param_group({"params": [lin.weight, lin.weight]})
    assert [w.filename for w in warned] == [__file__] * 3  # the caller's line, not nnk's
    opt.step()
    np.testing.assert_allclose(lin.weight.data, np.eye(2) - 0.2)
    assert nnk.gradcheck(model, X5)  # the tied gradient is the sum of both uses


# ---- what backward needs cannot be changed behind its back ---------------------------

def _grads(layer):
    return [p.grad.copy() for p in layer.parameters()]


@pytest.mark.parametrize("make", [lambda: nn.Linear(2, 3), nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU,
                                  lambda: nn.LeakyReLU(0.1), nn.Softmax, lambda: mlp(nn.Tanh)])
def test_in_place_changes_after_forward_do_not_change_backward(make):
    def run(mutate):
        nnk.manual_seed(0)
        layer = make()
        x = X5.copy()
        y = layer(x)
        g = np.linspace(-1, 1, y.size).reshape(y.shape)
        if mutate:
            x[...] = 0  # the caller reuses its input buffer
            y *= 3      # and changes the output in place
        layer.zero_grad()
        return layer.backward(g), _grads(layer)

    (dx, grads), (dx_mut, grads_mut) = run(False), run(True)
    np.testing.assert_array_equal(dx_mut, dx)
    for a, b in zip(grads_mut, grads):
        np.testing.assert_array_equal(a, b)


def test_loss_backward_ignores_changes_after_forward():
    for loss_fn in (nn.MSELoss(), nn.BCELoss(), nn.CrossEntropyLoss()):
        y, t = np.array([[0.2, 0.7], [0.4, 0.9]]), np.array([[0.0, 1.0], [1.0, 0.0]])
        loss_fn(y, t)
        expect = loss_fn.backward()
        loss_fn(y, t)
        y[...], t[...] = 0.5, 0.5
        np.testing.assert_array_equal(loss_fn.backward(), expect)


# ---- infinities in losses and optimisers -----------------------------------------------

def test_bce_with_logits_at_infinite_logits(dtype):
    x = np.array([np.inf, -np.inf, np.inf, -np.inf] * 5, dtype)  # 20: vectors and a tail
    t = np.array([0.0, 1.0, 1.0, 0.0] * 5, dtype)
    each = nnk.bce_with_logits(x, t, reduction="none")
    np.testing.assert_array_equal(each, np.array([np.inf, np.inf, 0.0, 0.0] * 5, dtype))
    assert nnk.bce_with_logits(np.array([np.inf], dtype), np.array([0.0], dtype)) == np.inf
    assert np.isnan(nnk.bce_with_logits(np.array([1.0], dtype), np.array([np.nan], dtype)))


def test_sgd_without_weight_decay_keeps_an_infinite_parameter(dtype):
    p = nn.Parameter(np.array([np.inf, -np.inf, 1.0] * 7, dtype))
    p.grad[...] = 0.5
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.data[:2], [np.inf, -np.inf])
    p = nn.Parameter(np.array([np.inf, 1.0] * 9, dtype))
    p.grad[...] = 0.5
    optim.Adam([p], lr=0.1).step()
    assert p.data[0] == np.inf and np.all(np.isfinite(p.data[1::2]))


def test_next_token_loss_is_the_mean_cross_entropy_over_every_position():
    """Against NumPy: -log softmax at the target, averaged over B T positions, and its
    gradient (softmax - one-hot) / (B T) in the logits' shape."""
    rng = np.random.default_rng(3)
    logits, target = rng.standard_normal((2, 5, 7)), rng.integers(0, 7, (2, 5))
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    picked = np.take_along_axis(p, target[..., None], -1)[..., 0]
    loss_fn = nn.NextTokenLoss()
    assert loss_fn(logits, target) == pytest.approx(-np.log(picked).mean(), rel=1e-13)
    expected = (p - np.eye(7)[target]) / 10
    np.testing.assert_allclose(loss_fn.backward(), expected, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match=r"\(B, T, V\)"):
        loss_fn(logits[0], target[0])
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        loss_fn(logits, target[:, :4])


# ---- gradients zeroed lazily ---------------------------------------------------------

def test_zero_grad_reads_as_zeros_before_any_backward(dtype):
    lin = nn.Linear(3, 2, dtype=dtype)
    lin.weight.grad[...] = 7
    lin.zero_grad()
    np.testing.assert_array_equal(lin.weight.grad, np.zeros((2, 3), dtype))
    net = nn.Sequential(lin, nn.ReLU())
    for set_to_none in (True, False):  # torch's argument taken; the gradient reads as zeros
        lin.weight.grad[...] = 7
        net.zero_grad(set_to_none=set_to_none)
        np.testing.assert_array_equal(lin.weight.grad, np.zeros((2, 3), dtype))
    p = nn.Parameter(np.ones(4, dtype))
    p.grad[...] = 5
    optim.SGD([p], lr=1.0).zero_grad()
    optim.SGD([p], lr=1.0).step()  # a zero gradient moves nothing
    np.testing.assert_array_equal(p.data, np.ones(4, dtype))


def test_an_assigned_gradient_is_checked_when_assigned_and_used_as_given(dtype):
    """p.grad = g: another shape or dtype, or None, refused at the assignment (as torch
    refuses one), not at the optimiser's step with a message about buffers; a transposed
    (non-contiguous) gradient steps by its values, as written."""
    p = nn.Parameter(np.zeros((2, 3), dtype))
    other = np.float64 if dtype == np.float32 else np.float32
    for value, error, words in [(None, TypeError, "got None"),
                                (np.ones((3, 2), dtype), ValueError, r"shape \(2, 3\), got \(3, 2\)"),
                                (np.ones((2, 3), other), TypeError, f"dtype {np.dtype(dtype)}, got")]:
        with pytest.raises(error, match=words):
            p.grad = value
    g = np.arange(6, dtype=dtype).reshape(3, 2).T
    p.grad = g
    optim.SGD([p], lr=1.0).step()
    np.testing.assert_array_equal(p.data, -g)


def test_assigned_data_is_used_as_given(dtype):
    """lin.weight.data = W.T (as torch's p.data = t): forward, backward and the step use
    W.T's values, where the kernels refused a non-contiguous weight; a new shape brings
    a gradient of that shape."""
    rng = np.random.default_rng(2)
    W, x = rng.standard_normal((2, 3)).astype(dtype), rng.standard_normal((4, 2)).astype(dtype)
    lin = nn.Linear(2, 3, bias=False, dtype=dtype)
    lin.weight.data = W.T
    tol = dict(rtol=1e-5 if dtype == np.float32 else 1e-13)
    np.testing.assert_allclose(lin(x), x @ W, **tol)
    lin.zero_grad()
    lin.backward(np.ones((4, 3), dtype))
    optim.SGD(lin.parameters(), lr=1.0).step()
    np.testing.assert_allclose(lin.weight.data, W.T - np.ones((4, 3)).T @ x, **tol)
    lin.weight.data = np.zeros((5, 2), dtype)
    assert lin.weight.grad.shape == (5, 2)
    with pytest.raises(TypeError, match="float32 or float64"):
        lin.weight.data = np.zeros((5, 2), np.int64)
    scale = nn.Parameter(np.array(2.0, dtype))  # a 0-d parameter stays 0-d, as torch's
    assert scale.data.shape == scale.grad.shape == ()


def test_backward_after_zero_grad_writes_the_gradient_over_whatever_was_there(dtype):
    """The zeroed gradient's memory is not cleared: backward must write it whole and
    never read it (NaN left there would show), for weight and bias alike."""
    rng = np.random.default_rng(5)
    x, g = rng.standard_normal((6, 4)).astype(dtype), rng.standard_normal((6, 3)).astype(dtype)
    lin = nn.Linear(4, 3, dtype=dtype)
    lin.weight.grad[...] = np.nan
    lin.bias.grad[...] = np.nan
    lin.zero_grad()
    lin(x)
    lin.backward(g)
    tol = dict(rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6 if dtype == np.float32 else 1e-13)
    np.testing.assert_allclose(lin.weight.grad, g.T.astype(np.float64) @ x, **tol)
    np.testing.assert_allclose(lin.bias.grad, g.astype(np.float64).sum(0), **tol)
    lin(x)
    lin.backward(g)  # no zero_grad between: the second adds to the first
    np.testing.assert_allclose(lin.weight.grad, 2 * (g.T.astype(np.float64) @ x), **tol)


def test_a_zeroed_weight_beside_a_bias_that_is_not_adds_to_the_bias(dtype):
    rng = np.random.default_rng(6)
    x, g = rng.standard_normal((5, 2)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype)
    lin = nn.Linear(2, 3, dtype=dtype)
    lin.weight.grad[...] = 9
    optim.SGD([lin.weight], lr=0.1).zero_grad()  # only the weight: an optimiser of it alone
    lin.bias.grad[...] = 1
    lin(x)
    lin.backward(g)
    tol = dict(rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(lin.weight.grad, g.T.astype(np.float64) @ x, **tol)
    np.testing.assert_allclose(lin.bias.grad, 1 + g.astype(np.float64).sum(0), **tol)


@pytest.mark.parametrize("n", [1, 5, 16, 33, 128])
@pytest.mark.parametrize("affine", ["weight and bias", "weight", None])
def test_layernorm_forward_row_groups(n, affine, isa, dtype):
    """The forward takes rows four at a time and a shorter group's rows alone: every row
    count from 1 to 9 (whole groups, a group and a rest, a rest alone), rows of very
    different offsets side by side, each row the bits it has alone and within the
    float64 formula's tolerance, mean and 1/std kept for its own row; with a weight
    and a bias, a weight alone (LayerNorm(bias=False)) and neither."""
    from nnk import _C
    rng = np.random.default_rng(n)
    offsets = np.array([0, 300, -2, 40, -300, 1, 5, -40, 2])[:, None]
    x = (rng.standard_normal((9, n)) * rng.uniform(0.5, 3, (9, 1)) + offsets).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, n).astype(dtype) if affine else None
    beta = rng.standard_normal(n).astype(dtype) if affine == "weight and bias" else None

    def forward(rows):
        y, mean, rstd = np.empty_like(rows), np.empty(len(rows), dtype), np.empty(len(rows), dtype)
        _C.layernorm_forward(rows, gamma, beta, 1e-5, y, mean, rstd)
        return y, mean, rstd

    alone = [forward(x[r:r + 1]) for r in range(9)]
    x64 = x.astype(np.float64)
    mean64 = x64.mean(1)
    rstd64 = 1 / np.sqrt(x64.var(1) + 1e-5)
    want = (x64 - mean64[:, None]) * rstd64[:, None]
    if gamma is not None:
        want = want * gamma
    if beta is not None:
        want = want + beta
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for rows in range(1, 10):
        y, mean, rstd = forward(x[:rows])
        for r in range(rows):
            for got, one in zip((y[r], mean[r], rstd[r]), alone[r]):
                np.testing.assert_array_equal(got, one[0])
        np.testing.assert_allclose(y, want[:rows], **tol)
        np.testing.assert_allclose(mean, mean64[:rows], **tol)
        np.testing.assert_allclose(rstd, rstd64[:rows], rtol=tol["rtol"])


@pytest.mark.parametrize("rows, n", [(1030, 130), (300, 1000), (4100, 64)])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_backward_large_same_bits_on_any_thread_count(rows, n, affine, isa, dtype, set_threads):
    """Large inputs split across threads: dx by rows, and the parameters' gradients
    (sums over the rows) by fixed blocks of rows added in order, so two threads give one
    thread's bits, also with dx written over dy; each within the float64 formula's
    tolerance, the gradients added to what .grad held."""
    from nnk import _C
    rng = np.random.default_rng(rows)
    x = (rng.standard_normal((rows, n)) * 2 + rng.uniform(-3, 3, (rows, 1))).astype(dtype)
    dy = rng.standard_normal((rows, n)).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, n).astype(dtype) if affine else None
    start = rng.standard_normal((2, n)).astype(dtype)
    x64 = x.astype(np.float64)
    mean, rstd = x64.mean(1), 1 / np.sqrt(x64.var(1) + 1e-5)
    mean, rstd = mean.astype(dtype), rstd.astype(dtype)
    got = {}
    for threads in (1, 2):
        set_threads(threads)
        for in_place in (False, True):
            dgrads = start.copy() if affine else None
            g = dy.copy()
            dx = g if in_place else np.empty_like(x)
            with nnk.use_isa(isa):
                _C.layernorm_backward(x, gamma, mean, rstd, g, dx, None if dgrads is None else dgrads[0],
                                      None if dgrads is None else dgrads[1])
            got[threads, in_place] = (dx.copy(), dgrads)
    for in_place in (False, True):
        for a, b in zip(got[1, in_place], got[2, in_place]):
            if a is not None:
                np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(got[1, False][0], got[1, True][0])
    xh = (x64 - mean[:, None]) * rstd[:, None].astype(np.float64)
    gg = dy.astype(np.float64) * (gamma.astype(np.float64) if affine else 1)
    want_dx = rstd[:, None] * (gg - gg.mean(1, keepdims=True) - xh * (gg * xh).mean(1, keepdims=True))
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(got[1, False][0], want_dx, rtol=tol, atol=tol * np.abs(want_dx).max())
    if affine:
        want = start.astype(np.float64) + np.stack([(dy * xh).sum(0), dy.astype(np.float64).sum(0)])
        np.testing.assert_allclose(got[1, False][1], want, rtol=tol, atol=tol * rows)


def _accumulating_cases():
    """(name, module builder, input maker, dtype): every layer with parameters."""
    ids = lambda r: r.integers(0, 11, (2, 5))
    x3 = lambda r: r.standard_normal((2, 5, 8))
    return [
        ("Linear", lambda: nn.Linear(8, 3), x3),
        ("LayerNorm", lambda: nn.LayerNorm(8), x3),
        ("LayerNorm(bias=False)", lambda: nn.LayerNorm(8, bias=False), x3),
        ("Embedding", lambda: nn.Embedding(11, 4), ids),
        ("RNN", lambda: nn.RNN(8, 6), x3),
        ("SelfAttention", lambda: nn.SelfAttention(8), x3),
        ("CausalSelfAttention", lambda: nn.CausalSelfAttention(8, 2), x3),
        ("MLP", lambda: nn.MLP(8), x3),
        ("Block", lambda: nn.Block(8, 2), x3),
        ("GPT", lambda: nn.GPT(11, 6, 2, 2, 8, dtype=np.float64), ids),
    ]


@pytest.mark.parametrize("name, build, make", _accumulating_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_two_backwards_without_zero_grad_add_their_gradients(name, build, make):
    """As in PyTorch, a second forward and backward before zero_grad adds its gradients to
    the first's, in every layer with parameters (a kernel that wrote its gradient instead
    of adding it would keep only the second)."""
    nnk.manual_seed(4)
    layer = build()
    rng = np.random.default_rng(5)
    xs = [make(rng), make(rng)]
    alone = []
    for x in xs:  # each input's gradients on their own
        layer.zero_grad()
        y = layer(x)
        layer.backward(rng.standard_normal(y.shape))
        alone.append([p.grad.copy() for p in layer.parameters()])
    rng = np.random.default_rng(5)
    xs = [make(rng), make(rng)]  # the same inputs and output gradients again
    layer.zero_grad()
    for x in xs:
        y = layer(x)
        layer.backward(rng.standard_normal(y.shape))
    for p, a, b in zip(layer.parameters(), *alone):
        np.testing.assert_allclose(p.grad, a + b, rtol=1e-12, atol=1e-14)
        assert np.abs(a).max() > 0 and np.abs(b).max() > 0


@pytest.mark.parametrize("name, build, make", _accumulating_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_backward_for_the_parameters_alone_gives_their_gradients(name, build, make):
    """backward(g, input_grad=False), what nnk.train calls, returns None and leaves every
    parameter the gradient a whole backward gives it, bit for bit."""
    nnk.manual_seed(6)
    layer = build()
    rng = np.random.default_rng(7)
    x = make(rng)
    y = layer(x)
    g = rng.standard_normal(y.shape)
    layer.zero_grad()
    layer.backward(g)
    whole = [p.grad.copy() for p in layer.parameters()]
    layer(x)
    layer.zero_grad()
    assert layer.backward(g, input_grad=False) is None
    for p, w in zip(layer.parameters(), whole):
        np.testing.assert_array_equal(p.grad, w)
