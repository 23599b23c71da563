"""The Transformer, as nanoGPT builds it: causal multi-head self-attention, the MLP, the
pre-norm block and the GPT language model, with nanoGPT's parameter names."""
import math
import operator

import numpy as np

from .. import _C, _random
from .._arrays import as_float
from .layers import GELU, Linear
from .module import (_SEAL_BYTES, Module, _dtype, _keep, _layer_input, _owned_inputs, _pooled,
                     _seal, _size)
from .normalization import LayerNorm
from .sequence import Embedding, sample


def _only_next(y):
    """y, made read-only when large: a fresh intermediate that only the next layer sees,
    which then keeps it without a copy (as Sequential does, module.py's _seal)."""
    if y.nbytes >= _SEAL_BYTES:
        _seal(y, None)
    return y


def _residual(y, x):
    """y + x, written into y: a sublayer's fresh output plus the residual stream, one
    threaded kernel pass (axpy) where NumPy's add took one thread; the same bits."""
    _C.axpy(1.0, x, y)
    return y


class CausalSelfAttention(Module):
    """Multi-head causal self-attention, (B, T, n_embd) in and out, as nanoGPT's:
    ``c_attn`` (Linear n_embd -> 3 n_embd, q, k, v side by side), softmax(q k^T /
    sqrt(head size)) with every position attending to itself and the ones before, then
    ``c_proj`` (Linear n_embd -> n_embd).  The attention itself is one kernel call each way
    (heads in parallel, no (T, T) matrix kept); forward keeps the rows' log-sum-exp.
    """

    def __init__(self, n_embd, n_head, bias=True, dtype=np.float64):
        dtype = _dtype(dtype)
        n_embd, n_head = _size(n_embd, "n_embd"), _size(n_head, "n_head")
        if n_embd % n_head:
            raise ValueError(f"n_embd = {n_embd} is not a multiple of n_head = {n_head}")
        self.n_embd, self.n_head = n_embd, n_head
        self.c_attn = Linear(n_embd, 3 * n_embd, bias=bias, dtype=dtype)
        self.c_proj = Linear(n_embd, n_embd, bias=bias, dtype=dtype)
        self._saved = None

    @property
    def scale(self):
        """1/sqrt(head size): what q k^T is multiplied by."""
        return 1.0 / math.sqrt(self.n_embd // self.n_head)

    def forward(self, x):
        x = _layer_input(x, self.c_attn.weight.data.dtype, self)
        if x.ndim != 3 or x.shape[-1] != self.n_embd:
            raise ValueError(f"CausalSelfAttention: input must be (B, T, {self.n_embd}), got {x.shape}")
        qkv = _only_next(self.c_attn(x))
        B, T, _ = x.shape
        y = np.empty((B, T, self.n_embd), x.dtype)
        lse = np.empty((B, self.n_head, T), x.dtype)
        _C.attention_forward(qkv, self.n_head, self.scale, y, lse)
        _only_next(y)
        self._saved = (_keep(qkv), _keep(y), lse)
        return self.c_proj(y)

    def backward(self, g, input_grad=True):
        """dL/dx (None when ``input_grad`` is False); c_attn's and c_proj's gradients accumulate."""
        qkv, y, lse = self._needs("_saved")
        gy = self.c_proj.backward(g)
        dqkv = np.empty_like(qkv)
        _C.attention_backward(qkv, self.n_head, self.scale, y, lse,
                              np.ascontiguousarray(as_float(gy), dtype=qkv.dtype), dqkv)
        return self.c_attn.backward(dqkv, input_grad=input_grad)

    def prefill(self, x, cache):
        """forward(x), keeping x's q, k, v rows in cache[:, :T] (a (B, S, 3 n_embd) array)."""
        y = self.forward(x)
        cache[:, :x.shape[1]] = self._saved[0]
        return y

    def step(self, x, cache, t):
        """One new position t: x (B, 1, n_embd) attends to itself and the cache's rows
        before it (its own q, k, v are stored at row t first)."""
        qkv = self.c_attn(x)
        cache[:, t] = qkv[:, 0]
        y = np.empty((x.shape[0], self.n_embd), qkv.dtype)
        _C.attention_step(cache, t, self.n_head, self.scale, y)
        return self.c_proj(y[:, None, :])

    def extra_repr(self):
        return f"n_embd={self.n_embd}, n_head={self.n_head}"


class MLP(Module):
    """nanoGPT's feed-forward part: c_fc (n_embd -> 4 n_embd), GELU (the erf form, as
    torch.nn.GELU()), c_proj (4 n_embd -> n_embd)."""

    def __init__(self, n_embd, bias=True, dtype=np.float64):
        self.c_fc = Linear(n_embd, 4 * n_embd, bias=bias, dtype=dtype)
        self.gelu = GELU()
        self.c_proj = Linear(4 * n_embd, n_embd, bias=bias, dtype=dtype)

    def forward(self, x):
        return self.c_proj(_only_next(self.gelu(_only_next(self.c_fc(x)))))

    def backward(self, g, input_grad=True):
        return self.c_fc.backward(self.gelu.backward(self.c_proj.backward(g)), input_grad=input_grad)


class Block(Module):
    """A pre-norm Transformer block: x + attn(ln_1(x)), then + mlp(ln_2(.))."""

    def __init__(self, n_embd, n_head, bias=True, dtype=np.float64):
        self.ln_1 = LayerNorm(n_embd, bias=bias, dtype=dtype)
        self.attn = CausalSelfAttention(n_embd, n_head, bias=bias, dtype=dtype)
        self.ln_2 = LayerNorm(n_embd, bias=bias, dtype=dtype)
        self.mlp = MLP(n_embd, bias=bias, dtype=dtype)

    def forward(self, x):
        x = _only_next(_residual(self.attn(_only_next(self.ln_1(x))), x))
        return _residual(self.mlp(_only_next(self.ln_2(x))), x)

    def backward(self, g, input_grad=True):
        """dL/dx (None when ``input_grad`` is False, as every layer's); the parameters'
        gradients accumulate either way."""
        g = _residual(self.ln_2.backward(self.mlp.backward(g)), g)
        dx = self.ln_1.backward(self.attn.backward(g), input_grad=input_grad)
        return _residual(dx, g) if input_grad else None

    def prefill(self, x, cache):
        """forward(x) for generation: the attention's q, k, v rows kept in ``cache``."""
        x = x + self.attn.prefill(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))

    def step(self, x, cache, t):
        """One new position t, x (B, 1, n_embd), attending through ``cache``."""
        x = x + self.attn.step(self.ln_1(x), cache, t)
        return x + self.mlp(self.ln_2(x))


class _Stack(Module):
    """nanoGPT's ``transformer`` container: wte, wpe, h (the blocks), ln_f."""

    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, bias, dtype):
        self.wte = Embedding(vocab_size, n_embd, dtype=dtype)
        self.wpe = Embedding(block_size, n_embd, dtype=dtype)
        self.h = [Block(n_embd, n_head, bias=bias, dtype=dtype) for _ in range(n_layer)]
        self.ln_f = LayerNorm(n_embd, bias=bias, dtype=dtype)


class GPT(Module):
    """A GPT-2-style language model with nanoGPT's structure and parameter names.

    ``forward(idx)`` takes integer token ids (B, T), T <= block_size, and returns logits
    (B, T, vocab_size); ``backward(dlogits)`` fills every parameter's ``.grad``.  Learned
    position embeddings, pre-norm blocks, a final LayerNorm and an ``lm_head`` without
    bias whose weight *is* the token embedding's (tied).  GPT-2's initialisation: weights
    N(0, 0.02), the residual projections N(0, 0.02 / sqrt(2 n_layer)), biases 0.
    ``state_dict()`` uses nanoGPT's keys (``transformer.wte.weight``, ...,
    ``lm_head.weight``), and ``load_state_dict`` takes NumPy arrays or PyTorch tensors.
    """

    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, bias=True,
                 dtype=np.float32):
        dtype = _dtype(dtype)
        self.vocab_size, self.block_size = _size(vocab_size, "vocab_size"), _size(block_size, "block_size")
        self.transformer = _Stack(vocab_size, block_size, _size(n_layer, "n_layer"), n_head, n_embd,
                                  bias, dtype)
        self.lm_head = Linear(n_embd, vocab_size, bias=False, dtype=dtype)
        self.lm_head.weight = self.transformer.wte.weight  # tied, as GPT-2
        rng = _random.generator()
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                p.data[...] = rng.normal(0.0, 0.02 / math.sqrt(2 * n_layer), p.data.shape)
            elif name.endswith(".weight") and p.data.ndim == 2:
                p.data[...] = rng.normal(0.0, 0.02, p.data.shape)
            elif name.endswith(".bias"):
                p.data[...] = 0
        self._T = None

    def forward(self, idx):
        idx = np.asarray(idx)
        if idx.ndim != 2:
            raise ValueError(f"GPT.forward takes token ids of shape (B, T), got {idx.shape}")
        T = idx.shape[1]
        if T > self.block_size:
            raise ValueError(f"sequence of {T} tokens is longer than block_size {self.block_size}")
        t = self.transformer
        x = _only_next(t.wte(idx) + t.wpe(np.arange(T)))
        for block in t.h:
            x = _only_next(block(x))
        self._T = T
        return self.lm_head(_only_next(t.ln_f(x)))

    def backward(self, dlogits, input_grad=False):
        """Fills every parameter's gradient from dL/dlogits (B, T, vocab); token ids have no
        gradient, so this returns None."""
        self._needs("_T")
        t = self.transformer
        g = t.ln_f.backward(self.lm_head.backward(dlogits))
        for block in reversed(t.h):
            g = block.backward(g)
        t.wte.backward(g)
        t.wpe.backward(g.sum(axis=0))
        return None

    @_pooled  # its layer calls nested in one pool scope, not one scope each
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, seed=None, use_cache=True):
        """idx (B, T) extended by max_new_tokens sampled tokens: each step samples from
        softmax(logits / temperature) of the last position, keeping only the top_k logits
        when given; ``seed`` makes the draw reproducible.  The context is the last
        block_size tokens.  With ``use_cache`` every layer keeps its keys and values, so a
        new token costs one position's work (the window is run whole only at the start
        and when it has to slide); without, every step runs the whole window."""
        ids = np.asarray(idx)
        if ids.dtype.kind not in "iu":  # as forward: 1.7 is no token id
            raise TypeError(f"generate takes integer token ids, got dtype {ids.dtype}")
        if not 1 <= ids.ndim <= 2 or ids.shape[-1] == 0:
            raise ValueError(f"generate takes a prompt of shape (B, T) or (T,) with T >= 1, "
                             f"got shape {ids.shape}")
        idx = np.array(ids, dtype=np.int64, ndmin=2)
        max_new_tokens = operator.index(max_new_tokens)
        if max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if top_k is not None:
            _size(top_k, "top_k")
        rng = np.random.default_rng(seed)
        with _owned_inputs():  # every array the layers see here is this loop's own
            return self._generate(idx, max_new_tokens, temperature, top_k, rng, use_cache)

    def _generate(self, idx, max_new_tokens, temperature, top_k, rng, use_cache):
        t, caches, pos = self.transformer, None, 0
        for _ in range(max_new_tokens):
            if not use_cache:
                logits = self.forward(idx[:, -self.block_size:])[:, -1]
            elif caches is None or pos >= self.block_size:  # (re)start from the window
                ctx = idx[:, -self.block_size:]
                caches = [np.zeros((idx.shape[0], self.block_size, 3 * b.attn.n_embd),
                                   t.wte.weight.data.dtype) for b in t.h]
                x = t.wte(ctx) + t.wpe(np.arange(ctx.shape[1]))
                for block, cache in zip(t.h, caches):
                    x = block.prefill(x, cache)
                logits, pos = self.lm_head(t.ln_f(x[:, -1:]))[:, -1], ctx.shape[1]
            else:  # the newest token at position pos
                x = t.wte(idx[:, -1:]) + t.wpe(np.array([pos]))
                for block, cache in zip(t.h, caches):
                    x = block.step(x, cache, pos)
                logits, pos = self.lm_head(t.ln_f(x))[:, -1], pos + 1
            logits = logits.astype(np.float64)
            if top_k is not None:
                k = min(int(top_k), logits.shape[-1])
                cut = np.partition(logits, -k, axis=-1)[:, -k][:, None]
                logits = np.where(logits < cut, -np.inf, logits)
            nxt = sample(logits, temperature, rng)  # one id per row
            idx = np.concatenate([idx, nxt[:, None]], axis=1)
        return idx

    def extra_repr(self):
        return f"vocab_size={self.vocab_size}, block_size={self.block_size}"
