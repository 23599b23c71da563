"""The generator behind every random initialisation; ``nnk.manual_seed`` resets it."""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Make initialisation (and shuffling in ``nnk.train``) reproducible."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def generator():
    return _generator
