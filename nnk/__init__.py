"""nnk — neural-network kernels.

Hand-vectorised C kernels (scalar reference, AVX2+FMA, NEON) behind runtime CPU dispatch,
with NumPy arrays in and out::

    import nnk
    nnk.relu([-2.3, 5.7, -5.0])              # array([0. , 5.7, 0. ])
    nnk.matmul(W, x)                          # GEMM through the best ISA
    with nnk.use_isa("scalar"): ...           # the reference path
"""
from ._dispatch import (cpu_info, get_isa, get_num_threads, set_isa, set_num_threads,
                        use_isa)
from .elementwise import (exp, gelu, gelu_grad, identity, leaky_relu, leaky_relu_grad, log,
                          relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad)
from .linalg import gemm, linear, lstsq, matmul
from .losses import bce_loss, bce_with_logits, cross_entropy, mae_loss, mse_loss, nll_loss
from .softmax import log_softmax, log_softmax_grad, logsumexp, softmax, softmax_grad
from ._random import manual_seed
from .checkpoint import load, save
from .memory import empty_cache, memory_stats
from .training import History, gradcheck, train
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import nn, optim, text  # noqa: E402  (modules of their own: nnk.nn, nnk.optim, nnk.text)
from .nn import sample

from ._C import __version__  # the one version: meson.build's project()

__all__ = [
    "cpu_info", "get_isa", "set_isa", "use_isa", "get_num_threads", "set_num_threads",
    "gemm", "matmul", "linear",
    "exp", "log", "tanh", "sigmoid", "relu", "leaky_relu", "gelu", "identity",
    "relu_grad", "leaky_relu_grad", "tanh_grad", "sigmoid_grad", "gelu_grad",
    "softmax", "log_softmax", "logsumexp", "softmax_grad", "log_softmax_grad",
    "mse_loss", "mae_loss", "bce_loss", "bce_with_logits", "cross_entropy", "nll_loss",
    "lstsq", "gradcheck", "train", "History", "manual_seed", "nn", "optim", "sample",
    "save", "load", "empty_cache", "memory_stats",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode",
]
