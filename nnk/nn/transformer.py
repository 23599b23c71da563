"""The Transformer's attention: causal multi-head self-attention with nanoGPT's layout."""
import math

import numpy as np

from .. import _C
from .._arrays import as_float
from .layers import Linear
from .module import Module, _dtype, _keep, _layer_input, _size


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
        return 1.0 / math.sqrt(self.n_embd // self.n_head)

    def forward(self, x):
        x = _layer_input(x, self.c_attn.weight.data.dtype, self)
        if x.ndim != 3 or x.shape[-1] != self.n_embd:
            raise ValueError(f"CausalSelfAttention: input must be (B, T, {self.n_embd}), got {x.shape}")
        qkv = self.c_attn(x)
        B, T, _ = x.shape
        y = np.empty((B, T, self.n_embd), x.dtype)
        lse = np.empty((B, self.n_head, T), x.dtype)
        _C.attention_forward(qkv, self.n_head, self.scale, y, lse)
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

    def extra_repr(self):
        return f"n_embd={self.n_embd}, n_head={self.n_head}"
