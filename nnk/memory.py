"""The array pool behind nnk's layers (csrc/python/array_pool.c): while a module's forward
or backward runs, NumPy takes its arrays' memory from blocks that earlier arrays of the
same size freed, instead of fresh pages that the system faults in and zeroes one by one
(a training step makes the same arrays every step).  A module called on inputs that are
all float arrays under 64 KiB or plain scalars keeps NumPy's allocator: its arrays are
of their order, below the pool's smallest block.  The pool keeps at most as many bytes
as were ever in use at once; arrays made outside the layers are NumPy's as usual."""
from . import _C


def empty_cache():
    """Give the blocks the pool keeps for reuse back to the system (as PyTorch's
    ``torch.cuda.empty_cache()``); arrays in use are not touched."""
    _C.empty_cache()


def memory_stats():
    """The pool's bytes: ``kept`` (free blocks held for reuse), ``live`` (in arrays that
    exist now) and ``peak`` (the most ever live at once since start or empty_cache)."""
    return _C.pool_stats()
