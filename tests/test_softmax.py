"""Softmax, log-softmax and log-sum-exp: no overflow, special rows, axes, properties."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nnk

pytestmark = pytest.mark.usefixtures("isa")  # kernel results: once per ISA


def ref_logsumexp(x, axis=-1):
    x = np.asarray(x, np.longdouble)
    m = np.max(x, axis=axis, keepdims=True)
    return (np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m).squeeze(axis)


def test_no_overflow_examples():
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(nnk.softmax([1000.0, 0.0]), [1.0, 0.0])
        np.testing.assert_allclose(nnk.log_softmax([1e8, 1e8]), [-np.log(2)] * 2, rtol=1e-15)
        np.testing.assert_allclose(nnk.logsumexp([1000.0, 1000.0]), 1000 + np.log(2), rtol=1e-15)
        np.testing.assert_array_equal(nnk.softmax(np.array([1000.0, 0.0], np.float32)), [1, 0])


def test_special_rows(dtype):
    inf = np.inf
    with np.errstate(all="raise"):
        s = nnk.softmax(np.array([[-inf, 0.0, 0.0], [-inf, -inf, -inf]], dtype))
        np.testing.assert_array_equal(s[0], [0, 0.5, 0.5])
        assert np.all(np.isnan(s[1]))  # documented: an all -inf row has no softmax
        ls = nnk.log_softmax(np.array([-inf, 0.0], dtype))
        np.testing.assert_array_equal(ls, [-inf, 0.0])
        assert nnk.logsumexp(np.array([-inf, -inf], dtype)) == -inf
        assert np.isnan(nnk.logsumexp(np.array([1.0, np.nan], dtype)))
        assert np.all(np.isnan(nnk.softmax(np.array([1.0, np.nan, 2.0], dtype))))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_axes_against_reference(axis, dtype):
    x = np.random.default_rng(2).uniform(-50, 50, (4, 5, 6)).astype(dtype)
    lse = ref_logsumexp(x, axis)
    tol = 4 * np.finfo(dtype).eps * 8
    np.testing.assert_allclose(nnk.logsumexp(x, axis=axis), lse, rtol=tol, atol=tol * 50)
    ls = x.astype(np.longdouble) - np.expand_dims(lse, axis)
    np.testing.assert_allclose(nnk.log_softmax(x, axis=axis), ls, rtol=tol, atol=tol * 100)
    np.testing.assert_allclose(nnk.softmax(x, axis=axis), np.exp(ls), rtol=tol * 4,
                               atol=np.finfo(dtype).tiny)  # subnormal results keep no relative precision
    assert nnk.logsumexp(x, axis=axis, keepdims=True).shape == np.expand_dims(lse, axis).shape


def test_every_row_length_agrees_with_scalar(dtype):
    rng = np.random.default_rng(11)
    for n in range(1, 70):
        x = rng.uniform(-20, 20, (3, n)).astype(dtype)
        got = nnk.softmax(x), nnk.log_softmax(x), nnk.logsumexp(x)
        with nnk.use_isa("scalar"):
            ref = nnk.softmax(x), nnk.log_softmax(x), nnk.logsumexp(x)
        tol = (n + 4) * np.finfo(dtype).eps
        for g, r in zip(got, ref):
            np.testing.assert_allclose(g, r, rtol=tol, atol=tol * 30)


def test_empty_and_scalar():
    assert nnk.softmax(np.ones((3, 0))).shape == (3, 0)
    np.testing.assert_array_equal(nnk.logsumexp(np.ones((3, 0))), [-np.inf] * 3)
    np.testing.assert_array_equal(nnk.softmax(np.float64(4.0)), [1.0])
    with pytest.raises(ValueError):
        nnk.softmax(np.ones((2, 3)), axis=2)


@pytest.mark.parametrize("f", [nnk.softmax, nnk.log_softmax, nnk.logsumexp])
def test_axis_must_be_an_integer(f):
    """A float axis is a TypeError, as in NumPy, on the fast path (the last axis of a
    contiguous float array) as elsewhere; NumPy's integers are axes."""
    for x in (np.ones((2, 3)), np.ones((2, 3)).T):
        for axis in (1.0, -1.0, "1"):
            with pytest.raises(TypeError):
                f(x, axis=axis)
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(f(x, axis=np.int64(1)), f(x, axis=1))


rows = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=40),
                  elements=st.floats(-1e6, 1e6))


@settings(max_examples=150, deadline=None)
@given(rows, st.floats(-1e3, 1e3))
def test_properties(x, shift):
    s = nnk.softmax(x)
    np.testing.assert_allclose(s.sum(axis=-1), 1.0, rtol=1e-12)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(nnk.softmax(x + shift), s, atol=1e-9)  # shift invariance
    ls = nnk.log_softmax(x)
    finite = s > 1e-300
    np.testing.assert_allclose(ls[finite], np.log(s[finite]), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n", [2, 9, 33])
def test_logsumexp_with_infinities(n, dtype):
    x = np.zeros(n, dtype)
    x[n // 2] = np.inf
    assert nnk.logsumexp(x) == np.inf  # as PyTorch and SciPy: log(inf + ...) = inf
    assert nnk.logsumexp(x[None].repeat(3, 0), axis=1).tolist() == [np.inf] * 3
    x[0] = np.nan
    assert np.isnan(nnk.logsumexp(x))
    y = np.full(n, -np.inf, dtype)
    assert nnk.logsumexp(y) == -np.inf
    y[-1] = np.inf
    assert nnk.logsumexp(y) == np.inf
    assert nnk.logsumexp(np.array([np.inf, 0.0], dtype)) == np.inf
