"""nnk.nn.functional against torch.nn.functional: the same call, torch's argument names
and values, gives torch's values (float64, the same inputs); bad input the errors torch
gives them, or nnk's where nnk refuses more."""
import numpy as np
import pytest

import nnk
import nnk.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(40)


def t(a):
    return torch.from_numpy(np.asarray(a))


def same(ours, theirs, rtol=1e-12, atol=1e-14):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def test_every_name_is_torchs():
    """Each function here is torch.nn.functional's of the same name, its parameters
    named as torch's (those nnk takes)."""
    import inspect
    names = [n for n, f in vars(F).items() if inspect.isfunction(f) and not n.startswith("_")
             and f.__module__ == F.__name__]
    assert len(names) == 18
    for name in names:
        ours = list(inspect.signature(getattr(F, name)).parameters)
        theirs = getattr(TF, name)
        try:
            theirs = list(inspect.signature(theirs).parameters)
        except ValueError:  # a builtin without a signature: its docstring's
            theirs = theirs.__doc__.split("(", 1)[1].split(")", 1)[0].replace(" ", "").split(",")
            theirs = [p.split("=")[0].lstrip("*") for p in theirs]
        assert ours == [p for p in theirs if p in ours], name


def test_activations_as_torch():
    x = RNG.standard_normal((4, 5)) * 3
    same(F.relu(x), TF.relu(t(x)))
    same(F.leaky_relu(x, negative_slope=0.2), TF.leaky_relu(t(x), negative_slope=0.2))
    same(F.gelu(x), TF.gelu(t(x)))
    same(F.gelu(x, approximate="tanh"), TF.gelu(t(x), approximate="tanh"))
    same(F.sigmoid(x), TF.sigmoid(t(x)))
    same(F.tanh(x), TF.tanh(t(x)))
    y = x.copy()
    assert F.relu(y, inplace=True) is y and (y >= 0).all()


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_takes_dim_as_torch(dim):
    x = RNG.standard_normal((3, 4, 5)) * 10
    same(F.softmax(x, dim=dim), TF.softmax(t(x), dim=dim))
    same(F.log_softmax(x, dim), TF.log_softmax(t(x), dim))
    got = F.softmax(x.astype(np.float32), dim=dim, dtype=torch.float64)
    assert got.dtype == np.float64
    same(got, TF.softmax(t(x.astype(np.float32)), dim=dim, dtype=torch.float64))
    with pytest.raises(TypeError):
        F.softmax(x)  # torch's implicit dim is deprecated; here it must be given


def test_linear_and_layer_norm_as_torch():
    x, w, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((6, 4)), RNG.standard_normal(6)
    same(F.linear(x, w, b), TF.linear(t(x), t(w), t(b)))
    same(F.linear(x, w), TF.linear(t(x), t(w)))
    g, beta = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    same(F.layer_norm(x, (3, 4), g, beta, eps=1e-3), TF.layer_norm(t(x), (3, 4), t(g), t(beta), eps=1e-3))
    same(F.layer_norm(x, [4]), TF.layer_norm(t(x), [4]))
    same(F.layer_norm(x, 4, weight=g[0]), TF.layer_norm(t(x), (4,), weight=t(g[0])))
    with pytest.raises(ValueError, match="weight"):
        F.layer_norm(x, (4,), weight=np.ones(3))
    with pytest.raises(ValueError, match="does not end in"):
        F.layer_norm(x, (5,))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_as_torch(reduction):
    y, target = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 3))
    same(F.mse_loss(y, target, reduction=reduction), TF.mse_loss(t(y), t(target), reduction=reduction))
    same(F.l1_loss(y, target, reduction=reduction), TF.l1_loss(t(y), t(target), reduction=reduction))
    p, bits = 1 / (1 + np.exp(-y)), (RNG.random((6, 3)) < 0.5).astype(np.float64)
    p[0, 0], p[1, 1] = 0.0, 1.0  # log 0: torch clamps it at -100, as nnk
    w, pos = RNG.random((6, 3)), RNG.random(3) * 3
    same(F.binary_cross_entropy(p, bits, reduction=reduction),
         TF.binary_cross_entropy(t(p), t(bits), reduction=reduction))
    same(F.binary_cross_entropy(p, bits, weight=w, reduction=reduction),
         TF.binary_cross_entropy(t(p), t(bits), weight=t(w), reduction=reduction))
    for kw in ({}, {"weight": w}, {"pos_weight": pos}, {"weight": w[0], "pos_weight": pos}):
        same(F.binary_cross_entropy_with_logits(y * 30, bits, reduction=reduction, **kw),
             TF.binary_cross_entropy_with_logits(t(y * 30), t(bits), reduction=reduction,
                                                 **{k: t(v) for k, v in kw.items()}))
    logits, labels = RNG.standard_normal((6, 4)), np.array([0, 3, 1, -100, 2, 3])
    cw = RNG.random(4) + 0.5
    same(F.cross_entropy(logits, labels, weight=cw, reduction=reduction, label_smoothing=0.1),
         TF.cross_entropy(t(logits), t(labels), weight=t(cw), reduction=reduction, label_smoothing=0.1))
    classes = np.abs(labels) % 4  # every label a class, class 3 ignored
    same(F.cross_entropy(logits, classes, ignore_index=3, reduction=reduction),
         TF.cross_entropy(t(logits), t(classes), ignore_index=3, reduction=reduction))
    logp = np.log(nnk.softmax(logits))
    same(F.nll_loss(logp, labels, weight=cw, reduction=reduction),
         TF.nll_loss(t(logp), t(labels), weight=t(cw), reduction=reduction))


def test_dropout_embedding_and_one_hot_as_torch():
    x = np.ones((200, 50))
    nnk.manual_seed(1)
    y = F.dropout(x, p=0.3)
    assert set(np.unique(y)) == {0.0, 1 / 0.7} and abs((y == 0).mean() - 0.3) < 0.02
    assert F.dropout(x, 0.3, training=False) is x
    z = x.copy()
    assert F.dropout(z, 1.0, inplace=True) is z and not z.any()
    for bad in (-0.1, 1.1):
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, bad)
        with pytest.raises(ValueError, match="between 0 and 1"):
            TF.dropout(t(x), bad)
    w, ids = RNG.standard_normal((7, 3)), np.array([[0, 6, 2], [2, 2, 5]])
    same(F.embedding(ids, w, padding_idx=2), TF.embedding(t(ids), t(w), padding_idx=2))
    with pytest.raises(IndexError):
        F.embedding(np.array([7]), w)
    with pytest.raises(IndexError):
        TF.embedding(t(np.array([7])), t(w))
    labels = np.array([[1, 0], [3, 2]])
    for n in (-1, 6):
        got, want = F.one_hot(labels, n), TF.one_hot(t(labels), n).numpy()
        assert got.dtype == want.dtype == np.int64
        np.testing.assert_array_equal(got, want)
    for bad, n in ((np.array([-1]), -1), (np.array([4]), 3)):
        with pytest.raises((ValueError, RuntimeError)) as ours:
            F.one_hot(bad, n)
        with pytest.raises(RuntimeError) as theirs:
            TF.one_hot(t(bad), n)
        assert str(ours.value) in str(theirs.value)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(np.array([1.0]))
