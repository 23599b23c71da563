"""Bad input, all of it: each gives a Python exception naming the problem, or the right
answer; never a crash, a silent wrong value, or a change to an input."""
import numpy as np
import pytest

import nnk

X = np.linspace(-2, 2, 12).reshape(3, 4)
UNARY = [nnk.exp, nnk.log, nnk.tanh, nnk.sigmoid, nnk.relu, nnk.leaky_relu, nnk.gelu,
         nnk.identity, nnk.softmax, nnk.log_softmax, nnk.logsumexp]
BAD_DTYPES = [np.ones(3, complex), np.array(["a", "b"]), np.array([object(), None]),
              np.array([1, 2], dtype="datetime64[D]")]


@pytest.mark.parametrize("f", UNARY, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", BAD_DTYPES, ids=["complex", "str", "object", "datetime"])
def test_unary_rejects_bad_dtypes(f, bad):
    with pytest.raises(TypeError, match="float32 or float64"):
        f(bad)


@pytest.mark.parametrize("f", UNARY, ids=lambda f: f.__name__)
def test_unary_ints_bools_lists_and_views(f):
    for x in ([[1, 2], [3, 4]], np.array([[True, False], [True, True]]), X[::2, ::-1], X.T):
        ref = f(np.array(x, dtype=np.float64))
        got = f(x)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("f", [f for f in UNARY if f is not nnk.logsumexp], ids=lambda f: f.__name__)
def test_out_errors(f):
    with pytest.raises(ValueError, match="shape"):
        f(X, out=np.empty((4, 3)))
    with pytest.raises(ValueError, match="dtype"):
        f(X, out=np.empty((3, 4), np.float32))
    ro = np.empty((3, 4))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        f(X, out=ro)
    with pytest.raises(TypeError, match="ndarray"):
        f(X, out=[[0] * 4] * 3)


@pytest.mark.parametrize("f", UNARY, ids=lambda f: f.__name__)
def test_inputs_never_modified_and_nan_inf_flow(f):
    x = np.array([[np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0]])
    before = x.copy()
    with np.errstate(all="ignore"):
        f(x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("f", UNARY, ids=lambda f: f.__name__)
def test_zero_size(f):
    # logsumexp reduces the last axis: of (0,) a 0-d -inf (log 0), of (3, 0) three of them
    reduced = {(0,): 1, (0, 3): 0, (3, 0): 3}
    for shape in [(0,), (0, 3), (3, 0)]:
        out = f(np.ones(shape))
        assert out.size == (reduced[shape] if f is nnk.logsumexp else 0)
        if f is nnk.logsumexp:
            assert np.all(out == -np.inf)


def test_gemm_family_bad_inputs():
    a = np.ones((2, 3))
    with pytest.raises(TypeError):
        nnk.matmul(np.ones((2, 2), complex), np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least 1-D"):
        nnk.matmul(np.float64(1), a)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 3\)"):
        nnk.matmul(a, a)
    with pytest.raises(ValueError, match="broadcast"):
        nnk.matmul(np.ones((2, 2, 3)), np.ones((3, 3, 4)))
    with pytest.raises(ValueError, match="2-D"):
        nnk.gemm(np.ones((2, 2, 2)), a)
    with pytest.raises(ValueError, match="c has shape"):
        nnk.gemm(a, a.T, c=np.ones((3, 3)), beta=1.0)
    with pytest.raises(TypeError):
        nnk.gemm(a, a.T, alpha="two")
    with pytest.raises(ValueError, match="bias"):
        nnk.linear(a, np.ones((4, 3)), bias=np.ones(5))


def test_binding_rechecks_what_python_checks():
    """The binding alone refuses what could make a kernel go out of bounds."""
    from nnk import _C

    with pytest.raises(ValueError, match="elements"):
        _C.vunary(0, np.ones(5), np.empty(4))
    with pytest.raises(ValueError, match="unknown kernel"):
        _C.vunary(99, np.ones(5), np.empty(5))
    with pytest.raises(ValueError, match="writable"):
        ro = np.empty(5)
        ro.flags.writeable = False
        _C.vunary(0, np.ones(5), ro)
    with pytest.raises(TypeError, match="float32 or float64"):
        _C.vunary(0, np.ones(5, np.int32), np.empty(5, np.int32))
    with pytest.raises(TypeError, match="one dtype"):
        _C.vunary(0, np.ones(5), np.empty(5, np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        _C.vunary(0, np.ones(10)[::2], np.empty(5))
    with pytest.raises(ValueError, match="gemm shapes"):
        _C.gemm(np.ones((2, 3)), np.ones((4, 2)), np.empty((2, 2)), 1.0, 0.0, False, False)
    with pytest.raises(ValueError, match="2-D"):
        _C.gemm(np.ones(3), np.ones((3, 2)), np.empty((1, 2)), 1.0, 0.0, False, False)
    with pytest.raises(ValueError, match="rows of"):
        _C.rows(0, np.ones(10), np.empty(10), 3)
    with pytest.raises(ValueError, match="rows of"):
        _C.rows(0, np.ones(10), np.empty(10), -1)
    with pytest.raises(TypeError):
        _C.gemm(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError):
        _C.sgd_step(np.ones(4), np.ones(3), None, 0.1, 0.0, 0.0, False)
    w = np.ones((3, 2))
    with pytest.raises(ValueError, match="rows of 2"):
        _C.linear_forward(np.ones(5), w, None, np.empty(9))
    with pytest.raises(ValueError, match="out holds"):
        _C.linear_forward(np.ones(4), w, None, np.empty(5))
    with pytest.raises(ValueError, match="bias holds"):
        _C.linear_forward(np.ones(4), w, np.ones(2), np.empty(6))
    with pytest.raises(ValueError, match="weight must be 2-D"):
        _C.linear_forward(np.ones(4), np.ones(6), None, np.empty(6))
    with pytest.raises(TypeError, match="one dtype"):
        _C.linear_forward(np.ones(4, np.float32), w, None, np.empty(6))
    with pytest.raises(ValueError, match="dx holds"):
        _C.linear_backward(np.ones(4), w, np.ones(6), np.zeros((3, 2)), None, np.empty(3))
    with pytest.raises(ValueError, match="writable"):
        ro = np.zeros((3, 2))
        ro.flags.writeable = False
        _C.linear_backward(np.ones(4), w, np.ones(6), ro, None, None)
    with pytest.raises(TypeError):
        _C.linear_backward(np.ones(4), w, np.ones(6))


def test_absurd_sizes_never_allocate_wildly():
    with pytest.raises((MemoryError, ValueError)):
        nnk.relu(np.broadcast_to(np.float64(1), (1 << 40,)))
    big = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(1 << 20, 1 << 20), strides=(0, 0))
    with pytest.raises((MemoryError, ValueError)):
        nnk.matmul(big, big)


def test_losses_bad_inputs():
    with pytest.raises(ValueError, match="shape"):
        nnk.mse_loss(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="reduction"):
        nnk.mse_loss(np.ones(3), np.ones(3), reduction="avg")
    with pytest.raises(ValueError, match="labels"):
        nnk.cross_entropy(np.ones((2, 3)), np.array([0, 5]))
    with pytest.raises(ValueError):
        nnk.cross_entropy(np.ones((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(TypeError):
        nnk.bce_loss(np.ones(2, complex), np.ones(2))


def test_nn_bad_inputs():
    with pytest.raises(TypeError):
        nnk.nn.Linear(2, 3, dtype=np.int32)
    with pytest.raises(ValueError):
        nnk.nn.Linear(0, 3)
    layer = nnk.nn.Linear(2, 3)
    with pytest.raises(ValueError, match="in_features"):
        layer(np.ones((4, 5)))
    with pytest.raises(ValueError):
        nnk.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError):
        nnk.optim.Adam(layer.parameters(), betas=(1.0, 0.9))
    with pytest.raises(TypeError):
        nnk.nn.Sequential(layer, "relu")


def test_keyword_types():
    with pytest.raises(TypeError, match="negative_slope"):
        nnk.leaky_relu(X, negative_slope="0.1")
    with pytest.raises(TypeError, match="beta"):
        nnk.gemm(X, X.T, X @ X.T, beta=1j)
    with pytest.raises(TypeError, match="alpha"):
        nnk.gemm(X, X.T, alpha=None)
    with pytest.raises(ValueError, match="axis"):
        nnk.softmax(X, axis=5)
    with pytest.raises(TypeError):
        nnk.softmax(X, axis="last")
    with pytest.raises(ValueError, match="approximate"):
        nnk.gelu(X, approximate=True)
