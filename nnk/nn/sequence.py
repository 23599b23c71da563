"""Sequence models of the course: embeddings, the tanh RNN, single-head self-attention,
a fixed-window neural LM, and sampling from next-token probabilities."""
import math
import operator

import numpy as np

from .. import _C, _random
from .._arrays import as_float
from ..linalg import gemm
from ..softmax import softmax, softmax_grad
from .layers import Flatten, Linear, Tanh
from .module import (Module, Parameter, Sequential, _check_grad_shape, _dtype, _keep, _layer_input,
                     _size, _uniform)

class Embedding(Module):
    """Integer ids of any shape -> (..., dim) vectors; backward accumulates rows (C kernel).

    ``padding_idx`` as torch.nn.Embedding's: that row starts at zero and no gradient
    reaches it, so a padding token's vector stays what it is (negative: counted from
    the end)."""

    def __init__(self, num_embeddings, dim, dtype=np.float64, *, padding_idx=None):
        if isinstance(dtype, (int, np.integer)):  # torch's third argument
            raise TypeError(f"Embedding's third argument is the dtype; padding_idx goes by "
                            f"keyword: Embedding({num_embeddings}, {dim}, padding_idx={dtype})")
        dtype = _dtype(dtype)
        shape = (_size(num_embeddings, "num_embeddings"), _size(dim, "embedding dim"))
        if padding_idx is not None:
            padding_idx = operator.index(padding_idx)
            if not -shape[0] <= padding_idx < shape[0]:
                raise ValueError(f"padding_idx must lie in [-{shape[0]}, {shape[0]}), got {padding_idx}")
            padding_idx %= shape[0]
        self.padding_idx = padding_idx
        self.weight = Parameter(_random.generator().standard_normal(shape).astype(dtype))
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0
        self._ids = None

    def forward(self, ids):
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"Embedding takes integer ids, got dtype {ids.dtype}")
        n = self.weight.data.shape[0]
        if ids.size and (ids.min() < 0 or ids.max() >= n):
            raise IndexError(f"Embedding ids must lie in [0, {n}), got {ids.min()}..{ids.max()}")
        # a private copy: ids changed after forward must not move the gradient elsewhere
        self._ids = np.array(ids, dtype=np.int64, order="C")
        return self.weight.data[self._ids]

    def backward(self, g, input_grad=True):
        ids = self._needs("_ids")
        w = self.weight.data
        g = np.asarray(as_float(g), dtype=w.dtype, order="C")
        _check_grad_shape("Embedding", g, ids.shape + w.shape[1:])
        _C.embedding_backward(ids.reshape(-1), g.reshape(-1, w.shape[1]), self.weight.grad,
                              -1 if self.padding_idx is None else self.padding_idx)
        return None  # ids have no gradient

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.weight.data.shape[0]}, {self.weight.data.shape[1]}{pad}"


class RNN(Module):
    """h_t = tanh(W_c c_t + W_h h_{t-1} + b), one layer, batch first.

    (B, T, input) in, every hidden state (B, T, hidden) out; ``h0`` (B, hidden) optional
    (or torch.nn.RNN's (1, B, hidden); for one sequence (hidden,) or (1, hidden)).  The
    time loop and backpropagation through time run in C.  Parameters (state_dict):
    ``weight_ih`` (hidden, input) = W_c, ``weight_hh`` (hidden, hidden) = W_h, ``bias``.
    torch.nn.RNN has two biases; ours is their sum: a one-layer torch.nn.RNN's state dict
    (``weight_ih_l0``, ..., ``bias_hh_l0``) loads as it is, its biases added.
    torch.nn.RNN(batch_first=True) returns (outputs, h_n): here the outputs, whose last
    step is h_n.
    """

    def __init__(self, input_size, hidden_size, bias=True, dtype=np.float64):
        dtype = _dtype(dtype)
        input_size, hidden_size = _size(input_size, "input_size"), _size(hidden_size, "hidden_size")
        self.weight_ih = _uniform((hidden_size, input_size), hidden_size, dtype)
        self.weight_hh = _uniform((hidden_size, hidden_size), hidden_size, dtype)
        self.bias = _uniform(hidden_size, hidden_size, dtype) if bias else None
        self._saved = None

    def forward(self, x, h0=None):
        dt = self.weight_ih.data.dtype
        x = _layer_input(x, dt, self)
        H, I = self.weight_ih.data.shape
        if x.ndim == 2:  # one sequence: h0 (H,) or torch's (1, H)
            if h0 is not None and np.shape(h0) not in ((H,), (1, H)):
                raise ValueError(f"h0 for one sequence must have shape {(H,)} or {(1, H)}, "
                                 f"got {np.shape(h0)}")
            h = self.forward(x[None], None if h0 is None else np.reshape(h0, (1, H)))[0]
            self._h0_shape = None if h0 is None else np.shape(h0)
            return h
        if x.ndim != 3 or x.shape[2] != I:
            raise ValueError(f"RNN expects (B, T, {I}), got {x.shape}")
        B, T = x.shape[:2]
        self._h0_shape = None
        if h0 is not None:
            h0 = _layer_input(h0, dt, self)
            if h0.shape not in ((B, H), (1, B, H)):
                raise ValueError(f"h0 must have shape {(B, H)} (or torch's {(1, B, H)}), got {h0.shape}")
            self._h0_shape, h0 = h0.shape, h0.reshape(B, H)
        h = np.empty((B, T, H), dt)
        _C.rnn_forward(B, T, I, H, x, self.weight_ih.data, self.weight_hh.data,
                       None if self.bias is None else self.bias.data, h0, h)
        self._saved = (_keep(x), None if h0 is None else _keep(h0), _keep(h))
        return h

    def _torch_names(self, state, prefix):
        """torch.nn.RNN's one-layer names: weight_ih_l0, weight_hh_l0, and its two biases,
        whose sum is ours (computed in float64, rounded once on loading)."""
        if prefix + "weight_ih_l0" not in state:
            return
        for ours in ("weight_ih", "weight_hh"):
            if prefix + ours + "_l0" in state:
                state[prefix + ours] = state.pop(prefix + ours + "_l0")
        b_ih, b_hh = prefix + "bias_ih_l0", prefix + "bias_hh_l0"
        if b_ih in state and b_hh in state:
            state[prefix + "bias"] = (np.asarray(state.pop(b_ih), np.float64)
                                      + np.asarray(state.pop(b_hh), np.float64))

    def backward(self, g, input_grad=True):
        """Gradient w.r.t. the input sequence (None with ``input_grad=False``); parameter
        gradients accumulate.  The gradient w.r.t. h0 (when h0 was given) is left in
        ``self.h0_grad``."""
        x, h0, h = self._needs("_saved")
        squeeze = np.ndim(g) == 2
        _check_grad_shape("RNN", g, h.shape, one_sequence=True)
        g = np.array(g, dtype=h.dtype).reshape(h.shape)  # a copy: the kernel overwrites it
        B, T, H = h.shape
        I = x.shape[2]
        dx = np.empty_like(x)
        self.h0_grad = None if h0 is None else np.zeros_like(h0)
        _C.rnn_backward(B, T, I, H, x, self.weight_ih.data, self.weight_hh.data, h0, h, g, dx,
                        self.weight_ih.grad, self.weight_hh.grad,
                        None if self.bias is None else self.bias.grad, self.h0_grad)
        if self.h0_grad is not None:  # in the shape h0 was given
            self.h0_grad = self.h0_grad.reshape(self._h0_shape)
        if not input_grad:
            return None
        return dx[0] if squeeze else dx

    def extra_repr(self):
        H, I = self.weight_ih.data.shape
        return f"{I}, {H}"


class SelfAttention(Module):
    """Single-head scaled dot-product self-attention, (B, T, dim) in and out.

    Q, K, V = x Wq^T, x Wk^T, x Wv^T;  P = softmax(Q K^T / sqrt(dim)) with a causal mask
    (position i sees j <= i, exactly: masked scores are -inf, so their weight is 0);
    y = (P V) Wo^T.  Softmax runs through the log-sum-exp kernel; every product is a GEMM.
    """

    def __init__(self, dim, causal=True, dtype=np.float64):
        dim = _size(dim, "dim")
        self.q, self.k, self.v, self.o = (Linear(dim, dim, bias=False, dtype=dtype) for _ in range(4))
        self.dim, self.causal, self._saved = dim, causal, None

    def forward(self, x):
        x = _layer_input(x, self.q.weight.data.dtype, self)
        if x.ndim == 2:
            return self.forward(x[None])[0]
        if x.ndim != 3 or x.shape[-1] != self.dim:
            raise ValueError(f"SelfAttention({self.dim}) takes (B, T, {self.dim}) or (T, {self.dim}), "
                             f"got {x.shape}")
        B, T, D = x.shape
        Q, K, V = self.q(x), self.k(x), self.v(x)
        S = np.empty((B, T, T), x.dtype)
        for b in range(B):  # one GEMM per sequence of the batch
            gemm(Q[b], K[b], alpha=1 / math.sqrt(D), trans_b=True, out=S[b])
        if self.causal:
            later = np.triu_indices(T, 1)  # (i, j) with j > i: what position i may not see
            S[:, later[0], later[1]] = -np.inf
        P = softmax(S, axis=-1)
        O = np.empty_like(Q)
        for b in range(B):
            gemm(P[b], V[b], out=O[b])
        self._saved = (Q, K, V, P)
        return self.o(O)

    def backward(self, g, input_grad=True):
        Q, K, V, P = self._needs("_saved")
        squeeze = np.ndim(g) == 2
        _check_grad_shape("SelfAttention", g, Q.shape, one_sequence=True)
        g = as_float(g).reshape(Q.shape)
        dO = self.o.backward(g)
        B, T, D = Q.shape
        dQ, dK, dV = np.empty_like(Q), np.empty_like(K), np.empty_like(V)
        for b in range(B):
            dP = gemm(dO[b], V[b], trans_b=True)
            gemm(P[b], dO[b], trans_a=True, out=dV[b])
            dS = softmax_grad(P[b], dP)
            gemm(dS, K[b], alpha=1 / math.sqrt(D), out=dQ[b])
            gemm(dS, Q[b], alpha=1 / math.sqrt(D), trans_a=True, out=dK[b])
        dx = [lin.backward(d, input_grad) for lin, d in ((self.q, dQ), (self.k, dK), (self.v, dV))]
        if not input_grad:
            return None
        dx = dx[0] + dx[1] + dx[2]
        return dx[0] if squeeze else dx

    def extra_repr(self):
        return f"dim={self.dim}, causal={self.causal}"


class FixedWindowLM(Sequential):
    """The fixed-window neural LM of the lecture: the embeddings of the previous `window`
    tokens, concatenated -> Linear -> tanh -> Linear -> logits over the vocabulary."""

    def __init__(self, vocab, window, dim=16, hidden=64, dtype=np.float64):
        super().__init__(Embedding(vocab, dim, dtype), Flatten(), Linear(window * dim, hidden, dtype=dtype),
                         Tanh(), Linear(hidden, vocab, dtype=dtype))
        self.window = window


def sample(logits, temperature=1.0, rng=None):
    """Token ids drawn from softmax(logits / temperature) over the last axis; temperature 0
    is greedy (argmax).  1-D logits give one int; (..., V) logits one id per row, an
    integer array of shape (...), as ``torch.multinomial`` and ``argmax(-1)`` do.  A -inf
    logit is a token never drawn; NaN or +inf logits, or a row of -inf alone, are a
    ValueError (as torch.multinomial refuses such probabilities).

    ``rng``: None (the generator ``nnk.manual_seed`` seeds), an int seed, or a
    ``numpy.random.Generator``.
    """
    logits = as_float(logits)
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise ValueError(f"sample: logits must be (..., V) with V >= 1, got shape {logits.shape}")
    temperature = float(temperature)
    if not temperature >= 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if rng is None:
        rng = _random.generator()
    elif not isinstance(rng, np.random.Generator):
        if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (int, np.integer)):
            raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, "
                            f"got {type(rng).__name__}")
        rng = np.random.default_rng(rng)
    if not np.isfinite(np.max(logits, axis=-1)).all():  # a row's largest: NaN, +inf or -inf
        if np.isnan(logits).any() or (logits == np.inf).any():  # torch.multinomial refuses them
            raise ValueError("sample: logits must be finite or -inf (a token never drawn); "
                             "these hold NaN or +inf")
        raise ValueError("sample: a row whose every logit is -inf has no token to draw")
    if temperature == 0:
        ids = np.argmax(logits, axis=-1)
    else:
        p = softmax(logits / temperature, axis=-1)
        cdf = np.cumsum(p, axis=-1)
        u = rng.random(p.shape[:-1] + (1,)) * cdf[..., -1:]  # inverse CDF, one draw per row
        ids = np.minimum((cdf <= u).sum(axis=-1), p.shape[-1] - 1)
    return int(ids) if logits.ndim == 1 else ids.astype(np.int64)
