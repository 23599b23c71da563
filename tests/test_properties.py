"""Hypothesis over shapes, strides, dtypes and values: the current ISA agrees with the
scalar reference, and GEMM with float64 NumPy, for every kernel."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nnk
from conftest import ulp_error

pytestmark = pytest.mark.usefixtures("isa")  # kernel results: once per ISA

DTYPES = st.sampled_from([np.float32, np.float64])
FAST = settings(max_examples=60, deadline=None)


@st.composite
def views(draw, dtype, min_dims=1, max_dims=3, lo=-20.0, hi=20.0):
    """An array, then maybe a strided, reversed or transposed view of it."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=12))
    base = draw(hnp.arrays(dtype, shape, elements=st.floats(lo, hi, width=32 if dtype == np.float32 else 64)))
    kind = draw(st.integers(0, 3))
    if kind == 1:
        base = base[(slice(None, None, -1),) * base.ndim]
    elif kind == 2 and base.ndim >= 1:
        base = base[..., ::2]
    elif kind == 3:
        base = base.T
    return base


@pytest.mark.parametrize("name", ["relu", "exp", "tanh", "sigmoid", "gelu", "softmax", "log_softmax", "logsumexp"])
@FAST
@given(data=st.data(), dtype=DTYPES)
def test_kernels_agree_with_scalar(name, data, dtype):
    x = data.draw(views(dtype))
    f = getattr(nnk, name)
    got = f(x)
    with nnk.use_isa("scalar"):
        ref = f(x)
    assert got.shape == ref.shape and got.dtype == ref.dtype
    n = x.shape[-1] if x.ndim else 1
    bound = 8 if name in ("relu", "exp", "tanh", "sigmoid", "gelu") else 8 + 4 * n
    err = ulp_error(got, ref, dtype)
    # beside ULPs, absolute slack for results near 0 that cancel (log_softmax, logsumexp)
    with np.errstate(invalid="ignore"):
        close = np.abs(got.astype(np.float64) - ref) <= (8 + 4 * n) * np.finfo(dtype).eps * (1 + np.abs(x).max(initial=0))
    assert np.all((err <= bound) | close)


@FAST
@given(data=st.data(), dtype=DTYPES, ta=st.booleans(), tb=st.booleans(),
       alpha=st.sampled_from([1.0, -0.5, 0.0, 2.0]), beta=st.sampled_from([0.0, 1.0, -1.5]))
def test_gemm_any_strides_against_float64(data, dtype, ta, tb, alpha, beta):
    m, n, k = (data.draw(st.integers(0, 40)) for _ in range(3))
    def operand(r, c, trans):
        base = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).uniform(-2, 2, (c, r) if trans else (r, c)).astype(dtype)
        if data.draw(st.booleans()):  # a strided view of a bigger array
            big = np.zeros((base.shape[0] * 2, base.shape[1] * 3), dtype)
            big[::2, ::3] = base
            base = big[::2, ::3]
        return base
    a, b = operand(m, k, ta), operand(k, n, tb)
    c = np.random.default_rng(1).uniform(-1, 1, (m, n)).astype(dtype)
    got = nnk.gemm(a, b, c, alpha=alpha, beta=beta, trans_a=ta, trans_b=tb)
    A = (a.T if ta else a).astype(np.float64)
    B = (b.T if tb else b).astype(np.float64)
    ref = alpha * A @ B + beta * c
    bound = (k + 3) * np.finfo(dtype).eps * (abs(alpha) * np.abs(A) @ np.abs(B) + abs(beta) * np.abs(c)) + 1e-30
    assert np.all(np.abs(got - ref) <= bound)


# ---- the binding itself: any call is a result or a clean Python exception ----------

# Each _C entry's arguments: o kernel/kind index, A array, N array or None, f float,
# n size (huge ones included: products must not wrap), b flag, I int64 ids.
SIGNATURES = {
    "map": "oAA", "grad": "oAAA", "pmap": "oAAf", "pgrad": "oAAAf", "rows_grad": "oAAAn",
    "loss": "oAAN", "loss_grad": "oAAAf", "sgd_step": "AANfffbfb", "adam_step": "AAAAfffffffbNb",
    "rmsprop_step": "AAANNfffffb", "adagrad_step": "AAAfffb",
    "axpy": "fAA", "rows": "oAAn", "gemm": "AAAffbb", "linear_forward": "AANN",
    "linear_backward": "AAANNNb", "embedding_backward": "IAA",
    "rnn_forward": "nnnnbAAANNA", "rnn_backward": "nnnnbAAANAAAAANN",
}
SIZES = st.one_of(st.integers(-2, 12), st.sampled_from(  # products of these wrap 64 bits
    [2**32, 2**32, 2**31, 2**32 + 1, 2**62, 2**63 - 1, -(2**63)]))
CLEAN = (TypeError, ValueError, OverflowError, IndexError, MemoryError)


@st.composite
def binding_array(draw, pool):
    """A fresh array, or a view into one shared buffer (so operands overlap at random)."""
    dtype = draw(st.sampled_from([np.float32, np.float64, np.float64, np.int64, np.bool_]))
    if dtype in (np.float32, np.float64) and draw(st.booleans()):
        base = pool[dtype]
        start, step = draw(st.integers(0, 20)), draw(st.sampled_from([1, 1, 2, -1]))
        count = draw(st.integers(0, 24))
        a = base[start::step][:count] if step > 0 else base[::-1][start:][:count]
        if a.size >= 4 and draw(st.booleans()):
            a = a[: a.size // 2 * 2].reshape(2, -1)
    else:  # empty and one-element arrays often: what a wrapped size product would accept
        shape = draw(st.one_of(st.sampled_from([(0,), (1,), ()]),
                               hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)))
        a = np.linspace(-2, 2, int(np.prod(shape))).reshape(shape).astype(dtype)
    if draw(st.integers(0, 9)) == 0:
        a = a.view()
        a.flags.writeable = False
    return a


@settings(max_examples=400, deadline=None)
@given(data=st.data(), entry=st.sampled_from(sorted(SIGNATURES)))
def test_binding_entries_never_crash(data, entry):
    from nnk import _C

    pool = {dt: np.linspace(-1, 1, 48).astype(dt) for dt in (np.float32, np.float64)}
    draw = {
        "o": lambda: data.draw(st.integers(-1, 12)),
        "A": lambda: data.draw(binding_array(pool)),
        "N": lambda: data.draw(st.one_of(st.none(), binding_array(pool))),
        "f": lambda: data.draw(st.floats(allow_nan=True, allow_infinity=True)),
        "n": lambda: data.draw(SIZES),
        "b": lambda: data.draw(st.booleans()),
        "I": lambda: np.array(data.draw(st.lists(st.integers(-2, 12), max_size=8)), np.int64),
    }
    args = [draw[code]() for code in SIGNATURES[entry]]
    try:
        getattr(_C, entry)(*args)
    except CLEAN:
        pass
