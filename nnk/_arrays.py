"""Input conversion and output checks shared by every public function.

The contract (DESIGN.md "Arrays and errors"): float32 and float64 are computed natively,
float32 with float64 promotes to float64, integers and bools become float64, anything
else is a TypeError.  ``out=`` must match shape and dtype exactly.
"""
import numpy as np

_NATIVE = (np.dtype(np.float32), np.dtype(np.float64))


def as_float(x, name="x"):
    """``x`` as an ndarray of float32 or float64 (no copy when it already is one)."""
    if type(x) is np.ndarray and (x.dtype is _NATIVE[0] or x.dtype is _NATIVE[1]):
        return x  # the common case first: a layer's every call passes here
    arr = np.asarray(x)
    if arr.dtype in _NATIVE:
        return arr
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    if arr.dtype.kind == "f" and arr.dtype.newbyteorder("=") in _NATIVE:
        return arr.astype(arr.dtype.newbyteorder("="))  # byte-swapped: the same values, native
    if arr.dtype == np.float16:
        return arr.astype(np.float32)
    raise TypeError(
        f"{name}: nnk computes in float32 or float64 (ints and bools become float64); "
        f"got dtype {arr.dtype}"
    )


def as_floats(*xs, names=None):
    """Convert several inputs and promote them to one dtype, as NumPy would."""
    names = names or [f"argument {i}" for i in range(len(xs))]
    arrs = [as_float(x, n) for x, n in zip(xs, names)]
    dtype = np.result_type(*arrs)
    return [a if a.dtype == dtype else a.astype(dtype) for a in arrs], dtype


def contiguous(arr, dtype=None):
    """C-contiguous ndarray of ``dtype`` (a copy only when needed), of the same shape: a
    0-d array stays 0-d (np.ascontiguousarray would make it 1-d)."""
    return np.asarray(arr, dtype=dtype, order="C")


def check_out(out, shape, dtype, name="out"):
    """Validate a user-supplied output array."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != tuple(shape) or out.dtype != dtype:
        raise ValueError(
            f"{name} has shape {out.shape} and dtype {out.dtype}; "
            f"expected shape {tuple(shape)} and dtype {np.dtype(dtype)}"
        )
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return out


def deliver(result, out):
    """Write ``result`` into ``out`` (if given) and return what the caller should get: as
    NumPy's ufuncs, a 0-d result without ``out`` is a NumPy scalar (nnk.exp(1.0) is a
    np.float64, like np.exp(1.0))."""
    if out is None:
        return result[()] if result.ndim == 0 else result
    if result is not out:
        out[...] = result
    return out


def kernel_target(out, shape, dtype):
    """An array a kernel may write directly: ``out`` when C-contiguous, else a fresh one."""
    if out is not None and out.flags.c_contiguous:
        return out
    return np.empty(shape, dtype)


def as_real(x, name):
    """A keyword that must be a real number: TypeError for anything else (str, complex...)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    return float(x)
