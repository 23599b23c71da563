"""Embedding, RNN (BPTT), self-attention, the fixed-window LM and next-token training."""
import math

import numpy as np
import pytest

import nnk
from nnk import nn, optim
from nnk.textdata import load_corpus, windows

pytestmark = pytest.mark.usefixtures("isa")  # kernel results: once per ISA

RNG = np.random.default_rng(9)


def test_embedding_forward_backward():
    nnk.manual_seed(0)
    emb = nn.Embedding(5, 3)
    ids = np.array([[1, 4], [1, 0]])
    out = emb(ids)
    np.testing.assert_array_equal(out, emb.weight.data[ids])
    g = RNG.standard_normal((2, 2, 3))
    emb.zero_grad()
    assert emb.backward(g) is None
    expect = np.zeros((5, 3))
    np.add.at(expect, ids.reshape(-1), g.reshape(-1, 3))   # independent reference
    np.testing.assert_allclose(emb.weight.grad, expect, rtol=1e-15)
    with pytest.raises(IndexError):
        emb(np.array([5]))
    with pytest.raises(TypeError):
        emb(np.array([0.5]))


def test_embedding_gradcheck():
    nnk.manual_seed(1)
    emb = nn.Embedding(4, 3)
    ids = np.array([0, 2, 2, 3])
    R = RNG.standard_normal((4, 3))

    def f(w):
        emb.weight.data[...] = w
        emb.zero_grad()
        v = float(np.sum(emb(ids) * R))
        emb.backward(R)
        return v, [emb.weight.grad.copy()]

    assert nnk.gradcheck(f, emb.weight.data.copy())


def test_rnn_gradcheck_with_h0():
    nnk.manual_seed(2)
    rnn = nn.RNN(3, 4)
    x = RNG.standard_normal((2, 5, 3))
    assert nnk.gradcheck(rnn, x)
    h0 = RNG.standard_normal((2, 4))
    R = RNG.standard_normal((2, 5, 4))

    def f(h0_):
        v = float(np.sum(rnn(x, h0_) * R))
        rnn.zero_grad()
        rnn.backward(R)
        return v, [rnn.h0_grad]

    assert nnk.gradcheck(f, h0)


def test_rnn_recurrence_by_hand():
    rnn = nn.RNN(2, 2)
    Wc, Wh, b = RNG.standard_normal((2, 2)), RNG.standard_normal((2, 2)), RNG.standard_normal(2)
    rnn.weight_ih.data[...], rnn.weight_hh.data[...], rnn.bias.data[...] = Wc, Wh, b
    x = RNG.standard_normal((1, 4, 2))
    h = np.zeros(2)
    expect = []
    for t in range(4):
        h = np.tanh(Wh @ h + Wc @ x[0, t] + b)
        expect.append(h)
    np.testing.assert_allclose(rnn(x)[0], expect, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("h0_layout", [None, "ours", "torch"])
def test_rnn_equals_torch(bias, h0_layout):
    """Outputs and every gradient against torch.nn.RNN (tanh), with and without a bias
    and a given h0 (none: zeros, as PyTorch; (B, H) or torch's (1, B, H)), torch's
    state dict loaded as it is (two nonzero biases, whose sum is ours)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    rnn = nn.RNN(3, 5, bias=bias)
    t_rnn = torch.nn.RNN(3, 5, bias=bias, batch_first=True).double()
    rnn.load_state_dict(t_rnn.state_dict())
    if bias:
        np.testing.assert_array_equal(rnn.bias.data, (t_rnn.bias_ih_l0 + t_rnn.bias_hh_l0).detach().numpy())
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 7, 3))
    h0 = None if h0_layout is None else rng.standard_normal((1, 4, 5))
    g = rng.standard_normal((4, 7, 5))
    y = rnn(x, None if h0 is None else h0[0] if h0_layout == "ours" else h0)
    rnn.zero_grad()
    dx = rnn.backward(g)
    xt = torch.from_numpy(x).requires_grad_()
    h0t = torch.from_numpy(h0).requires_grad_() if h0 is not None else None
    yt, _ = t_rnn(xt, h0t)
    (yt * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-11, atol=1e-13)
    if h0 is not None:  # in the shape it was given
        want = h0t.grad.numpy()[0] if h0_layout == "ours" else h0t.grad.numpy()
        assert rnn.h0_grad.shape == want.shape
        np.testing.assert_allclose(rnn.h0_grad, want, rtol=1e-11, atol=1e-13)
    else:
        assert rnn.h0_grad is None
    np.testing.assert_allclose(rnn.weight_ih.grad, t_rnn.weight_ih_l0.grad.numpy(), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(rnn.weight_hh.grad, t_rnn.weight_hh_l0.grad.numpy(), rtol=1e-11, atol=1e-13)
    if bias:  # each of torch's biases has the gradient of their sum
        np.testing.assert_allclose(rnn.bias.grad, t_rnn.bias_ih_l0.grad.numpy(), rtol=1e-11, atol=1e-13)
    assert list(rnn.state_dict()) == ["weight_ih", "weight_hh"] + ["bias"] * bias


def test_rnn_one_sequence_and_torch_state_in_a_sequential():
    """One sequence (T, I) with torch's unbatched h0 (1, H) or (H,), and a torch RNN's
    state loaded inside a Sequential under its prefix; a second layer's names are not
    ours to load (nnk's RNN is one layer): a KeyError naming them."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(4)
    t_rnn = torch.nn.RNN(2, 3, batch_first=True).double()
    net = nn.Sequential(nn.RNN(2, 3), nn.Tanh())
    net.load_state_dict({"0." + k: v for k, v in t_rnn.state_dict().items()})
    rng = np.random.default_rng(6)
    x, h0 = rng.standard_normal((5, 2)), rng.standard_normal((1, 3))
    yt, _ = t_rnn(torch.from_numpy(x), torch.from_numpy(h0))
    for given in (h0, h0[0]):
        y = net[0](x, given)
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
        net[0].backward(np.ones_like(y))
        assert net[0].h0_grad.shape == given.shape
    with pytest.raises(ValueError, match="h0"):
        net[0](x, np.zeros((2, 3)))
    two = torch.nn.RNN(2, 3, num_layers=2, batch_first=True).double()
    with pytest.raises(KeyError, match="weight_ih_l1"):
        nn.RNN(2, 3).load_state_dict(two.state_dict())


def _agrees_with_torch(rnn, t_rnn, x, g, h0):
    """nnk's RNN and torch's (its weights loaded) on the same x, upstream gradient g and h0
    (or None): the outputs, h_n, the input's and h0's gradients, and every parameter's
    under torch's names (each of torch's two biases has the gradient of ours, their sum)."""
    import torch
    y = rnn(x, h0)
    rnn.zero_grad()
    dx = rnn.backward(g)
    xt = torch.from_numpy(x).requires_grad_()
    h0t = None if h0 is None else torch.from_numpy(h0).requires_grad_()
    yt, hn_t = t_rnn(xt, h0t)
    (yt * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rnn.h_n, hn_t.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-11, atol=1e-13)
    if h0 is not None:
        np.testing.assert_allclose(rnn.h0_grad, h0t.grad.numpy(), rtol=1e-11, atol=1e-13)
    theirs = dict(t_rnn.named_parameters())
    for name, p in rnn.named_parameters():
        np.testing.assert_allclose(p.grad, theirs[name.replace("bias", "bias_hh")].grad.numpy(),
                                   rtol=1e-11, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("with_h0", [False, True])
def test_stacked_rnn_equals_torch(bias, with_h0, nonlinearity):
    """num_layers = 3 against torch.nn.RNN(num_layers=3), tanh and ReLU: torch's state
    loaded as it is, outputs, h_n, the input's, h0's and every layer's gradients; one
    sequence with h0 (L, H); h_n continuing a sequence split in two."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(7)
    rnn = nn.RNN(3, 5, bias=bias, num_layers=3, nonlinearity=nonlinearity)
    t_rnn = torch.nn.RNN(3, 5, num_layers=3, bias=bias, batch_first=True, nonlinearity=nonlinearity).double()
    rnn.load_state_dict(t_rnn.state_dict())
    assert list(rnn.state_dict()) == [f"{w}_l{k}" for k in range(3)
                                      for w in ("weight_ih", "weight_hh") + ("bias",) * bias]
    assert repr(rnn) == repr(t_rnn).replace(", batch_first=True", "")
    rng = np.random.default_rng(8)
    x, g = rng.standard_normal((4, 6, 3)), rng.standard_normal((4, 6, 5))
    _agrees_with_torch(rnn, t_rnn, x, g, rng.standard_normal((3, 4, 5)) if with_h0 else None)
    h0_one = rng.standard_normal((3, 5))
    yt1, hn1 = t_rnn(torch.from_numpy(x[0]), torch.from_numpy(h0_one))
    np.testing.assert_allclose(rnn(x[0], h0_one), yt1.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert rnn.h_n.shape == (3, 5)  # torch's unbatched h_n
    np.testing.assert_allclose(rnn.h_n, hn1.detach().numpy(), rtol=1e-12, atol=1e-14)
    rnn.backward(g[0])
    assert rnn.h0_grad.shape == (3, 5)
    with pytest.raises(ValueError, match=r"\(3, 4, 5\)"):
        rnn(x, rng.standard_normal((4, 5)))  # one layer's h0 for three
    # h_n continues the sequences: two halves in turn give the whole's outputs
    first = rnn(x[:, :3])
    second = rnn(x[:, 3:], rnn.h_n)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), rnn(x), rtol=1e-13, atol=1e-15)


def test_stacked_rnn_gradcheck_and_bad_arguments():
    nnk.manual_seed(9)
    rnn = nn.RNN(2, 3, num_layers=2)
    assert nnk.gradcheck(rnn, RNG.standard_normal((2, 4, 2)))
    with pytest.raises(TypeError, match="num_layers=2"):  # torch's positional num_layers
        nn.RNN(2, 3, 2)
    with pytest.raises(ValueError, match="num_layers"):
        nn.RNN(2, 3, num_layers=0)
    with pytest.raises(ValueError, match="nonlinearity 'sigmoid'"):
        nn.RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(RuntimeError, match="h_n"):
        nn.RNN(2, 3, num_layers=2).h_n
    three = pytest.importorskip("torch").nn.RNN(2, 3, num_layers=3, batch_first=True)
    with pytest.raises(KeyError, match="weight_ih_l2"):
        rnn.load_state_dict(three.state_dict())


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bias,with_h0,batch_first", [(True, True, True), (False, False, True),
                                                      (True, False, False), (False, True, False)])
def test_bidirectional_rnn_in_either_layout_equals_torch(layers, bias, with_h0, batch_first, nonlinearity):
    """bidirectional=True and batch_first=False (a TypeError before: neither existed)
    against torch.nn.RNN: torch's state loaded as it is under torch's names (``_reverse``
    for the backward direction), outputs (both directions side by side), h_n, the
    input's, h0's and every parameter's gradients, in torch's (T, B, ...) layout too; one
    sequence with its (2 L, H) h0."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(31)
    rnn = nn.RNN(3, 5, bias=bias, num_layers=layers, nonlinearity=nonlinearity,
                 batch_first=batch_first, bidirectional=True)
    t_rnn = torch.nn.RNN(3, 5, num_layers=layers, bias=bias, batch_first=batch_first,
                         nonlinearity=nonlinearity, bidirectional=True).double()
    rnn.load_state_dict(t_rnn.state_dict())
    assert list(rnn.state_dict()) == [f"{w}_l{k}{d}" for k in range(layers) for d in ("", "_reverse")
                                      for w in ("weight_ih", "weight_hh") + ("bias",) * bias]
    want_repr = repr(t_rnn).replace(", batch_first=True", "") if batch_first else \
        repr(t_rnn).replace(", bidirectional", ", batch_first=False, bidirectional")
    assert repr(rnn) == want_repr
    rng = np.random.default_rng(32)
    B, T = 4, 6
    x = rng.standard_normal((B, T, 3) if batch_first else (T, B, 3))
    g = rng.standard_normal(x.shape[:2] + (10,))
    _agrees_with_torch(rnn, t_rnn, x, g, rng.standard_normal((2 * layers, B, 5)) if with_h0 else None)
    one = x[0] if batch_first else x[:, 0]
    h0_one = rng.standard_normal((2 * layers, 5))
    yt1, hn1 = t_rnn(torch.from_numpy(one), torch.from_numpy(h0_one))
    np.testing.assert_allclose(rnn(one, h0_one), yt1.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rnn.h_n, hn1.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert rnn.backward(g[0] if batch_first else g[:, 0]).shape == one.shape
    with pytest.raises(ValueError, match="h0"):
        rnn(x, rng.standard_normal((layers, B, 5)))  # one direction's h0 for two


@pytest.mark.parametrize("bidirectional", [False, True])
def test_rnn_dropout_between_layers_as_pytorch(bidirectional):
    """dropout= (a TypeError before): while training, each layer's outputs but the last's
    are dropped and scaled on their way up, as torch.nn.RNN does, and backward passes
    the same mask: the outputs and every gradient are those of the layers composed with
    nn.Dropout between them, drawn from the same seed.  In eval() no dropout: torch's
    outputs.  torch's warning for one layer and its error for p outside [0, 1]."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(33)
    D = 2 if bidirectional else 1
    t_rnn = torch.nn.RNN(3, 4, num_layers=3, dropout=0.4, batch_first=True, bidirectional=bidirectional).double()
    rnn = nn.RNN(3, 4, num_layers=3, dropout=0.4, bidirectional=bidirectional)
    rnn.load_state_dict(t_rnn.state_dict())
    rng = np.random.default_rng(34)
    x, g = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 4 * D))
    t_rnn.eval()
    np.testing.assert_allclose(rnn.eval()(x), t_rnn(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-12)
    rnn.train()
    # the same three layers one by one, nn.Dropout between them
    layers = [nn.RNN(3 if k == 0 else 4 * D, 4, bidirectional=bidirectional) for k in range(3)]
    stacked = dict(rnn.named_parameters())

    def pairs():  # (the stacked RNN's parameter, the same one in the layer of its own)
        for k, layer in enumerate(layers):
            for name, p in layer.named_parameters():  # one layer: "weight_ih" or "weight_ih_l0..."
                base, _, reverse = name.partition("_l0")
                yield stacked[f"{base}_l{k}{reverse}"], p
    for theirs, p in pairs():
        p.data = theirs.data.copy()
    chain = nn.Sequential(layers[0], nn.Dropout(0.4), layers[1], nn.Dropout(0.4), layers[2])
    nnk.manual_seed(35)
    y = rnn(x)
    nnk.manual_seed(35)
    want = chain(x)
    np.testing.assert_array_equal(y, want)
    assert not np.allclose(y, rnn.eval()(x))  # the dropout acts
    rnn.train()
    nnk.manual_seed(35)
    rnn(x)
    rnn.zero_grad()
    chain.zero_grad()
    np.testing.assert_allclose(rnn.backward(g), chain.backward(g), rtol=1e-13, atol=1e-15)
    for theirs, p in pairs():
        np.testing.assert_allclose(theirs.grad, p.grad, rtol=1e-13, atol=1e-15)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.RNN(3, 4, dropout=0.2)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        torch.nn.RNN(3, 4, dropout=0.2)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout should be a number in range"):
            nn.RNN(3, 4, num_layers=2, dropout=p)
        with pytest.raises(ValueError, match="dropout should be a number in range"):
            torch.nn.RNN(3, 4, num_layers=2, dropout=p)


def test_rnn_float32():
    nnk.manual_seed(4)
    rnn = nn.RNN(3, 4, dtype=np.float32)
    x = RNG.standard_normal((2, 6, 3)).astype(np.float32)
    y = rnn(x)
    assert y.dtype == np.float32
    ref = nn.RNN(3, 4)
    ref.load_state_dict({k: v.astype(np.float64) for k, v in rnn.state_dict().items()})
    np.testing.assert_allclose(y, ref(x.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_attention_gradcheck_and_causality():
    nnk.manual_seed(5)
    att = nn.SelfAttention(4, causal=True)
    x = RNG.standard_normal((2, 5, 4))
    assert nnk.gradcheck(att, x)
    y = att(x)
    x2 = x.copy()
    x2[:, 3:] += RNG.standard_normal((2, 2, 4)) * 10  # change the later positions
    y2 = att(x2)
    np.testing.assert_array_equal(y[:, :3], y2[:, :3])   # earlier outputs exactly unchanged
    assert not np.allclose(y[:, 3:], y2[:, 3:])
    full = nn.SelfAttention(4, causal=False)
    assert nnk.gradcheck(full, x)


@pytest.mark.parametrize("causal", [True, False])
def test_self_attention_equals_torch(causal):
    """Forward and every gradient against PyTorch's scaled_dot_product_attention between
    the module's four projections, with the causal mask and without it (gradcheck alone
    would pass a consistent but wrong forward)."""
    torch = pytest.importorskip("torch")
    nnk.manual_seed(8)
    att = nn.SelfAttention(6, causal=causal)
    rng = np.random.default_rng(9)
    x, g = rng.standard_normal((3, 5, 6)), rng.standard_normal((3, 5, 6))
    y = att(x)
    att.zero_grad()
    dx = att.backward(g)
    xt = torch.from_numpy(x).requires_grad_()
    w = {name: torch.from_numpy(getattr(att, name).weight.data.copy()).requires_grad_()
         for name in ("q", "k", "v", "o")}
    F = torch.nn.functional
    o = F.scaled_dot_product_attention(xt @ w["q"].T, xt @ w["k"].T, xt @ w["v"].T, is_causal=causal)
    yt = o @ w["o"].T
    (yt * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-11, atol=1e-12)
    for name, wt in w.items():
        np.testing.assert_allclose(getattr(att, name).weight.grad, wt.grad.numpy(), rtol=1e-11,
                                   atol=1e-12, err_msg=name)


def test_attention_by_hand():
    att = nn.SelfAttention(2, causal=True)
    for lin in (att.q, att.k, att.v, att.o):
        lin.weight.data[...] = np.eye(2)
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = att(x)
    # row 0 sees itself only; row 1: scores (x1.x0, x1.x1)/sqrt2 = (0, 1/sqrt2)
    w = np.exp([0.0, 1 / math.sqrt(2)])
    w /= w.sum()
    np.testing.assert_allclose(y, [[1.0, 0.0], w], rtol=1e-14)


def test_fixed_window_lm_gradcheck():
    nnk.manual_seed(6)
    lm = nn.FixedWindowLM(vocab=7, window=3, dim=4, hidden=5)
    ids = np.array([[1, 2, 3], [0, 6, 5]])
    logits = lm(ids)
    assert logits.shape == (2, 7)
    loss = nn.CrossEntropyLoss()

    def f(w):
        lm[0].weight.data[...] = w
        v = loss(lm(ids), np.array([4, 1]))
        lm.zero_grad()
        lm.backward(loss.backward())
        return v, [lm[0].weight.grad.copy()]

    assert nnk.gradcheck(f, lm[0].weight.data.copy())


def test_next_token_training_beats_uniform_and_samples():
    text, vocab = load_corpus()
    ids = vocab.encode(text)
    X, Y = windows(ids, 4)
    nnk.manual_seed(7)
    lm = nn.FixedWindowLM(len(vocab), window=4, dim=12, hidden=64)
    h = nnk.train(lm, nn.CrossEntropyLoss(), optim.Adam(lm.parameters(), lr=0.01), X, Y,
                  epochs=12, batch_size=64, progress=False)
    uniform = math.log(len(vocab))
    assert h.loss[0] > 0.8 * uniform
    assert h.loss[-1] < 0.6 * uniform  # well below the uniform baseline ln V
    context = list(vocab.encode("The "))
    for _ in range(20):
        context.append(nnk.sample(lm(np.array([context[-4:]]))[0], temperature=0.8))
    assert len(vocab.decode(context)) == 24
    greedy = nnk.sample(lm(np.array([vocab.encode("the ")]))[0], temperature=0)
    assert 0 <= greedy < len(vocab)


def test_train_takes_unsigned_token_ids():
    """uint8 token ids train as their int64 values do: the same losses and weights."""
    X = np.array([[0, 1], [1, 2], [2, 3], [3, 4]], dtype=np.uint8)
    runs = []
    for ids in (X, X.astype(np.int64)):
        nnk.manual_seed(10)
        lm = nn.FixedWindowLM(vocab=5, window=2, dim=3, hidden=4)
        h = nnk.train(lm, nn.CrossEntropyLoss(), optim.SGD(lm.parameters(), lr=0.1), ids,
                      np.array([2, 3, 4, 0]), epochs=3, progress=False)
        runs.append((h.loss, [p.data.copy() for p in lm.parameters()]))
    assert len(runs[0][0]) == 3 and runs[0][0] == runs[1][0] and runs[0][0][-1] < runs[0][0][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_sample_takes_one_id_per_row():
    logits = np.array([[0.0, 5.0, 1.0], [9.0, 0.0, 0.0]])
    np.testing.assert_array_equal(nnk.sample(logits, temperature=0), [1, 0])
    ids = nnk.sample(logits, rng=0)
    assert ids.shape == (2,) and ids.dtype == np.int64 and np.all((ids >= 0) & (ids < 3))
    batch = nnk.sample(np.zeros((4, 5, 3)), rng=1)
    assert batch.shape == (4, 5) and np.all((batch >= 0) & (batch < 3))
    assert isinstance(nnk.sample(logits[0], rng=0), int)
    # frequencies follow softmax per row (20,000 draws: 4 sigma is about 1.5 %)
    rows = np.repeat(np.log([[0.2, 0.5, 0.3]]), 20_000, axis=0)
    freq = np.bincount(nnk.sample(rows, rng=2), minlength=3) / rows.shape[0]
    np.testing.assert_allclose(freq, [0.2, 0.5, 0.3], atol=0.015)
    # a temperature divides the logits: T = 0.5 squares the probabilities, renormalised
    sharp = np.bincount(nnk.sample(rows, temperature=0.5, rng=3), minlength=3) / rows.shape[0]
    np.testing.assert_allclose(sharp, np.array([0.04, 0.25, 0.09]) / 0.38, atol=0.015)
    # a vanishing probability is never drawn; a certain one always is
    sure = np.array([[0.0, -np.inf, -np.inf], [-np.inf, -np.inf, 0.0]])
    for seed in range(20):
        np.testing.assert_array_equal(nnk.sample(sure, rng=seed), [0, 2])


def test_embedding_backward_checks_the_gradient_shape():
    emb = nn.Embedding(5, 2)
    emb(np.array([1, 4, 4]))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        emb.backward(np.ones((2, 3)))  # six values, as many as (3, 2), in the wrong shape
    emb.zero_grad()
    emb.backward(np.ones((3, 2)))
    np.testing.assert_array_equal(emb.weight.grad[[1, 4]], [[1, 1], [2, 2]])


def test_embedding_ids_changed_after_forward_do_not_move_the_gradient():
    emb = nn.Embedding(5, 2)
    ids = np.array([0, 1, 2])
    emb(ids)
    ids[:] = 4
    emb.zero_grad()
    emb.backward(np.ones((3, 2)))
    np.testing.assert_array_equal(emb.weight.grad.sum(axis=1), [2, 2, 2, 0, 0])


def test_rnn_input_changed_after_forward_does_not_change_backward():
    def run(mutate):
        nnk.manual_seed(4)
        rnn = nn.RNN(3, 4)
        x = RNG.standard_normal((2, 5, 3)) if not mutate else run.x.copy()
        run.x = x.copy()
        h = rnn(x)
        if mutate:
            x[...] = 0
            h[...] = 0
        rnn.zero_grad()
        return rnn.backward(np.ones_like(h)), [p.grad.copy() for p in rnn.parameters()]

    (dx, grads), (dx2, grads2) = run(False), run(True)
    np.testing.assert_array_equal(dx2, dx)
    for a, b in zip(grads2, grads):
        np.testing.assert_array_equal(a, b)


def test_empty_batches_flow_through():
    assert nn.Flatten()(np.zeros((0, 3, 4))).shape == (0, 12)
    lm = nn.FixedWindowLM(10, 3, dim=4, hidden=8)
    y = lm(np.zeros((0, 3), np.int64))
    assert y.shape == (0, 10)
    lm.zero_grad()
    lm.backward(np.zeros((0, 10)))
    assert all(np.all(p.grad == 0) for p in lm.parameters())


def test_generate_leaves_layers_keeping_private_copies():
    """generate's loop keeps its layers' inputs uncopied (they are its own arrays); after
    it, even after one that raised, a forward keeps a copy again, so that changing the
    input in place does not change the gradient."""
    gpt = nn.GPT(20, 8, 1, 2, 8)
    gpt.generate(np.zeros((1, 1), np.int64), 3, seed=0)
    with pytest.raises(IndexError):  # raised inside the loop: a token id past the vocabulary
        gpt.generate(np.full((1, 1), 25), 3)
    lin = nn.Linear(3, 2)
    x = np.arange(6.0).reshape(2, 3)
    lin(x)
    expect = np.ones((2, 2)).T @ x
    x[...] = 0
    lin.zero_grad()
    lin.backward(np.ones((2, 2)))
    np.testing.assert_allclose(lin.weight.grad, expect)


@pytest.mark.parametrize("dims", [(), (0,), (1, 2), (2, -1), (-2, -1), (3, 3), (0, -1)])
def test_flatten_joins_the_dimensions_torch_does(dims):
    """Flatten(start_dim, end_dim) as torch.nn.Flatten: the same shape and values forward,
    the gradient reshaped back, its repr; dimensions that do not fit are refused."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    ours, theirs = nn.Flatten(*dims), torch.nn.Flatten(*dims)
    y = ours(x)
    np.testing.assert_array_equal(y, theirs(torch.from_numpy(x)).numpy())
    g = np.arange(y.size, dtype=float).reshape(y.shape)
    np.testing.assert_array_equal(ours.backward(g), g.reshape(x.shape))
    assert repr(ours) == repr(theirs)
    for bad in [(2, 1), (0, 4), (-5, -1)]:
        with pytest.raises(ValueError, match="does not fit an input of shape"):
            nn.Flatten(*bad)(x)
    with pytest.raises(ValueError, match="does not fit"):
        nn.Flatten()(np.zeros(3))  # one dimension: nothing after the first (torch: IndexError)
