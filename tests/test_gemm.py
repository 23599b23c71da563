"""GEMM, matmul and linear against float64 NumPy, the scalar path, and by hand."""
import itertools

import numpy as np
import pytest

import nnk
from nnk import _C

pytestmark = pytest.mark.usefixtures("isa")  # kernel results: once per ISA

RNG = np.random.default_rng(7)
SIZES = [0, 1, 2, 3, 5, 9, 6 - 1, 6, 6 + 1, 2 * 6 + 1, 16, 17, 100]


def reference(a, b, c, alpha, beta, ta, tb):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    r = alpha * ((a64.T if ta else a64) @ (b64.T if tb else b64))
    if c is not None and beta != 0:
        r = r + beta * c.astype(np.float64)
    bound = abs(alpha) * (np.abs(a64.T if ta else a64) @ np.abs(b64.T if tb else b64))
    if c is not None and beta != 0:
        bound = bound + abs(beta) * np.abs(c.astype(np.float64))
    return r, bound


def check(got, a, b, c, alpha, beta, ta, tb, dtype):
    ref, bound = reference(a, b, c, alpha, beta, ta, tb)
    k = a.shape[0] if ta else a.shape[1]
    tol = (k + 3) * np.finfo(dtype).eps * bound + np.finfo(dtype).tiny
    assert got.dtype == dtype and got.shape == ref.shape
    assert np.all(np.abs(got - ref) <= tol), np.max(np.abs(got - ref) - tol)


@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
def test_grid_against_float64(dtype, ta, tb):
    for i, (m, n, k) in enumerate(itertools.product(SIZES, SIZES[::3], [0, 1, 7, 33, 257])):
        alpha, beta = [(1.0, 0.0), (0.7, 1.3), (1.0, 1.0), (0.0, 1.3)][i % 4]
        a = RNG.uniform(-1, 1, (k, m) if ta else (m, k)).astype(dtype)
        b = RNG.uniform(-1, 1, (n, k) if tb else (k, n)).astype(dtype)
        c = RNG.uniform(-1, 1, (m, n)).astype(dtype)
        a0, b0, c0 = a.copy(), b.copy(), c.copy()
        got = nnk.gemm(a, b, c, alpha=alpha, beta=beta, trans_a=ta, trans_b=tb)
        check(got, a, b, c, alpha, beta, ta, tb, dtype)
        # inputs untouched
        np.testing.assert_array_equal(a, a0)
        np.testing.assert_array_equal(b, b0)
        np.testing.assert_array_equal(c, c0)


@pytest.mark.parametrize("m, n, k, ta", [(301, 203, 520, False), (40, 1000, 700, True),
                                         (200, 1500, 100, False), (9, 2051, 1300, True),
                                         (64, 333, 5, False), (30, 600, 1000, False),
                                         (30, 400, 1000, False)])
def test_blocked_and_streamed_on_one_and_two_threads(m, n, k, ta, dtype, set_threads):
    """The float64 product, and the same bits on one thread and two: a shape that crosses
    MC, NC and KC blocks, and products within one A block (m <= MC), which pack B a group
    of panels at a time: wide enough for several groups on either thread count (a last
    group and a last panel short), a transposed A as a weight gradient's dy^T, and A in
    rows with 32 to 63 panels (AVX2's float32 and float64), which one thread packs and
    two read in place (each member packs A where it serves 32 of its panels)."""
    a = RNG.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = RNG.standard_normal((k, n)).astype(dtype)
    op_a = a.T if ta else a
    set_threads(1)
    one = nnk.matmul(op_a, b)
    set_threads(2)
    two = nnk.matmul(op_a, b)
    check(one, a, b, None, 1.0, 0.0, ta, False, dtype)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("m, n, k", [(8, 300, 784), (16, 1030, 1024), (5, 77, 64), (32, 257, 300)])
def test_few_rows_times_a_transposed_weight_on_one_and_two_threads(m, n, k, dtype, set_threads):
    """x W^T for a small batch, computed as W x^T (W's rows read in place, C^T's tiles
    merged into C through its strides) where the rows are at most two tile panels and k
    at least eight times them: the float64 product, and the same bits on one thread and
    two (W's rows 4 KiB apart in float32 at k = 1024; (32, 257, 300) takes the plain path
    in float64)."""
    x = RNG.standard_normal((m, k)).astype(dtype)
    W = RNG.standard_normal((n, k)).astype(dtype)
    set_threads(1)
    one = nnk.matmul(x, W.T)
    set_threads(2)
    two = nnk.matmul(x, W.T)
    check(one, x, W, None, 1.0, 0.0, False, True, dtype)
    np.testing.assert_array_equal(one, two)


def test_agrees_with_scalar_path(dtype):
    a = RNG.standard_normal((67, 45)).astype(dtype)
    b = RNG.standard_normal((45, 39)).astype(dtype)
    got = nnk.matmul(a, b)
    with nnk.use_isa("scalar"):
        ref = nnk.matmul(a, b)
    tol = 48 * np.finfo(dtype).eps * (np.abs(a) @ np.abs(b))
    assert np.all(np.abs(got - ref) <= tol)


def test_beta_zero_ignores_nan_in_c(dtype):
    a = np.ones((20, 30), dtype)
    b = np.ones((30, 25), dtype)
    c = np.full((20, 25), np.nan, dtype)
    got = nnk.gemm(a, b, c, beta=0.0)
    np.testing.assert_array_equal(got, np.full((20, 25), 30, dtype))
    out = np.full((20, 25), np.nan, dtype)
    nnk.gemm(a, b, out=out)
    np.testing.assert_array_equal(out, 30)


def test_strided_views_without_copies(dtype):
    """Transposed, sliced and reversed views give the right answer."""
    big = RNG.standard_normal((40, 50)).astype(dtype)
    views = [big[::2, 1::3], big.T[5:25, :17], big[::-1, ::-2][:17, :20]]
    for a in views:
        for b in (big[: a.shape[1], :13], big.T[: a.shape[1], 3:16:1], big[::-1][: a.shape[1], ::-3]):
            check(nnk.matmul(a, b), a, b, None, 1.0, 0.0, False, False, dtype)


def test_out_into_strided_view(dtype):
    a = RNG.standard_normal((9, 4)).astype(dtype)
    b = RNG.standard_normal((4, 7)).astype(dtype)
    base = np.zeros((9, 14), dtype)
    out = base[:, ::2]
    res = nnk.matmul(a, b, out=out)
    assert res is out
    check(out, a, b, None, 1.0, 0.0, False, False, dtype)
    np.testing.assert_array_equal(base[:, 1::2], 0)  # the gaps are untouched


def test_out_aliasing_c_accumulates(dtype):
    a = RNG.standard_normal((8, 5)).astype(dtype)
    b = RNG.standard_normal((5, 6)).astype(dtype)
    c = RNG.standard_normal((8, 6)).astype(dtype)
    c0 = c.copy()
    nnk.gemm(a, b, c, beta=2.0, out=c)
    check(c, a, b, c0, 1.0, 2.0, False, False, dtype)  # error bound from the terms' size


@pytest.mark.parametrize("n", [6, 64, 200])  # reference, direct and packed paths
def test_out_aliasing_an_input(n):
    a = RNG.standard_normal((n, n))
    expect = a @ a
    nnk.matmul(a, a, out=a)
    np.testing.assert_allclose(a, expect, rtol=1e-12, atol=1e-12)
    big = RNG.standard_normal((2 * n, n))
    top, bottom = big[:n], big[n:]  # out overlaps only b's buffer span, through a view
    expect = top.T @ bottom
    nnk.gemm(top, bottom.T, trans_a=True, trans_b=True, out=bottom.T)
    np.testing.assert_allclose(bottom.T, expect, rtol=1e-12, atol=1e-12)


def test_binding_reads_overlapping_operands_first():
    """_C.gemm and the layer entries give what NumPy gives when an output shares memory
    with an input (the binding hands the kernel a copy); outputs sharing memory with each
    other are refused."""
    buf = RNG.standard_normal(32)
    a, b = buf[:16].reshape(4, 4), buf[8:24].reshape(4, 4)[::-1]
    expect = a @ b
    out = buf[4:20].reshape(4, 4)[:, ::-1]
    _C.gemm(a, b, out, 1.0, 0.0, False, False)
    np.testing.assert_allclose(out, expect, rtol=1e-12, atol=1e-12)
    w = RNG.standard_normal((3, 4))
    buf = RNG.standard_normal(20)
    expect = buf[:8].reshape(2, 4) @ w.T
    _C.linear_forward(buf[:8].reshape(2, 4), w, None, buf[5:11])
    np.testing.assert_allclose(buf[5:11].reshape(2, 3), expect, rtol=1e-12)
    x, g = RNG.standard_normal((2, 4)), RNG.standard_normal(6)
    dw = np.zeros_like(w)
    w_before = w.copy()
    _C.linear_backward(x, w, g, dw, None, w.reshape(-1)[:8], True)  # dx over w, which dx = g w reads
    np.testing.assert_allclose(w.reshape(-1)[:8], (g.reshape(2, 3) @ w_before).reshape(-1), rtol=1e-12)
    with pytest.raises(ValueError, match="outputs"):
        both = np.zeros(20)
        _C.linear_backward(x, w_before, g, both[:12], both[10:13], None, True)


def test_matmul_shapes_like_numpy():
    rng = np.random.default_rng(1)
    cases = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
             ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (4, 3, 2))]
    for sa, sb in cases:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        got, ref = nnk.matmul(a, b), np.matmul(a, b)
        assert got.shape == ref.shape, (sa, sb)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_dtype_rules():
    a32 = np.ones((2, 2), np.float32)
    a64 = np.ones((2, 2), np.float64)
    assert nnk.matmul(a32, a32).dtype == np.float32
    assert nnk.matmul(a32, a64).dtype == np.float64
    assert nnk.matmul([[1, 2], [3, 4]], [[1], [1]]).dtype == np.float64
    np.testing.assert_array_equal(nnk.matmul([[1, 2], [3, 4]], [[1], [1]]), [[3], [7]])
    with pytest.raises(TypeError, match="complex"):
        nnk.matmul(np.ones((2, 2), complex), a64)


def test_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        nnk.matmul(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="2-D"):
        nnk.gemm(np.ones(3), np.ones((3, 3)))
    with pytest.raises(ValueError, match="shape"):
        nnk.matmul(np.ones((2, 3)), np.ones((3, 4)), out=np.empty((2, 5)))
    with pytest.raises(ValueError, match="dtype"):
        nnk.matmul(np.ones((2, 3)), np.ones((3, 4)), out=np.empty((2, 4), np.float32))
    with pytest.raises(ValueError, match="read-only"):
        out = np.empty((2, 4))
        out.flags.writeable = False
        nnk.matmul(np.ones((2, 3)), np.ones((3, 4)), out=out)


def test_zero_sizes():
    assert nnk.matmul(np.ones((0, 3)), np.ones((3, 4))).shape == (0, 4)
    np.testing.assert_array_equal(nnk.matmul(np.ones((2, 0)), np.ones((0, 4))), np.zeros((2, 4)))


def test_linear_is_x_wt_plus_b_by_hand():
    # Sheet-style: W x + b for one sample, worked by hand: [1*1+2*2+1, 3*1+4*2-1]
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([1.0, -1.0])
    np.testing.assert_array_equal(nnk.linear([1.0, 2.0], W, b), [6.0, 10.0])
    X = np.array([[1.0, 2.0], [0.0, -1.0], [2.0, 2.0]])
    np.testing.assert_array_equal(nnk.linear(X, W, b), [[6, 10], [-1, -5], [7, 13]])
    np.testing.assert_array_equal(nnk.linear(X, W), [[5, 11], [-2, -4], [6, 14]])
    with pytest.raises(ValueError, match="in_features"):
        nnk.linear(np.ones((3, 3)), W)


def test_linear_forward_makes_y_for_plain_arrays_only(dtype):
    """linear_forward(x, w, b, None): a new y for C-contiguous arrays of one float dtype
    (one sample, a batch, stacked rows), the same values as into a given y; None where
    the operands need converting or do not fit, for the caller's general path."""
    rng = np.random.default_rng(4)
    w, b = rng.standard_normal((3, 5)).astype(dtype), rng.standard_normal(3).astype(dtype)
    for shape in [(5,), (4, 5), (2, 3, 5)]:
        x = rng.standard_normal(shape).astype(dtype)
        for bias in (b, None):
            got = _C.linear_forward(x, w, bias, None)
            want = np.empty(shape[:-1] + (3,), dtype)
            _C.linear_forward(x, w, bias, want)
            assert got.shape == want.shape and got.dtype == dtype
            np.testing.assert_array_equal(got, want)
    x = rng.standard_normal((4, 5)).astype(dtype)
    other = np.float64 if dtype == np.float32 else np.float32
    for args in [(x[:, ::-1], w, b), (x.tolist(), w, b), (x, w.astype(other), b), (x, w, b[:2]),
                 (x, w, 0.5), (x[:, :4], w, b), (x, w.T.copy().T, b)]:
        assert _C.linear_forward(*args, None) is None
    xs = x[:, ::-1]  # the general path: made contiguous, then the same kernel
    np.testing.assert_array_equal(nnk.linear(xs, w, b), _C.linear_forward(np.ascontiguousarray(xs), w, b, None))


@pytest.mark.parametrize("rows, out, inp", [(3, 2, 5), (1, 300, 8), (7, 20, 9), (64, 784, 40),
                                             (600, 33, 70), (600, 45, 70), (1030, 130, 50), (2, 1, 3),
                                             (8, 130, 784), (16, 33, 200),
                                             (513, 17, 3), (700, 2, 300), (96, 96, 96),
                                             (1030, 130, 700), (200, 70, 900), (300, 40, 1100)])
@pytest.mark.parametrize("threads", [1, 2])
def test_linear_bias_on_every_gemm_path(rows, out, inp, threads, isa, dtype, set_threads):
    """x W^T + b on the reference loops, matrix-vector, direct, streamed (rows within one
    A block), blocked (more rows than MC) and transposed (few outputs) paths, one thread
    and two, one k block and several (also with the L1 model's KC: a small output, a long
    k): the blocked ones lay the bias down tile by tile before the first k block's tiles
    add to it."""
    rng = np.random.default_rng(rows * 7 + out)
    x = rng.uniform(-1, 1, (rows, inp)).astype(dtype)
    W = rng.uniform(-1, 1, (out, inp)).astype(dtype)
    b = rng.uniform(-1, 1, out).astype(dtype)
    set_threads(threads)
    with nnk.use_isa(isa):
        got = nnk.linear(x, W, b)
    xd, Wd, bd = (v.astype(np.float64) for v in (x, W, b))
    bound = (inp + 3) * np.finfo(dtype).eps * (np.abs(xd) @ np.abs(Wd).T + np.abs(bd))
    assert np.all(np.abs(got - (xd @ Wd.T + bd)) <= bound)



@pytest.mark.parametrize("rows, out, inp", [(1024, 512, 128), (1030, 130, 100), (300, 70, 128),
                                             (64, 784, 40), (9, 33, 5)])
def test_linear_bias_added_to_the_rounded_product(rows, out, inp, isa, dtype):
    """x W^T + b with k in one block (in_features <= 128, below any KC) is the product's
    sums, rounded, plus the bias: bitwise NumPy's addition of b to nnk's x W^T, on every
    path (the tiles that add the bias as they store, edge tiles, the bias laid down
    first).  (With several k blocks the later blocks add to the first's sum and bias.)"""
    rng = np.random.default_rng(rows + out + inp)
    x = rng.standard_normal((rows, inp)).astype(dtype)
    W = rng.standard_normal((out, inp)).astype(dtype)
    b = rng.standard_normal(out).astype(dtype)
    with nnk.use_isa(isa):
        np.testing.assert_array_equal(nnk.linear(x, W, b), nnk.matmul(x, W.T) + b)


@pytest.mark.parametrize("rows, out", [(1024, 512), (1030, 130), (3, 70), (0, 9)])
def test_linear_backward_bias_gradient_same_bits_on_any_thread_count(rows, out, isa, dtype, set_threads):
    """db (the column sums of g, as 1^T g) split across threads by columns: one thread's
    bits on two, added to what .grad held (add) or written over it, and within the
    terms' bound of the float64 sums."""
    rng = np.random.default_rng(rows + out)
    x = rng.uniform(-1, 1, (rows, 8)).astype(dtype)
    w = rng.uniform(-1, 1, (out, 8)).astype(dtype)
    g = rng.uniform(-1, 1, (rows, out)).astype(dtype)
    start = rng.uniform(-1, 1, out).astype(dtype)
    got = {}
    for threads in (1, 2):
        set_threads(threads)
        for add in (False, True):
            db, dw = start.copy(), np.zeros((out, 8), dtype)
            with nnk.use_isa(isa):
                _C.linear_backward(x, w, g, dw, db, None, add)
            got[threads, add] = db
    for add in (False, True):
        np.testing.assert_array_equal(got[1, add], got[2, add])
        want = g.astype(np.float64).sum(0) + (start.astype(np.float64) if add else 0)
        bound = (rows + 2) * np.finfo(dtype).eps * (np.abs(g.astype(np.float64)).sum(0) + np.abs(start))
        assert np.all(np.abs(got[1, add] - want) <= bound)

# ---- m or n = 1: the matrix-vector path (gemv kernels) --------------------------------

@pytest.mark.parametrize("m, n, k", [(1, 1, 100_003), (1, 2500, 37), (2500, 1, 37), (7, 1, 1003),
                                     (1, 1029, 9), (1030, 1, 5), (1, 5, 4099), (501, 2, 1003),
                                     (33, 3, 257), (1001, 4, 9), (2, 3, 40), (3, 4, 3),
                                     (3, 1029, 77), (4, 257, 1003), (2, 33, 9), (1, 300, 45),
                                     (1, 900, 13), (1, 1037, 11)])
@pytest.mark.parametrize("ta, tb", list(itertools.product([False, True], repeat=2)))
def test_matrix_vector_shapes_every_layout(m, n, k, ta, tb, dtype):
    """Dot products, W x, x W and skinny products (n <= 4) with either operand transposed,
    tails of every kind (rows not a multiple of 8, 4 or 2, columns past the 1024-column
    chunk, k not a multiple of a vector; x W's eight-row passes then four and one, two
    vectors a step with one left over or none, and its four-row passes for rows 3/4 of a
    page to a page long), against float64 with the error bound of the terms."""
    rng = np.random.default_rng(m * 7 + n * 3 + k)
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(dtype)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(dtype)
    c = rng.uniform(-1, 1, (m, n)).astype(dtype)
    got = nnk.gemm(a, b, c, alpha=0.7, beta=1.3, trans_a=ta, trans_b=tb)
    check(got, a, b, c, 0.7, 1.3, ta, tb, dtype)


@pytest.mark.parametrize("n", [32_769, 65_600, 100_000, 262_147, 1_000_003])
def test_long_dot_same_bits_on_any_thread_count(n, dtype, set_threads):
    """A dot product past one block is summed in blocks set by its length alone (equal
    ones, the last shorter), their partials added in order: 1, 2 and 3 threads give the
    same bits, within the bound of the terms of the float64 sum."""
    rng = np.random.default_rng(n)
    a, b = (rng.uniform(-1, 1, n).astype(dtype) for _ in range(2))
    got = {}
    for threads in (1, 2, 3):
        set_threads(threads)
        got[threads] = nnk.matmul(a, b)
    assert got[1].tobytes() == got[2].tobytes() == got[3].tobytes()
    terms = a.astype(np.float64) * b
    assert abs(float(got[1]) - terms.sum()) <= n * np.finfo(dtype).eps * np.abs(terms).sum()


@pytest.mark.parametrize("rows, cols", [(1000, 1000), (2000, 700), (8001, 65), (17, 40_000), (4096, 600)])
def test_vector_matrix_row_blocks_same_bits_on_any_thread_count(rows, cols, dtype, set_threads):
    """x W of a large W is summed in row blocks set by the shape alone (their partials
    added in order): 1, 2 and 3 threads give the same bits, x W and W^T x (the same
    kernel) alike, with beta and alpha applied once, within the bound of the terms."""
    rng = np.random.default_rng(rows + cols)
    W = rng.uniform(-1, 1, (rows, cols)).astype(dtype)
    x = rng.uniform(-1, 1, rows).astype(dtype)
    c = rng.uniform(-1, 1, (1, cols)).astype(dtype)
    got = {}
    for threads in (1, 2, 3):
        set_threads(threads)
        got[threads] = (nnk.gemm(x.reshape(1, -1), W, c, alpha=0.5, beta=2.0),
                        nnk.matmul(W.T, x))
    for threads in (2, 3):
        for a, b in zip(got[1], got[threads]):
            assert a.tobytes() == b.tobytes()
    check(got[1][0], x.reshape(1, -1), W, c, 0.5, 2.0, False, False, dtype)
    np.testing.assert_array_equal(got[1][1], nnk.gemm(x.reshape(1, -1), W).ravel())


def test_matrix_vector_strided_operands_and_output(dtype):
    rng = np.random.default_rng(5)
    big = rng.uniform(-1, 1, (300, 400)).astype(dtype)
    W, x = big[::3, ::2], big[1, ::2]  # (100, 200) and (200,), neither contiguous
    base = np.full((100, 3), np.nan, dtype)
    out = base[:, 1:2]                      # a column of a wider array: y at stride 3
    nnk.gemm(W, x.reshape(-1, 1), out=out)  # beta = 0: the NaN already there is ignored
    check(out, W, x.reshape(-1, 1), None, 1.0, 0.0, False, False, dtype)
    assert np.isnan(base[:, [0, 2]]).all()  # nothing beside the column written
    xw = nnk.matmul(x[:100], W)             # x W with x strided
    check(xw.reshape(1, -1), x[:100].reshape(1, -1), W, None, 1.0, 0.0, False, False, dtype)
    skinny = big[:, 1:4][::2]               # (150, 3), rows at stride 800
    out = np.full((100, 3), np.nan, dtype)
    nnk.gemm(big[:100, :150], skinny, out=out)  # C = A B with n = 3
    check(out, big[:100, :150], skinny, None, 1.0, 0.0, False, False, dtype)
    outT = np.full((3, 100), np.nan, dtype).T  # C with column stride 100: the blocked path
    nnk.gemm(big[:100, :150], skinny, out=outT)
    check(outT, big[:100, :150], skinny, None, 1.0, 0.0, False, False, dtype)


def test_one_dimensional_matmul_like_numpy(dtype):
    rng = np.random.default_rng(6)
    W, x, y = (rng.uniform(-1, 1, s).astype(dtype) for s in ((40, 30), 30, 40))
    assert nnk.matmul(W, x).shape == (40,) and nnk.matmul(y, W).shape == (30,)
    d = nnk.matmul(x, x)
    assert d.shape == () and d.dtype == dtype
    tol = 40 * np.finfo(dtype).eps
    np.testing.assert_allclose(nnk.matmul(W, x), W.astype(float) @ x, rtol=tol, atol=tol)
    np.testing.assert_allclose(nnk.matmul(y, W), y.astype(float) @ W, rtol=tol, atol=tol)
    np.testing.assert_allclose(d, x.astype(float) @ x, rtol=tol)
    with pytest.raises(ValueError):
        nnk.matmul(W, y)  # inner sizes differ: the general path says so
    # a dot product is a NumPy scalar of the operands' dtype, as numpy.matmul returns
    assert type(d) is type(np.matmul(x, x)) and isinstance(d, np.generic)


def test_binding_takes_vectors_as_numpy_matmul(dtype):
    """_C.gemm itself: a 1-D a is one row, a 1-D b one column, c drops their axes; any
    strides (reversed and stepped views), against float64 by hand."""
    rng = np.random.default_rng(8)
    W = rng.uniform(-1, 1, (60, 50)).astype(dtype)
    v = rng.uniform(-1, 1, 200).astype(dtype)
    x, y = v[::-4], v[1:121:2]          # (50,) reversed at stride 4; (60,) at stride 2
    tol = 60 * np.finfo(dtype).eps
    c = np.empty(60, dtype)
    _C.gemm(W, x, c, 1.0, 0.0, False, False)
    np.testing.assert_allclose(c, W.astype(float) @ x, rtol=tol, atol=tol)
    wide = np.full((3, 50), np.nan, dtype)
    _C.gemm(y, W, wide[1], 2.0, 0.0, False, False)  # x W into a row of a wider array
    np.testing.assert_allclose(wide[1], 2 * (y.astype(float) @ W), rtol=tol, atol=tol)
    assert np.isnan(wide[[0, 2]]).all()
    d = np.full((), 5.0, dtype)
    _C.gemm(x, x[::-1], d, 1.0, 0.5, False, False)  # beta reads the 0-D c
    np.testing.assert_allclose(d, x.astype(float) @ x[::-1] + 2.5, rtol=tol)
    with pytest.raises(ValueError, match="no transpose"):
        _C.gemm(x, x, d, 1.0, 0.0, True, False)
    with pytest.raises(ValueError, match="c must be 1-D"):
        _C.gemm(W, x, np.empty((60, 1), dtype), 1.0, 0.0, False, False)
    with pytest.raises(ValueError, match="do not fit"):
        _C.gemm(W, y, np.empty(60, dtype), 1.0, 0.0, False, False)


class _Subclass(np.ndarray):
    """An ndarray subclass: the binding makes no result for it (its caller converts)."""


def test_binding_makes_c_for_plain_operands(dtype):
    """_C.gemm with c = None: numpy.matmul's result for 1-D and 2-D arrays of one native
    dtype (any strides; a NumPy scalar for a dot product; zeros when k = 0), None for what
    the caller must convert or reject in its own words, ValueError for beta or a transpose."""
    rng = np.random.default_rng(9)
    A = rng.uniform(-1, 1, (7, 5)).astype(dtype)
    B = rng.uniform(-1, 1, (5, 3)).astype(dtype)
    v, w = A[:, 1].copy(), B[::-1, 0]  # (7,), (5,) reversed
    tol = 10 * np.finfo(dtype).eps
    for a, b in ((A, B), (A.T.copy().T, B), (v, A), (A, w), (w, w), (A[:, :0], B[:0])):
        c = _C.gemm(a, b, None, 1.0, 0.0, False, False)
        want = a.astype(float) @ b.astype(float)
        assert np.shape(c) == want.shape and np.asarray(c).dtype == dtype
        np.testing.assert_allclose(c, want, rtol=tol, atol=tol)
    assert type(_C.gemm(w, w, None, 1.0, 0.0, False, False)) is type(np.matmul(w, w))
    other = np.float64 if dtype == np.float32 else np.float32
    for a, b in ((A, A), (A, B.astype(other)), (A.astype(int), B), (A[None], B),
                 (A.astype(A.dtype.newbyteorder()), B), (A.view(_Subclass), B), (A.tolist(), B)):
        assert _C.gemm(a, b, None, 1.0, 0.0, False, False) is None
    with pytest.raises(ValueError, match="beta 0"):
        _C.gemm(A, B, None, 1.0, 1.0, False, False)
    with pytest.raises(ValueError, match="no transposes"):
        _C.gemm(A, A, None, 1.0, 0.0, True, False)


def test_binding_makes_map_results_for_plain_arrays(dtype):
    """_C.map and _C.grad with out = None: a new array like x (a NumPy scalar when 0-D)
    equal to the call with an out, None for non-contiguous, integer, byte-swapped or
    subclassed x, or inputs of two shapes; nnk's maps give the same either way."""
    from nnk.elementwise import _GRAD, _MAP

    x = np.random.default_rng(10).uniform(-3, 3, (4, 5)).astype(dtype)
    for op in ("relu", "tanh", "gelu"):
        y = _C.map(_MAP[op], x, None)
        ref = np.empty_like(x)
        _C.map(_MAP[op], x, ref)
        assert y.shape == x.shape and y.dtype == dtype and y is not x
        np.testing.assert_array_equal(y, ref)
        np.testing.assert_array_equal(getattr(nnk, op)(x.T), ref.T)  # the general path
    g = _C.grad(_GRAD["tanh_grad"], x, x, None)
    np.testing.assert_allclose(g, x * (1 - x * x), rtol=4 * np.finfo(dtype).eps)
    s = _C.map(_MAP["relu"], np.array(-2.0, dtype), None)
    assert type(s) is np.dtype(dtype).type and s == 0
    for bad in (x.T, x.astype(int), x.astype(x.dtype.newbyteorder()), x.view(_Subclass), x.tolist()):
        assert _C.map(_MAP["relu"], bad, None) is None
    assert _C.grad(_GRAD["tanh_grad"], x, x[:2], None) is None  # shapes differ
    with pytest.raises(ValueError, match="shape"):
        nnk.tanh_grad(x, x[:2])  # ... and the Python layer says so


def test_binding_writes_into_plain_arrays_alike(dtype):
    """_C.map_into and _C.grad_into: out itself, written as _C.map and _C.grad write it,
    when every operand is a plain array of one dtype and shape and out is writable;
    otherwise None with out untouched (the Python layer converts or explains); out
    overlapping x reads x as it was, as the other entries do."""
    from nnk.elementwise import _GRAD, _MAP

    x = np.random.default_rng(11).uniform(-3, 3, (4, 5)).astype(dtype)
    out, ref = np.empty_like(x), np.empty_like(x)
    assert _C.map_into(_MAP["tanh"], x, out) is out
    _C.map(_MAP["tanh"], x, ref)
    np.testing.assert_array_equal(out, ref)
    assert _C.grad_into(_GRAD["tanh_grad"], x, x, out) is out
    _C.grad(_GRAD["tanh_grad"], x, x, ref)
    np.testing.assert_array_equal(out, ref)
    other = np.float32 if dtype == np.float64 else np.float64
    ro = np.empty_like(x)
    ro.flags.writeable = False
    for bad_x, bad_out in ((x, np.empty((5, 4), dtype)), (x, np.empty_like(x, other)), (x, ro),
                           (x.T, np.empty((5, 4), dtype)), (x.tolist(), np.empty_like(x)),
                           (x, np.empty((4, 10), dtype)[:, ::2]), (x.astype(int), np.empty_like(x))):
        before = bad_out.copy()
        assert _C.map_into(_MAP["relu"], bad_x, bad_out) is None
        np.testing.assert_array_equal(bad_out, before)
    assert _C.grad_into(_GRAD["tanh_grad"], x, x[:2], out) is None
    buf = np.arange(-10, 20, dtype=dtype)  # out overlapping x: x as it was before the call
    assert _C.map_into(_MAP["relu"], buf[:20], buf[5:25]) is not None
    np.testing.assert_array_equal(buf[5:25], np.maximum(np.arange(-10, 10, dtype=dtype), 0))
    o = np.empty((5, 4), dtype)
    assert nnk.relu(x.T, out=o) is o  # the Python layer's way, for x not plain
    np.testing.assert_array_equal(o, np.maximum(x.T, 0))
