"""Sequence models of the course: embeddings, the tanh RNN, single-head self-attention,
a fixed-window neural LM, and sampling from next-token probabilities."""
import math
import operator
import warnings

import numpy as np

from .. import _C, _random
from .._arrays import as_float, as_real
from ..linalg import gemm
from ..softmax import softmax, softmax_grad
from .layers import Flatten, Linear, Tanh, _dropout_scale
from .module import (Module, Parameter, Sequential, _check_grad_shape, _dtype, _keep, _layer_input,
                     _size, _uniform)

class Embedding(Module):
    """Integer ids of any shape -> (..., dim) vectors; backward accumulates rows (C kernel).

    As torch.nn.Embedding's keywords: ``padding_idx``, that row starting at zero and no
    gradient reaching it, so a padding token's vector stays what it is (negative: counted
    from the end); ``max_norm``, each row a forward looks up rescaled in place to that
    ``norm_type``-norm when it is longer (by max_norm / (norm + 1e-7)); and
    ``scale_grad_by_freq``, each row's gradient divided by how often the batch named it."""

    def __init__(self, num_embeddings, dim, dtype=np.float64, *, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, _weight=None):
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
        if max_norm is not None:  # kept as given (the repr shows it so), as torch's
            as_real(max_norm, "max_norm")
        as_real(norm_type, "norm_type")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq = bool(scale_grad_by_freq)
        if _weight is not None:  # from_pretrained's (its shape and dtype), no draw from the generator
            self.weight = Parameter(np.array(_weight, dtype=dtype))
        else:
            self.weight = Parameter(_random.generator().standard_normal(shape).astype(dtype))
            if padding_idx is not None:
                self.weight.data[padding_idx] = 0
        self._ids = None

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False):
        """An Embedding holding a copy of ``embeddings`` (num_embeddings, dim), its dtype
        kept (float32 or float64; others become float64), frozen unless ``freeze`` is
        False (Parameter.requires_grad), as torch.nn.Embedding.from_pretrained: the
        padding row keeps its values and gets no gradient."""
        w = as_float(embeddings, "embeddings")
        if w.ndim != 2:
            raise ValueError(f"embeddings must be 2-D (num_embeddings, dim), got shape {w.shape}")
        layer = cls(*w.shape, dtype=w.dtype, padding_idx=padding_idx, max_norm=max_norm,
                    norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, _weight=w)
        layer.weight.requires_grad_(not freeze)
        return layer

    def _renorm(self, ids):
        """torch's embedding_renorm_: the rows ids name whose norm exceeds max_norm scaled
        down to it, in place (outside any gradient, as torch does it)."""
        rows = np.unique(ids)
        w = self.weight.data
        norms = np.linalg.norm(w[rows], ord=self.norm_type, axis=1)
        long = norms > self.max_norm
        w[rows[long]] *= (self.max_norm / (norms[long] + 1e-7)).astype(w.dtype)[:, None]

    def forward(self, ids):
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"Embedding takes integer ids, got dtype {ids.dtype}")
        n = self.weight.data.shape[0]
        if ids.size and (ids.min() < 0 or ids.max() >= n):
            raise IndexError(f"Embedding ids must lie in [0, {n}), got {ids.min()}..{ids.max()}")
        # a private copy: ids changed after forward must not move the gradient elsewhere
        self._ids = np.array(ids, dtype=np.int64, order="C")
        if self.max_norm is not None and ids.size:
            self._renorm(self._ids)
        return self.weight.data[self._ids]

    def backward(self, g, input_grad=True):
        ids = self._needs("_ids")
        w = self.weight.data
        g = np.asarray(as_float(g), dtype=w.dtype, order="C")
        _check_grad_shape("Embedding", g, ids.shape + w.shape[1:])
        if self.weight.requires_grad:  # frozen (from_pretrained's default): nothing to add
            if self.scale_grad_by_freq and ids.size:  # each id's rows over its count
                flat = ids.reshape(-1)
                g = g / np.bincount(flat, minlength=w.shape[0])[flat].reshape(ids.shape + (1,)).astype(w.dtype)
            _C.embedding_backward(ids.reshape(-1), g.reshape(-1, w.shape[1]), self.weight.grad,
                                  -1 if self.padding_idx is None else self.padding_idx)
        return None  # ids have no gradient

    def extra_repr(self):  # torch's
        s = f"{self.weight.data.shape[0]}, {self.weight.data.shape[1]}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        return s


class RNN(Module):
    """h_t = tanh(W_c c_t + W_h h_{t-1} + b) (ReLU with ``nonlinearity="relu"``), as
    torch.nn.RNN: ``num_layers`` stacked (each layer's outputs the next one's inputs, with
    ``dropout`` on them while training, but for the last's), ``bidirectional`` (each layer
    also run from the last step back, its states beside the forward ones: 2 hidden wide).

    Batch first, as nnk's layers are: (B, T, input) in, the last layer's every hidden
    state (B, T, D hidden) out (D = 2 if bidirectional, else 1); ``batch_first=False``
    takes and gives torch's default layout, (T, B, ...).  One sequence: (T, input) in,
    (T, D hidden) out.  ``h0`` optional: torch.nn.RNN's (D num_layers, B, hidden), or
    for one layer one way (B, hidden); for one sequence (D num_layers, hidden), or (hidden,).
    The time loop and backpropagation through time run in C, a layer and direction at a
    time (the reverse direction on the sequence reversed).

    Parameters (state_dict): ``weight_ih`` (hidden, input) = W_c, ``weight_hh`` (hidden,
    hidden) = W_h, ``bias``; with num_layers > 1 or both directions, torch's names:
    layer k's ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_l{k}``, the reverse
    direction's with ``_reverse`` after them.  torch.nn.RNN has two biases a layer and
    direction; ours is their sum: torch.nn.RNN's state dict (``weight_ih_l0``, ...,
    ``bias_hh_l0``, ...) loads as it is, its biases added.  torch.nn.RNN returns
    (outputs, h_n): here the outputs, and ``h_n`` (every layer's and direction's last
    state) is an attribute.
    """

    def __init__(self, input_size, hidden_size, bias=True, dtype=np.float64, *, num_layers=1,
                 nonlinearity="tanh", batch_first=True, dropout=0.0, bidirectional=False):
        if type(bias) is int or isinstance(bias, np.integer):  # torch's third argument
            raise TypeError(f"RNN's third argument is bias; num_layers goes by keyword: "
                            f"RNN({input_size}, {hidden_size}, num_layers={bias})")
        dtype = _dtype(dtype)
        input_size, hidden_size = _size(input_size, "input_size"), _size(hidden_size, "hidden_size")
        self.num_layers = _size(num_layers, "num_layers")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or 'relu'.")
        dropout = float(dropout)
        if not 0 <= dropout <= 1:  # torch's check and message
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and self.num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers=1", UserWarning, stacklevel=2)
        self.nonlinearity, self.batch_first = nonlinearity, bool(batch_first)
        self.dropout, self.bidirectional = dropout, bool(bidirectional)
        D = self._directions
        for k in range(self.num_layers):  # torch's order: layer by layer, forward then reverse
            for d in range(D):
                w_ih, w_hh, b = self._names(k, d)
                setattr(self, w_ih, _uniform((hidden_size, D * hidden_size if k else input_size),
                                             hidden_size, dtype))
                setattr(self, w_hh, _uniform((hidden_size, hidden_size), hidden_size, dtype))
                setattr(self, b, _uniform(hidden_size, hidden_size, dtype) if bias else None)
        self._saved = None

    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    def _names(self, k, d=0):
        """Layer k's parameter attributes in direction d (1: reverse): (W_c, W_h, b)."""
        if self.num_layers == 1 and not self.bidirectional:
            return "weight_ih", "weight_hh", "bias"
        suffix = "_reverse" if d else ""
        return f"weight_ih_l{k}{suffix}", f"weight_hh_l{k}{suffix}", f"bias_l{k}{suffix}"

    def _layer(self, k, d=0):
        return tuple(getattr(self, name) for name in self._names(k, d))

    def forward(self, x, h0=None):
        L, D = self.num_layers, self._directions
        w_ih0, _, _ = self._layer(0)
        dt = w_ih0.data.dtype
        x = _layer_input(x, dt, self)
        H, I = w_ih0.data.shape
        if h0 is not None:
            h0 = _layer_input(h0, dt, self)
        if x.ndim == 2:  # one sequence: h0 (D L, H), or (H,) for one layer one way
            shapes = ((D * L, H), (H,)) if D * L == 1 else ((D * L, H),)
            if h0 is not None and h0.shape not in shapes:
                raise ValueError(f"h0 for one sequence must have shape {' or '.join(map(str, shapes))}, "
                                 f"got {h0.shape}")
            h = self._layers_forward(x[None], None if h0 is None else h0.reshape(D * L, 1, H), True)[0]
            self._h0_shape, self._one_sequence = None if h0 is None else h0.shape, True
            return h
        if x.ndim != 3 or x.shape[2] != I:
            raise ValueError(f"RNN expects ({'B, T' if self.batch_first else 'T, B'}, {I}), got {x.shape}")
        if not self.batch_first:  # torch's (T, B, input): the kernels' (B, T, input), a copy
            x = np.ascontiguousarray(x.swapaxes(0, 1))
            x.flags.writeable = False  # nobody else holds it: kept for backward uncopied
        B = x.shape[0]
        self._h0_shape, self._one_sequence = None, False
        if h0 is not None:
            shapes = ((B, H), (1, B, H)) if D * L == 1 else ((D * L, B, H),)
            if h0.shape not in shapes:
                raise ValueError(f"h0 must have shape {' or '.join(map(str, shapes))} "
                                 f"(num_layers{' * 2' if D == 2 else ''}, batch, hidden), got {h0.shape}")
            self._h0_shape, h0 = h0.shape, h0.reshape(D * L, B, H)
        h = self._layers_forward(x, h0, self.batch_first)
        return h if self.batch_first else np.ascontiguousarray(h.swapaxes(0, 1))

    def _layers_forward(self, x, h0, handed_back):
        """Every layer and direction on x (B, T, input) from h0 (D L, B, hidden) or None:
        the last layer's states (B, T, D hidden), what backward needs kept.
        ``handed_back``: the caller receives that array itself (kept as a copy then)."""
        L, D = self.num_layers, self._directions
        (B, T), H, dt = x.shape[:2], self._layer(0)[1].data.shape[0], x.dtype
        saved, scales, relu = [], [], self.nonlinearity == "relu"
        for k in range(L):
            outs = []
            for d in range(D):
                w_ih, w_hh, b = self._layer(k, d)
                # the reverse direction runs on the sequence reversed (a copy the kernel reads)
                xd = x if d == 0 else np.ascontiguousarray(x[:, ::-1])
                h = np.empty((B, T, H), dt)
                h0_kd = None if h0 is None else h0[k * D + d]
                _C.rnn_forward(B, T, xd.shape[2], H, relu, xd, w_ih.data, w_hh.data,
                               None if b is None else b.data, h0_kd, h)
                # a layer's outputs below the last are the next one's inputs, seen by no caller
                last = k == L - 1 and D == 1 and handed_back
                saved.append((xd if k or d else _keep(xd), None if h0 is None else _keep(h0_kd),
                              _keep(h) if last else h))
                outs.append(h if d == 0 else h[:, ::-1])
            out = outs[0] if D == 1 else np.concatenate(outs, axis=2)
            if k < L - 1 and self.training and self.dropout > 0:  # on the next layer's inputs
                scales.append(_dropout_scale(out.shape, self.dropout, dt))
                out = out * scales[-1]
            else:
                scales.append(None)
            x = out
        self._saved, self._scales = saved, scales
        return x

    @property
    def h_n(self):
        """Every layer's and direction's last hidden state after the last forward, (D
        num_layers, B, hidden) ((D num_layers, hidden) for one sequence): torch.nn.RNN's
        second output, the h0 that continues the sequences (a fresh array; the reverse
        direction's last is its state at the first step)."""
        if self._saved is None:
            raise RuntimeError("RNN.h_n is the last forward's; there has been none")
        h_n = np.stack([h[:, -1] for _, _, h in self._saved])
        return h_n[:, 0] if self._one_sequence else h_n

    def _torch_names(self, state, prefix):
        """torch.nn.RNN's names: weight_ih_l{k} and weight_hh_l{k} (ours for one layer
        one way without the suffix), and its two biases a layer and direction, whose sum
        is ours (computed in float64, rounded once on loading)."""
        for k in range(self.num_layers):
            for d in range(self._directions):
                suffix = "_reverse" if d else ""
                if prefix + f"weight_ih_l{k}{suffix}" not in state:
                    continue
                names = self._names(k, d)
                for theirs, ours in zip((f"weight_ih_l{k}{suffix}", f"weight_hh_l{k}{suffix}"), names):
                    if prefix + theirs in state:
                        state[prefix + ours] = state.pop(prefix + theirs)
                b_ih, b_hh = prefix + f"bias_ih_l{k}{suffix}", prefix + f"bias_hh_l{k}{suffix}"
                if b_ih in state and b_hh in state:
                    state[prefix + names[2]] = (np.asarray(state.pop(b_ih), np.float64)
                                                + np.asarray(state.pop(b_hh), np.float64))

    def backward(self, g, input_grad=True):
        """Gradient w.r.t. the input sequence (None with ``input_grad=False``); parameter
        gradients accumulate.  The gradient w.r.t. h0 (when h0 was given) is left in
        ``self.h0_grad``, in the shape h0 was given."""
        saved, D, L = self._needs("_saved"), self._directions, self.num_layers
        B, T, H = saved[-1][2].shape
        batch_first = self.batch_first or self._one_sequence
        out_shape = (B, T, D * H) if batch_first else (T, B, D * H)
        squeeze = np.ndim(g) == 2
        _check_grad_shape("RNN", g, out_shape, one_sequence=True)
        g = np.asarray(g, dtype=saved[-1][2].dtype).reshape(out_shape)
        if not batch_first:
            g = g.swapaxes(0, 1)
        given_h0 = saved[0][1] is not None
        h0_grad = np.zeros((D * L, B, H), g.dtype) if given_h0 else None
        relu = self.nonlinearity == "relu"
        for k in reversed(range(L)):
            dx = None
            for d in range(D):
                x, h0, h = saved[k * D + d]
                w_ih, w_hh, b = self._layer(k, d)
                gd = g[:, :, d * H:(d + 1) * H]
                # a copy in the kernel's time order: the kernel overwrites it
                gd = np.array(gd if d == 0 else gd[:, ::-1], order="C")
                dxd = np.empty_like(x)
                _C.rnn_backward(B, T, x.shape[2], H, relu, x, w_ih.data, w_hh.data, h0, h, gd, dxd,
                                w_ih.grad, w_hh.grad, None if b is None else b.grad,
                                None if h0_grad is None else h0_grad[k * D + d])
                dxd = dxd if d == 0 else dxd[:, ::-1]
                dx = dxd if dx is None else dx + dxd
            g = dx if k == 0 or self._scales[k - 1] is None else dx * self._scales[k - 1]
        self.h0_grad = None if h0_grad is None else h0_grad.reshape(self._h0_shape)
        if not input_grad:
            return None
        if squeeze:
            return g[0]
        return g if batch_first else np.ascontiguousarray(g.swapaxes(0, 1))

    def extra_repr(self):
        H, I = self._layer(0)[0].data.shape
        layers = "" if self.num_layers == 1 else f", num_layers={self.num_layers}"
        bias = "" if self._layer(0)[2] is not None else ", bias=False"
        extra = "".join(s for s, on in ((", batch_first=False", not self.batch_first),
                                         (f", dropout={self.dropout}", self.dropout > 0),
                                         (", bidirectional=True", self.bidirectional)) if on)
        return f"{I}, {H}{layers}{bias}{extra}"


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
