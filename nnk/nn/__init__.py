"""nnk.nn: layers with forward and explicit backward, PyTorch-shaped.

``module(x)`` runs forward and keeps what backward needs; ``module.backward(grad)``
returns dL/d(input) and accumulates parameter gradients into ``p.grad`` (see
nnk/nn/module.py for the dtype rule and what is kept).

- module.py: Parameter, Module, Sequential, ModuleList, ModuleDict
- layers.py: Linear, activations, Softmax, LogSoftmax, Dropout, Flatten
- normalization.py: LayerNorm
- transformer.py: CausalSelfAttention, MLP, Block, GPT
- losses.py: MSELoss, MAELoss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NextTokenLoss,
  NLLLoss
- sequence.py: Embedding, RNN, SelfAttention, FixedWindowLM, sample
- utils.py: clip_grad_norm_
- init.py: weight initialisation in place (xavier_, kaiming_, normal_, ...), as torch.nn.init
- functional.py: torch.nn.functional's names and arguments over nnk's kernels (values only)
"""
from .layers import (GELU, Dropout, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ReLU,
                     Sigmoid, Softmax, Tanh)
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MAELoss,
                     MSELoss, NextTokenLoss, NLLLoss)
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential
from .normalization import LayerNorm
from .transformer import GPT, MLP, Block, CausalSelfAttention
from .sequence import RNN, Embedding, FixedWindowLM, SelfAttention, sample
from . import functional, init, utils  # noqa: E402  (nnk.nn.init.xavier_uniform_, nnk.nn.functional.relu, ...)

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax",
    "Dropout", "Flatten",
    "LayerNorm", "CausalSelfAttention", "MLP", "Block", "GPT",
    "MSELoss", "MAELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NextTokenLoss", "NLLLoss",
    "Embedding", "RNN", "SelfAttention", "FixedWindowLM", "sample",
]
