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


@pytest.mark.parametrize("kind", ["sgd", "momentum", "nesterov", "momentum_dampening_maximize",
                                  "adam", "adam_l2", "adamw", "adam_l2_amsgrad",
                                  "adamw_amsgrad_maximize"])
def test_optimizer_trajectories_equal_torch(kind):
    ours, theirs = pair("tanh", out=1)
    target = np.linspace(-1, 1, X.shape[0]).reshape(-1, 1)
    if kind.startswith("adam"):
        decoupled = kind.startswith("adamw")
        ours_cls, theirs_cls = (optim.AdamW, torch.optim.AdamW) if decoupled else (optim.Adam, torch.optim.Adam)
        kw = dict(lr=0.01, weight_decay=0.0 if kind == "adam" else 0.1,
                  amsgrad="amsgrad" in kind, maximize="maximize" in kind)
        o_n, o_t = ours_cls(ours.parameters(), **kw), theirs_cls(theirs.parameters(), **kw)
    else:
        kw = dict(lr=0.05, momentum=0.0 if kind == "sgd" else 0.9, nesterov=kind == "nesterov",
                  weight_decay=0.0 if kind in ("sgd", "momentum") else 0.01,
                  dampening=0.3 if "dampening" in kind else 0.0, maximize="maximize" in kind)
        o_n, o_t = optim.SGD(ours.parameters(), **kw), torch.optim.SGD(theirs.parameters(), **kw)
    lf, lt = nn.MSELoss(), torch.nn.MSELoss()
    xt, tt = torch.from_numpy(X), torch.from_numpy(target)
    up = -1.0 if "maximize" in kind else 1.0  # maximising -MSE: a trajectory as calm as descent's
    for _ in range(40):
        lf(ours(X), target)
        ours.zero_grad()
        ours.backward(up * lf.backward())
        o_n.step()
        o_t.zero_grad()
        (up * lt(theirs(xt), tt)).backward()
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


POINTWISE = {  # nnk's module, PyTorch's, and the inputs each takes
    "mse": (nn.MSELoss, torch.nn.MSELoss, lambda r, s: r.standard_normal(s), lambda r, s: r.standard_normal(s)),
    "mae": (nn.MAELoss, torch.nn.L1Loss, lambda r, s: r.standard_normal(s), lambda r, s: r.standard_normal(s)),
    "bce": (nn.BCELoss, torch.nn.BCELoss, lambda r, s: r.uniform(0.02, 0.98, s), lambda r, s: r.uniform(0, 1, s)),
    "bce_logits": (nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss, lambda r, s: 4 * r.standard_normal(s),
                   lambda r, s: r.uniform(0, 1, s)),
}


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", sorted(POINTWISE))
def test_pointwise_losses_equal_torch_for_every_reduction(loss, reduction, dtype, tol):
    """MSE, MAE, BCE and BCE on logits with reduction mean, sum and none: the loss (each
    element's for none) and dL/dinput, with an upstream gradient per element for none;
    130 values, past every vector width's tail."""
    ours_cls, theirs_cls, make_y, make_t = POINTWISE[loss]
    rng = np.random.default_rng(21)
    y, t = make_y(rng, (10, 13)).astype(dtype), make_t(rng, (10, 13)).astype(dtype)
    ours, theirs = ours_cls(reduction=reduction), theirs_cls(reduction=reduction)
    value = ours(y, t)
    yt = torch.from_numpy(y.copy()).requires_grad_()
    vt = theirs(yt, torch.from_numpy(t))
    up = rng.standard_normal(y.shape).astype(dtype) if reduction == "none" else None
    vt.backward(torch.from_numpy(up) if up is not None else None)
    dy = ours.backward(up)
    np.testing.assert_allclose(value, vt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(dy, yt.grad.numpy(), rtol=tol, atol=tol * np.abs(yt.grad.numpy()).max())


# ---- LayerNorm and the fused cross-entropy (NNK_ROW_LAYER_LIST) ---------------------

@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("shape, normalized", [((5, 7), 7), ((2, 3, 33), 33), ((4, 3, 5), (3, 5)),
                                               ((6, 1), 1)])
@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, False)])
def test_layernorm_equals_torch(dtype, tol, shape, normalized, affine, bias):
    """Forward, dL/dx, dL/dweight, dL/dbias against torch.nn.LayerNorm, rows of very
    different offsets (the variance is taken about the mean, not as E[x^2] - mean^2);
    with a weight and a bias, a weight alone (bias=False) and neither."""
    rng = np.random.default_rng(11)
    offset = 1e3 if dtype == np.float64 else 30  # float32 keeps fewer digits of x - mean
    x = (rng.standard_normal(shape) * 3 +
         rng.uniform(-offset, offset, shape[:1] + (1,) * (len(shape) - 1))).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    ours = nn.LayerNorm(normalized, eps=1e-5, elementwise_affine=affine, bias=bias, dtype=dtype)
    theirs = torch.nn.LayerNorm(normalized, eps=1e-5, elementwise_affine=affine, bias=bias,
                                dtype=torch.float64 if dtype == np.float64 else torch.float32)
    pairs = [(ours.weight, theirs.weight)] * affine + [(ours.bias, theirs.bias)] * bias
    for p_n, p_t in pairs:  # parameters away from their initial ones and zeros
        v = rng.uniform(0.5, 1.5, p_n.data.shape).astype(dtype)
        p_n.data[...] = v
        with torch.no_grad():
            p_t.copy_(torch.from_numpy(v))
    y = ours(x)
    ours.zero_grad()
    dx = ours.backward(g)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    yt = theirs(xt)
    yt.backward(torch.from_numpy(g))
    # x - mean keeps |mean| / std fewer digits: either library's rounding grows by that
    k = 1 if isinstance(normalized, int) else len(normalized)
    axes = tuple(range(x.ndim - k, x.ndim))
    x64 = x.astype(np.float64)
    cond = 1 + np.max(np.abs(x64.mean(axis=axes)) / np.sqrt(x64.var(axis=axes) + 1e-5))
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=tol * cond,
                                                    atol=tol * cond * (np.abs(b).max() + 1))
    close(y, yt.detach().numpy())
    close(dx, xt.grad.numpy())
    for p_n, p_t in pairs:
        close(p_n.grad, p_t.grad.numpy())
    assert ours.parameters() == [p for p, _ in pairs]


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-13), (np.float32, 1e-5)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("n, c", [(1, 1), (7, 3), (64, 10), (5, 1000)])
def test_cross_entropy_fused_equals_torch(dtype, tol, reduction, n, c):
    """Loss and dL/dlogits from class indices against torch's cross_entropy, logits up to
    1e4 apart (the max is taken out first), through the module and the functions."""
    rng = np.random.default_rng(n * c)
    logits = (rng.standard_normal((n, c)) * np.where(rng.random((n, 1)) < 0.3, 1e4, 3)).astype(dtype)
    target = rng.integers(0, c, n)
    lf = nn.CrossEntropyLoss(reduction=reduction)
    value = lf(logits, target)
    g = lf.backward(None if reduction != "none" else np.ones(n, dtype)[:, None])
    lt = torch.from_numpy(logits.copy()).requires_grad_()
    vt = torch.nn.functional.cross_entropy(lt, torch.from_numpy(target), reduction=reduction)
    vt.backward(torch.ones_like(vt))
    want = vt.detach().numpy()
    np.testing.assert_allclose(value, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(g, lt.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(nnk.cross_entropy(logits, target, reduction), want, rtol=tol, atol=tol)
    # the gradient is handed over once per forward, as PyTorch frees its graph
    with pytest.raises(RuntimeError, match="call forward first"):
        lf.backward()


# ---- Causal multi-head self-attention (NNK_ATTENTION_LIST) --------------------------

def _torch_causal_attention(x, c_attn, c_proj, n_head):
    """nanoGPT's CausalSelfAttention.forward, written out (no dropout)."""
    B, T, C = x.shape
    q, k, v = c_attn(x).split(C, dim=2)
    q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
    y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    return c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-11), (np.float32, 2e-5)])
@pytest.mark.parametrize("B, T, C, H", [(2, 5, 12, 3), (1, 1, 8, 2), (3, 17, 40, 4), (2, 9, 6, 1)])
def test_causal_self_attention_equals_torch(dtype, tol, B, T, C, H):
    """Output, dL/dx and every parameter's gradient against PyTorch's scaled dot-product
    attention with the causal mask, the weights copied across."""
    nnk.manual_seed(B * T + C)
    ours = nn.CausalSelfAttention(C, H, dtype=dtype)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    c_attn, c_proj = torch.nn.Linear(C, 3 * C, dtype=tdt), torch.nn.Linear(C, C, dtype=tdt)
    with torch.no_grad():
        for mod, lin in ((c_attn, ours.c_attn), (c_proj, ours.c_proj)):
            mod.weight.copy_(torch.from_numpy(lin.weight.data)), mod.bias.copy_(torch.from_numpy(lin.bias.data))
    rng = np.random.default_rng(T)
    x = rng.standard_normal((B, T, C)).astype(dtype)
    g = rng.standard_normal((B, T, C)).astype(dtype)
    y = ours(x)
    ours.zero_grad()
    dx = ours.backward(g)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    yt = _torch_causal_attention(xt, c_attn, c_proj, H)
    yt.backward(torch.from_numpy(g))
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=tol, atol=tol * (np.abs(b).max() + 1))
    close(y, yt.detach().numpy())
    close(dx, xt.grad.numpy())
    for name, p in ours.named_parameters():
        mod = c_attn if name.startswith("c_attn") else c_proj
        close(p.grad, getattr(mod, name.split(".")[1]).grad.numpy())
    assert [n for n, _ in ours.named_parameters()] == ["c_attn.weight", "c_attn.bias",
                                                       "c_proj.weight", "c_proj.bias"]


def test_attention_binding_checks_shapes():
    from nnk import _C
    qkv = np.zeros((2, 3, 12))
    with pytest.raises(ValueError, match="multiple of n_head"):
        _C.attention_forward(qkv, 5, 1.0, np.empty((2, 3, 4)), np.empty(2 * 5 * 3))
    with pytest.raises(ValueError, match="lse holds"):
        _C.attention_forward(qkv, 2, 1.0, np.empty((2, 3, 4)), np.empty(7))
    with pytest.raises(ValueError, match="must be"):
        _C.attention_forward(np.zeros((2, 12)), 2, 1.0, np.empty((2, 4)), np.empty(4))
    with pytest.raises(ValueError, match="grad_qkv holds"):
        _C.attention_backward(qkv, 2, 1.0, np.empty((2, 3, 4)), np.empty(12), np.empty((2, 3, 4)),
                              np.empty(5))


# ---- GPT, nanoGPT's structure -------------------------------------------------------

def _torch_gpt(vocab, block, n_layer, n_head, n_embd, tdt, bias=True):
    """nanoGPT's model (Karpathy's model.py, dropout 0), written out with torch.nn; bias as
    nanoGPT's GPTConfig.bias (False: no bias in the Linears and LayerNorms)."""
    F = torch.nn.functional

    class Attn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = torch.nn.Linear(n_embd, 3 * n_embd, bias=bias)
            self.c_proj = torch.nn.Linear(n_embd, n_embd, bias=bias)

        def forward(self, x):
            return _torch_causal_attention(x, self.c_attn, self.c_proj, n_head)

    class MLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = torch.nn.Linear(n_embd, 4 * n_embd, bias=bias)
            self.c_proj = torch.nn.Linear(4 * n_embd, n_embd, bias=bias)

        def forward(self, x):
            return self.c_proj(F.gelu(self.c_fc(x)))

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn = torch.nn.LayerNorm(n_embd, bias=bias), Attn()
            self.ln_2, self.mlp = torch.nn.LayerNorm(n_embd, bias=bias), MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = torch.nn.ModuleDict(dict(
                wte=torch.nn.Embedding(vocab, n_embd), wpe=torch.nn.Embedding(block, n_embd),
                h=torch.nn.ModuleList([Block() for _ in range(n_layer)]),
                ln_f=torch.nn.LayerNorm(n_embd, bias=bias)))
            self.lm_head = torch.nn.Linear(n_embd, vocab, bias=False)
            self.transformer.wte.weight = self.lm_head.weight

        def forward(self, idx):
            T = idx.shape[1]
            x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
            for b in self.transformer.h:
                x = b(x)
            return self.lm_head(self.transformer.ln_f(x))

    return Model().to(tdt)


# The key bias (entries C..2C-1 of each c_attn.bias) shifts every score of a row alike,
# which softmax ignores: its exact gradient is zero and both libraries compute rounding
# noise there, which Adam's normalisation (noise far below eps) turns into steps of
# lr * noise / eps, different for every summation order and ISA.  So each step checks
# that both libraries' key-bias gradients are noise beside the query bias's (within
# 100 eps of it; a wrong gradient would not be), then zeroes them in both before the optimiser steps: the
# weights must then agree everywhere, the key bias (moved by weight decay alone) included.
@pytest.mark.parametrize("dtype, tol, wtol", [(np.float64, 1e-10, 1e-10), (np.float32, 1e-4, 1e-4)])
@pytest.mark.parametrize("bias", [True, False])
def test_gpt_equals_nanogpt_in_torch(dtype, tol, wtol, bias):
    """Same weights (nnk's state_dict loaded into the PyTorch model by nanoGPT's names):
    the same logits, loss, every gradient, and the same weights after ten AdamW steps;
    with biases (GPT-2's) and without (nanoGPT's bias=False)."""
    V, block, L, H, C, B, T = 61, 12, 2, 2, 16, 3, 10
    nnk.manual_seed(3)
    ours = nn.GPT(V, block, L, H, C, bias=bias, dtype=dtype)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    theirs = _torch_gpt(V, block, L, H, C, tdt, bias=bias)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    assert set(ours.state_dict()) == set(theirs.state_dict())
    rng = np.random.default_rng(4)
    idx, tgt = rng.integers(0, V, (B, T)), rng.integers(0, V, (B, T))
    o_n = optim.AdamW(ours.parameters(), lr=1e-2, weight_decay=0.1)
    o_t = torch.optim.AdamW(theirs.parameters(), lr=1e-2, weight_decay=0.1)
    lf = nn.CrossEntropyLoss()
    named_t = dict(theirs.named_parameters())
    attn_biases = [name for name, _ in ours.named_parameters() if name.endswith("attn.c_attn.bias")]
    assert len(attn_biases) == (L if bias else 0)
    assert bias or not any(name.endswith(".bias") for name in ours.state_dict())
    noise = 100 * np.finfo(dtype).eps  # measured: 1 to 4 eps on every ISA
    for step in range(10):
        logits = ours(idx)
        loss = lf(logits.reshape(-1, V), tgt.reshape(-1))
        ours.zero_grad()
        ours.backward(lf.backward().reshape(logits.shape))
        lt = theirs(torch.from_numpy(idx))
        vt = torch.nn.functional.cross_entropy(lt.reshape(-1, V), torch.from_numpy(tgt.reshape(-1)))
        o_t.zero_grad()
        vt.backward()
        if step == 0:
            np.testing.assert_allclose(logits, lt.detach().numpy(), rtol=tol, atol=tol)
            assert loss == pytest.approx(vt.item(), rel=tol)
            for name, p in ours.named_parameters():
                want = named_t[name].grad.numpy()
                np.testing.assert_allclose(p.grad, want, rtol=tol, atol=tol * (np.abs(want).max() + 1e-3),
                                           err_msg=name)
        ours_p = dict(ours.named_parameters())
        for name in attn_biases:
            for g in (ours_p[name].grad, named_t[name].grad.numpy()):
                query_scale = np.abs(g[:C]).max()
                assert query_scale > 0
                assert np.abs(g[C:2 * C]).max() <= noise * query_scale, (step, name)
            ours_p[name].grad[C:2 * C] = 0
            named_t[name].grad[C:2 * C] = 0
        o_n.step()
        o_t.step()
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.data, named_t[name].detach().numpy(), rtol=wtol, atol=wtol, err_msg=name)
    # lm_head is the token embedding itself, in both
    assert ours.lm_head.weight is ours.transformer.wte.weight


def test_gpt_generate_is_seeded_and_respects_top_k():
    nnk.manual_seed(0)
    m = nn.GPT(20, 8, 1, 2, 8, dtype=np.float64)
    a = m.generate([[1, 2]], 12, seed=5)
    assert a.shape == (1, 14) and (a[:, :2] == [[1, 2]]).all()
    assert (m.generate([[1, 2]], 12, seed=5) == a).all()
    # top_k = 1 is greedy: the argmax of each step's logits
    g = m.generate([[1, 2]], 6, top_k=1, seed=9)
    for t in range(2, 8):
        assert g[0, t] == np.argmax(m(g[:, max(0, t - 8):t])[0, -1])
    # top_k = 3 at a high temperature: every token among its step's three largest logits,
    # and not always the largest
    g = m.generate([[1, 2]], 30, temperature=5.0, top_k=3, seed=4)
    ranks = [int(np.sum(m(g[:, max(0, t - 8):t])[0, -1] > m(g[:, max(0, t - 8):t])[0, -1][g[0, t]]))
             for t in range(2, 32)]
    assert max(ranks) <= 2 and min(ranks) == 0 and max(ranks) > 0
    with pytest.raises(ValueError, match="block_size"):
        m(np.zeros((1, 9), np.int64))


@pytest.mark.parametrize("top_k", [None, 1, 5])
def test_gpt_generate_with_the_key_value_cache_equals_the_whole_window(top_k):
    """The cached decode (one position per token, the window restarted when it slides past
    block_size) picks the same tokens as running the whole window every step."""
    nnk.manual_seed(1)
    m = nn.GPT(40, 8, 2, 2, 12, dtype=np.float64)
    start = [[1, 2, 3], [7, 7, 7]]
    cached = m.generate(start, 20, top_k=top_k, seed=11)
    whole = m.generate(start, 20, top_k=top_k, seed=11, use_cache=False)
    assert cached.shape == (2, 23) and (cached == whole).all()


def test_attention_step_equals_the_full_forward_row():
    nnk.manual_seed(2)
    attn = nn.CausalSelfAttention(12, 3, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 6, 12))
    full = attn(x)
    cache = np.zeros((2, 8, 36))
    first = attn.prefill(x[:, :4], cache)
    np.testing.assert_allclose(first, full[:, :4], rtol=1e-13, atol=1e-13)
    for t in (4, 5):
        np.testing.assert_allclose(attn.step(x[:, t:t + 1], cache, t)[:, 0], full[:, t], rtol=1e-13, atol=1e-13)
    from nnk import _C
    with pytest.raises(IndexError, match="outside a cache of 8 rows"):
        _C.attention_step(cache, 8, 3, 0.5, np.empty((2, 12)))


def test_row_layers_on_threads_equal_one_thread(set_threads):
    """LayerNorm forward and the fused cross-entropy share large inputs' rows among the
    threads: the same bits as one thread."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((1031, 257)).astype(np.float32)  # past the threading size
    labels = rng.integers(0, 257, 1031)
    results = []
    for threads in (1, 2, 3):
        set_threads(threads)
        ln = nn.LayerNorm(257, dtype=np.float32)
        lf = nn.CrossEntropyLoss()
        results.append((ln(x), lf(x, labels), lf.backward()))
    for y, loss, g in results[1:]:
        np.testing.assert_array_equal(y, results[0][0])
        assert loss == results[0][1]
        np.testing.assert_array_equal(g, results[0][2])
