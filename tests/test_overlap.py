"""Outputs that share memory with inputs: the result is as if every input were read
first (NumPy's rule), exact aliasing (``out=x``) works in place, and two outputs of one
call may not share memory.  The suite runs once per ISA, so every path is covered."""
import numpy as np
import pytest

import nnk
from nnk import _C

pytestmark = pytest.mark.usefixtures("isa")  # kernel results: once per ISA

MAPS = {
    "exp": nnk.exp, "log": nnk.log, "tanh": nnk.tanh, "sigmoid": nnk.sigmoid, "relu": nnk.relu,
    "gelu": nnk.gelu, "identity": nnk.identity,
    "leaky_relu": lambda x, out=None: nnk.leaky_relu(x, 0.1, out=out),
}
GRADS = {
    "relu_grad": nnk.relu_grad, "tanh_grad": nnk.tanh_grad, "sigmoid_grad": nnk.sigmoid_grad,
    "gelu_grad": nnk.gelu_grad,
    "leaky_relu_grad": lambda x, g, out=None: nnk.leaky_relu_grad(x, g, 0.2, out=out),
}
ROWS = {"softmax": nnk.softmax, "log_softmax": nnk.log_softmax}


def shifted(n, dtype, shift):
    """A buffer of n + |shift| values; (input view, output view) `shift` elements apart."""
    z = (np.arange(n + abs(shift), dtype=dtype) + 1) / 10
    if shift > 0:
        return z, z[:n], z[shift:]
    return z, z[-shift:], z[:n]


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("n", [5, 23, 100])  # below, across and above every vector width
@pytest.mark.parametrize("shift", [1, 8, -1, -3])
def test_map_into_an_overlapping_out(name, n, shift, dtype):
    f = MAPS[name]
    z, x, out = shifted(n, dtype, shift)
    expect = f(x.copy())
    r = f(x, out=out)
    assert r is out
    np.testing.assert_array_equal(out, expect)


@pytest.mark.parametrize("name", MAPS)
def test_map_in_place(name, dtype):
    x = (np.arange(37, dtype=dtype) + 1) / 10
    expect = MAPS[name](x.copy())
    assert MAPS[name](x, out=x) is x
    np.testing.assert_array_equal(x, expect)


def test_the_reported_case():
    x = np.arange(24.) / 10
    z = x.copy()
    r = nnk.exp(z[:-1], out=z[1:])
    np.testing.assert_allclose(r, np.exp(x[:-1]), rtol=1e-15)
    assert r[8] == pytest.approx(np.exp(0.8)) and r[16] == pytest.approx(np.exp(1.6))


@pytest.mark.parametrize("name", GRADS)
@pytest.mark.parametrize("which", ["u", "grad"])
@pytest.mark.parametrize("shift", [2, -5])
def test_gradient_into_an_out_overlapping_one_operand(name, which, shift, dtype):
    n = 29
    z, a, out = shifted(n, dtype, shift)
    other = np.linspace(-2, 2, n).astype(dtype)
    u, g = (a, other) if which == "u" else (other, a)
    expect = GRADS[name](u.copy(), g.copy())
    GRADS[name](u, g, out=out)
    np.testing.assert_array_equal(out, expect)


@pytest.mark.parametrize("name", ROWS)
@pytest.mark.parametrize("shift", [3, -9, 0])
def test_softmax_family_into_overlapping_out(name, shift, dtype):
    buf = np.linspace(-3, 3, 60).astype(dtype)
    x = buf[:36].reshape(4, 9) if shift >= 0 else buf[-shift:36 - shift].reshape(4, 9)
    out = buf[shift:36 + shift].reshape(4, 9) if shift >= 0 else buf[:36].reshape(4, 9)
    expect = ROWS[name](x.copy())
    ROWS[name](x, out=out)
    np.testing.assert_array_equal(out, expect)


def test_logsumexp_into_overlapping_out(dtype):
    buf = np.linspace(-3, 3, 40).astype(dtype)
    x = buf[:36].reshape(4, 9)
    expect = nnk.logsumexp(x.copy())
    nnk.logsumexp(x, out=buf[2:6])
    np.testing.assert_array_equal(buf[2:6], expect)


@pytest.mark.parametrize("n", [4, 40, 200])
def test_matmul_and_gemm_into_overlapping_out(n, dtype):
    rng = np.random.default_rng(n)
    buf = rng.standard_normal(2 * n * n).astype(dtype)
    a = buf[: n * n].reshape(n, n)
    b = rng.standard_normal((n, n)).astype(dtype)
    expect = nnk.matmul(a.copy(), b)
    out = buf[n: n + n * n].reshape(n, n)  # shifted by n elements: partly over a
    nnk.matmul(a, b, out=out)
    np.testing.assert_array_equal(out, expect)
    c = rng.standard_normal((n, n)).astype(dtype)
    expect = nnk.gemm(b, c.copy(), c.copy(), beta=0.5, trans_b=True)
    nnk.gemm(b, c, c, beta=0.5, trans_b=True, out=c)  # out is c and op(b) reads it too
    np.testing.assert_allclose(c, expect, rtol=1e-5 if dtype == np.float32 else 1e-12)


# ---- the binding's other writers: losses, optimiser steps, embeddings, RNN --------

def test_loss_entries_with_overlapping_outputs(dtype):
    for op in range(len(_C.KERNELS["loss"])):
        buf = np.linspace(0.05, 0.95, 40).astype(dtype)
        y, t = buf[:30], np.linspace(0.9, 0.1, 30).astype(dtype)
        each = np.empty_like(y)
        _C.loss(op, y.copy(), t, each)
        _C.loss(op, y, t, buf[4:34])
        np.testing.assert_array_equal(buf[4:34], each)
        buf = np.linspace(0.05, 0.95, 40).astype(dtype)
        y = buf[:30]
        grad = np.empty_like(y)
        _C.loss_grad(op, y.copy(), t, grad, 0.5)
        _C.loss_grad(op, y, t, buf[7:37], 0.5)
        np.testing.assert_array_equal(buf[7:37], grad)


def test_optimiser_steps_with_a_gradient_overlapping_the_parameter(dtype):
    buf = np.linspace(-1, 1, 30).astype(dtype)
    p, g = buf[:20], buf[6:26]
    p_ref, g_ref, v_ref = p.copy(), g.copy(), np.full(20, 0.3, dtype)
    v = v_ref.copy()
    _C.sgd_step(p_ref, g_ref, v_ref, 0.1, 0.9, 0.01, False)
    _C.sgd_step(p, g, v, 0.1, 0.9, 0.01, False)
    np.testing.assert_array_equal(p, p_ref)
    np.testing.assert_array_equal(v, v_ref)
    buf = np.linspace(-1, 1, 30).astype(dtype)
    p, g = buf[5:25], buf[:20]
    p_ref, g_ref = p.copy(), g.copy()
    m, v, m_ref, v_ref = (np.full(20, 0.1, dtype) for _ in range(4))
    _C.adam_step(p_ref, g_ref, m_ref, v_ref, 0.01, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.0, False)
    _C.adam_step(p, g, m, v, 0.01, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.0, False)
    np.testing.assert_array_equal(p, p_ref)
    np.testing.assert_array_equal(m, m_ref)
    x = np.linspace(0, 1, 30).astype(dtype)
    y_ref = x[3:23].copy()
    _C.axpy(2.0, x[:20].copy(), y_ref)
    _C.axpy(2.0, x[:20], x[3:23])
    np.testing.assert_array_equal(x[3:23], y_ref)


def test_two_outputs_of_one_call_may_not_share_memory(dtype):
    buf = np.zeros(30, dtype)
    with pytest.raises(ValueError, match="outputs"):
        _C.sgd_step(buf[:20], np.ones(20, dtype), buf[10:30], 0.1, 0.9, 0.0, False)
    with pytest.raises(ValueError, match="outputs"):
        _C.adam_step(buf[:10], np.ones(10, dtype), buf[:10], np.ones(10, dtype),
                     0.1, 0.9, 0.99, 1e-8, 1.0, 1.0, 0.0, False)


def test_embedding_and_rnn_entries_with_overlapping_outputs(dtype):
    ids = np.array([0, 2, 2, 1], np.int64)
    buf = np.linspace(-1, 1, 20).astype(dtype)
    g, w = buf[:8], buf[6:12].reshape(3, 2)  # the weight grad overlaps the incoming grad
    g_ref, w_ref = g.copy(), w.copy()
    _C.embedding_backward(ids, g_ref, w_ref)
    _C.embedding_backward(ids, g, w)
    np.testing.assert_array_equal(w, w_ref)
    B, T, I, H = 2, 3, 2, 4
    rng = np.random.default_rng(0)
    wih, whh = rng.standard_normal((H, I)).astype(dtype), rng.standard_normal((H, H)).astype(dtype)
    buf = rng.standard_normal(40).astype(dtype)
    x = buf[:B * T * I]
    h_ref = np.empty(B * T * H, dtype)
    _C.rnn_forward(B, T, I, H, False, x.copy(), wih, whh, None, None, h_ref)
    h = buf[4:4 + B * T * H]  # the hidden states written over the input sequence
    _C.rnn_forward(B, T, I, H, False, x, wih, whh, None, None, h)
    np.testing.assert_array_equal(h, h_ref)
