"""``nnk.save(obj, path)`` / ``nnk.load(path)``: checkpoints as NumPy ``.npz`` files.

``obj`` is a tree of dicts, lists and tuples whose leaves are arrays (NumPy arrays, or
PyTorch tensors, stored as arrays), numbers, strings, booleans or None: a model's and an
optimiser's ``state_dict()``, a schedule's, an epoch count.  The arrays are stored as
they are (bit for bit), the tree as JSON beside them; nothing is pickled, so loading
runs no code (``allow_pickle=False``), unlike ``torch.load`` of an untrusted file.
"""
import json
import numbers

import numpy as np

_TREE = "__nnk_tree__"


def _encode(node, arrays):
    if isinstance(node, dict):
        return {"dict": [[_key(k), _encode(v, arrays)] for k, v in node.items()]}
    if isinstance(node, (list, tuple)):
        return {"list" if isinstance(node, list) else "tuple": [_encode(v, arrays) for v in node]}
    if hasattr(node, "detach") and hasattr(node, "numpy"):  # a PyTorch tensor
        node = node.detach().cpu().numpy()
    if isinstance(node, np.ndarray):
        if node.dtype.hasobject:  # np.savez would pickle it, and load (no pickle) refuse it
            raise TypeError(f"nnk.save stores arrays of numbers, bools and strings, not of "
                            f"Python objects (dtype {node.dtype})")
        name = f"a{len(arrays)}"
        arrays[name] = node
        return {"array": name}
    if node is None or isinstance(node, (bool, str)):
        return node
    if isinstance(node, np.bool_):
        return bool(node)
    if isinstance(node, numbers.Integral):
        return int(node)
    if isinstance(node, numbers.Real):
        return {"float": float(node).hex()}  # exact, and inf or nan too
    raise TypeError(f"nnk.save stores arrays, numbers, strings, None and dicts, lists and "
                    f"tuples of them; got {type(node).__name__}")


def _key(k):
    if isinstance(k, bool) or not isinstance(k, (str, numbers.Integral)):
        raise TypeError(f"nnk.save: dict keys are strings or integers, got {k!r}")
    return k if isinstance(k, str) else int(k)


def _decode(node, arrays):
    if not isinstance(node, dict):
        return node
    (kind, value), = node.items()
    if kind == "dict":
        return {k: _decode(v, arrays) for k, v in value}
    if kind == "list":
        return [_decode(v, arrays) for v in value]
    if kind == "tuple":
        return tuple(_decode(v, arrays) for v in value)
    if kind == "array":
        return arrays[value]
    if kind == "float":
        return float.fromhex(value)
    raise ValueError(f"not an nnk checkpoint entry: {kind!r}")


def save(obj, path):
    """Write ``obj`` (see the module notes) to ``path``, a NumPy .npz file."""
    arrays = {}
    tree = json.dumps(_encode(obj, arrays))
    with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to a name
        np.savez(f, **arrays, **{_TREE: np.array(tree)})


def load(path):
    """What ``save`` wrote to ``path``: the same tree, arrays bit for bit."""
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, EOFError) as e:  # not .npz: NumPy's own words suggest unpickling it
        raise ValueError(f"{path} is not an nnk checkpoint (nnk.save writes .npz files)") from e
    if not isinstance(z, np.lib.npyio.NpzFile):  # a lone .npy array
        raise ValueError(f"{path} is not an nnk checkpoint (nnk.save writes .npz files, "
                         f"this holds one array)")
    with z:
        if _TREE not in z.files:
            raise ValueError(f"{path} is not an nnk checkpoint (no {_TREE} entry)")
        arrays = {name: z[name] for name in z.files if name != _TREE}
        return _decode(json.loads(str(z[_TREE])), arrays)
