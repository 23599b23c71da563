"""nnk.nn.utils: clip_grad_norm_, as torch.nn.utils."""
import math

import numpy as np

from ..linalg import matmul


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6)), total_norm the
    norm of all gradients together (2-norm by default, ``inf`` for the largest value), as
    torch.nn.utils.clip_grad_norm_; returns total_norm.  Frozen parameters
    (requires_grad False) and those no backward reached since zero_grad are left out, as
    torch leaves out those without a gradient."""
    grads = [p.grad for p in (parameters.parameters() if hasattr(parameters, "parameters")
                              else parameters) if p.requires_grad and p._has_grad]
    if not grads:
        return 0.0
    norm_type, max_norm = float(norm_type), float(max_norm)
    if not norm_type > 0:  # 0 divided by zero; a negative one is no norm
        raise ValueError(f"norm_type must be > 0 (or inf), got {norm_type}")
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm}")
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    elif norm_type == 2.0:
        flat = [g.reshape(-1) for g in grads]
        total = math.sqrt(sum(float(matmul(f, f)) for f in flat if f.size))  # dot products
    else:
        total = sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1 / norm_type)
    coef = min(1.0, max_norm / (total + 1e-6))
    if coef < 1.0:
        for g in grads:
            g *= g.dtype.type(coef)
    return total
