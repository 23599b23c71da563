"""GEMM and what is built on it: matmul, linear.

Operands go to the kernel with their strides (transposed or sliced views need no copy);
the kernel writes C in place, so ``out=`` costs nothing when it is a plain array.  An
``out`` that shares memory with an operand is fine: the binding then gives the kernel a
copy of that operand, so the result is as if the operands were read first (as NumPy).
"""
import numpy as np

from . import _C
from ._arrays import as_floats, as_real, check_out, contiguous, deliver


def _op_shape(x, trans):
    return x.shape[::-1] if trans else x.shape


def gemm(a, b, c=None, *, alpha=1.0, beta=0.0, trans_a=False, trans_b=False, out=None):
    """alpha * op(a) @ op(b) + beta * c, with op(x) = x.T when trans_x; 2-D operands.

    ``c`` (shape (m, n), or anything that broadcasts to it) is not modified unless it is
    also ``out``.  beta = 0 ignores what ``c`` holds, NaN included (BLAS semantics).
    """
    operands = [a, b] + ([c] if c is not None else [])
    names = ["a", "b", "c"][: len(operands)]
    arrs, dtype = as_floats(*operands, names=names)
    a, b = arrs[0], arrs[1]
    for name, x in (("a", a), ("b", b)):
        if x.ndim != 2:
            raise ValueError(f"gemm: {name} must be 2-D, got shape {x.shape}")
    (m, k), (k2, n) = _op_shape(a, trans_a), _op_shape(b, trans_b)
    if k != k2:
        raise ValueError(
            f"gemm: op(a) has shape {(m, k)} and op(b) has shape {(k2, n)}: inner sizes differ"
        )
    alpha, beta = as_real(alpha, "alpha"), as_real(beta, "beta")
    if out is not None:
        check_out(out, (m, n), dtype)
        target = out
    else:
        target = np.empty((m, n), dtype)
    if c is not None and beta != 0.0:
        cc = arrs[2]
        if cc is not target:  # accumulating into out=c needs no copy
            try:
                target[...] = np.broadcast_to(cc, (m, n))
            except ValueError:
                raise ValueError(f"gemm: c has shape {cc.shape}, expected {(m, n)}") from None
    elif c is not None and np.broadcast_shapes(arrs[2].shape, (m, n)) != (m, n):
        raise ValueError(f"gemm: c has shape {arrs[2].shape}, expected {(m, n)}")
    else:
        beta = 0.0
    _C.gemm(a, b, target, alpha, beta, bool(trans_a), bool(trans_b))  # reads a, b first
    return target


_ndarray, _empty = np.ndarray, np.empty
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)  # native-order dtypes are singletons


def matmul(a, b, *, out=None):
    """``numpy.matmul`` semantics for 1-D, 2-D and stacked (batched) operands."""
    # Fast paths for the common calls (float arrays of one dtype, 1-D or 2-D): per-call
    # cost matters for the sheets' tiny matrices and for dot products.  Without out, the
    # binding makes the result (None when the operands need converting or are not
    # numpy.matmul's 1-D and 2-D cases: the general path below); it checks everything.
    if out is None:
        c = _C.gemm(a, b, None, 1.0, 0.0, False, False)
        if c is not None:
            return c
    elif type(a) is _ndarray and type(b) is _ndarray and type(out) is _ndarray:
        dt = a.dtype
        if dt is b.dtype and out.dtype is dt and (dt is _F64 or dt is _F32):
            try:  # the binding checks the shapes, out's writability and overlaps
                _C.gemm(a, b, out, 1.0, 0.0, False, False)
                return out
            except ValueError:
                pass  # the general path below says what is wrong, in matmul's words
    (a, b), dtype = as_floats(a, b, names=("a", "b"))
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must be at least 1-D (use * for scalars)")
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not fit "
            f"(inner sizes {a2.shape[-1]} and {b2.shape[-2]})"
        )
    m, n = a2.shape[-2], b2.shape[-1]
    try:
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of {a.shape} and {b.shape} do not broadcast") from None
    shape = batch + (m, n)
    squeeze = ()
    if a.ndim == 1:
        squeeze += (-2,)
    if b.ndim == 1:
        squeeze += (-1,)
    final_shape = tuple(s for i, s in enumerate(shape) if i - len(shape) not in squeeze)
    if out is not None:
        check_out(out, final_shape, dtype)
    result = np.empty(shape, dtype)
    if batch:
        ab = np.broadcast_to(a2, batch + a2.shape[-2:])
        bb = np.broadcast_to(b2, batch + b2.shape[-2:])
        for idx in np.ndindex(*batch):  # one kernel call per matrix of the stack
            _C.gemm(ab[idx], bb[idx], result[idx], 1.0, 0.0, False, False)
    else:
        _C.gemm(a2, b2, result, 1.0, 0.0, False, False)
    return deliver(result.reshape(final_shape), out)


def linear(x, weight, bias=None):
    """x @ weight.T + bias, weight of shape (out_features, in_features).

    x is (..., in_features) and gives (..., out_features); a 1-D x is one sample, W x + b.
    One kernel call, the same as nn.Linear's forward; the kernel checks the shapes.
    """
    y = _C.linear_forward(x, weight, bias, None)  # plain arrays: the binding makes y
    if y is not None:
        return y
    if not (type(x) is _ndarray and type(weight) is _ndarray and x.dtype is weight.dtype
            and (x.dtype is _F64 or x.dtype is _F32)
            and (bias is None or (type(bias) is _ndarray and bias.dtype is x.dtype and bias.ndim == 1))):
        # anything but arrays of one native dtype: convert (such arrays reach here only
        # when not C-contiguous or not fitting: no conversion, only the copy or the error)
        operands = [x, weight] + ([bias] if bias is not None else [])
        arrs, _ = as_floats(*operands, names=["x", "weight", "bias"][: len(operands)])
        x, weight = arrs[0], arrs[1]
        if bias is not None:  # a scalar bias is every output's
            bias = np.broadcast_to(arrs[2], weight.shape[:1]) if arrs[2].ndim == 0 else arrs[2]
    y = _empty(x.shape[:-1] + weight.shape[:1], x.dtype)
    _C.linear_forward(_c_order(x), _c_order(weight), None if bias is None else _c_order(bias), y)
    return y


def _c_order(a):
    """``a`` as the kernels take it: C-contiguous (a copy only when it is not)."""
    return a if a.flags.c_contiguous else contiguous(a)


def lstsq(X, Y):
    """Least-squares weights W minimising ||X W - Y||: the closed form (X^T X)^-1 X^T Y of
    the notes, computed as R^-1 Q^T Y from X = QR (Householder, LAPACK's geqrf through
    NumPy). Forming X^T X would square X's condition number: a polynomial fit of degree 11
    (cond(X) about 1e8) would lose every digit, where QR keeps about half of them, as
    numpy.linalg.lstsq does.

    X is (N, p), Y is (N,) or (N, k).  Raises ValueError when X's columns are linearly
    dependent (to working precision), as the closed form then has no unique answer.
    """
    (X, Y), dtype = as_floats(X, Y, names=("X", "Y"))
    if X.ndim != 2 or Y.ndim not in (1, 2) or Y.shape[0] != X.shape[0]:
        raise ValueError(f"lstsq: X must be (N, p) and Y (N,) or (N, k); got {X.shape} and {Y.shape}")
    n, p = X.shape
    if n < p:
        raise ValueError(f"lstsq: X^T X is singular: {n} rows cannot fix {p} weights")
    Q, R = np.linalg.qr(X)
    if np.isfinite(R).all() and p:
        # rank as numpy.linalg.lstsq counts it: singular values above eps * max(N, p) * largest
        s = np.linalg.svd(R, compute_uv=False)
        if s[-1] <= s[0] * np.finfo(dtype).eps * max(n, p):
            raise ValueError("lstsq: X^T X is singular (the columns of X are linearly dependent)")
    W = np.linalg.solve(R, gemm(Q, Y.reshape(n, -1), trans_a=True))
    return W.reshape((p,) + Y.shape[1:]).astype(dtype, copy=False)
