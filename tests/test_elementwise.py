"""Elementwise maps and their gradients: ULPs against high-precision references,
special values, tails, in place, and agreement with the scalar path."""
import numpy as np
import pytest
from conftest import ulp_error

import nnk

pytestmark = pytest.mark.usefixtures("isa")  # kernel results: once per ISA

LD = np.longdouble


def grid(dtype, lo, hi, n=20001):
    return np.linspace(lo, hi, n).astype(dtype)


# reference functions in long double (64-bit mantissa on x86-64: 11 bits beyond float64)
def ref_sigmoid(x):
    x = x.astype(LD)
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


def exact_gelu(x):
    """x/2 erfc(-x/sqrt 2) in 50-digit arithmetic from the exact input, rounded to long
    double (11 bits beyond float64)."""
    import mpmath

    mpmath.mp.dps = 50
    f = lambda v: LD(mpmath.nstr(mpmath.mpf(float(v)) / 2 * mpmath.erfc(-mpmath.mpf(float(v)) / mpmath.sqrt(2)), 30))
    return np.array([f(v) for v in np.ravel(x)], dtype=LD).reshape(np.shape(x))


REFERENCES = {
    "exp": (lambda x: np.exp(x.astype(LD)), (-100, 88), (-740, 709), 1.0),
    "log": (lambda x: np.log(x.astype(LD)), (1e-30, 1e6), (1e-300, 1e300), 1.0),
    "tanh": (lambda x: np.tanh(x.astype(LD)), (-10, 10), (-20, 20), 1.0),
    "sigmoid": (ref_sigmoid, (-80, 80), (-700, 700), 3.0),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_ulp_against_long_double(name, dtype):
    ref, r32, r64, bound = REFERENCES[name]
    lo, hi = r32 if dtype == np.float32 else r64
    x = grid(dtype, lo, hi)
    if name == "log":  # log-spaced, across many binades
        x = np.geomspace(lo, hi, 20001).astype(dtype)
    y = getattr(nnk, name)(x)
    err = ulp_error(y, ref(x), dtype)
    worst = int(np.argmax(err))
    assert err[worst] <= bound, f"{name}: {err[worst]:.2f} ULP at x={x[worst]!r}"


def test_gelu_accuracy(dtype):
    """Exact GELU = x/2 erfc(-x/sqrt 2), checked against mpmath on a grid of [-12, 12]:
    within an ULP for float32 and float64 alike (float64 within 0.6, denser and to its
    underflow in tests/test_accuracy.py; float32 over every input in make
    test-exhaustive)."""
    x = grid(dtype, -12, 12, 2001)
    ref = exact_gelu(x)
    err = ulp_error(nnk.gelu(x), ref, dtype)
    assert err.max() <= 1, f"{err.max():.3f} ULP at x={x[np.argmax(err)]!r}"


def test_gelu_grad_accuracy(dtype):
    """GELU'(x) = Phi(x) + x phi(x) against float64 from the exact input (math.erfc); on
    the grids' whole vectors below |x| = 8 AVX-512 takes its float32 tables by quarters of
    |x|, below 7.75 AVX2 its tables by halves (densest below 1, where D falls from 1/2 and
    crosses zero: an error 0.89 of half an ULP and 2^-26 on AVX2)."""
    import math

    x = np.concatenate([grid(dtype, -3.87, 3.87, 40001), grid(dtype, -7.7, 7.7, 40001),
                        grid(dtype, -1.01, 1.01, 200001), grid(dtype, -12, 12, 2001)])
    xd = x.astype(np.float64)
    ref = np.array([math.erfc(-v / math.sqrt(2)) / 2 for v in xd]) + xd * np.exp(-xd * xd / 2) / math.sqrt(2 * math.pi)
    g = nnk.gelu_grad(x, np.ones_like(x))
    # the rounding of the result, and the terms' error (2^-28 of GELU'(x)'s scale of 1,
    # or the float64 formula's) near GELU''s zero at x = -0.75
    err = np.abs(g.astype(np.float64) - ref)
    bound = 1.0 * np.spacing(np.abs(ref).astype(dtype)) + (2.0**-26 if dtype == np.float32 else 1e-15)
    worst = int(np.argmax(err / bound))
    assert err[worst] <= bound[worst], f"{err[worst]:.3g} at x={x[worst]!r}"


def every_float32(lo, hi):
    """Every float32 in [lo, hi)."""
    a, b = np.array([lo, hi], dtype=np.float32).view(np.int32)
    return np.arange(a, b, dtype=np.int32).view(np.float32)


def test_gelu_grad_float32_every_other_input_below_one():
    """float32 GELU' on every other float32 in [1/4, 1) and (-1, -1/4], where the tables'
    tails are largest (D falls from 1/2 and crosses zero there)
    and for x >= 0 the result 1 - D must round once: within an ULP and 2^-26 of float64's
    Phi(x) + x phi(x) (torch.special.erfc: math.erfc is too slow for 8M inputs)."""
    torch = pytest.importorskip("torch")
    for lo, hi in ((0.25, 1.0), (-1.0, -0.25)):
        x = every_float32(min(lo, hi, key=abs), max(lo, hi, key=abs))[::2]
        xd = torch.from_numpy(x.astype(np.float64))
        ref = (torch.special.erfc(-xd / np.sqrt(2)) / 2
               + xd * torch.exp(-xd * xd / 2) / np.sqrt(2 * np.pi)).numpy()
        err = np.abs(nnk.gelu_grad(x, np.ones_like(x)).astype(np.float64) - ref)
        bound = np.spacing(np.abs(ref).astype(np.float32)) + 2.0**-26
        worst = int(np.argmax(err / bound))
        assert err[worst] <= bound[worst], f"{err[worst]:.3g} at x={x[worst]!r}"


def test_gelu_float32_within_one_ulp():
    """float32 GELU within 1 ULP of float64 x/2 erfc(-x/sqrt2) (its argument's rounding
    costs x^2 2^-53: nothing at float32's scale) on a dense grid of [-5, 5] (AVX-512's
    whole vectors there take its float32 tables by intervals of |x|) and out to 9; and
    within 0.9 ULP (every path's bound: make test-exhaustive) for every float32 within
    1/64 of 1/4, 1/2, 1, 2 and 4, where an interval of the tables holds two binades of x
    (x - h must be exact on both sides)."""
    import math

    near = np.concatenate([every_float32(p - 1 / 64, p + 1 / 64) for p in (0.25, 0.5, 1, 2, 4)])
    for x, bound in ((np.concatenate([grid(np.float32, -5, 5, 100001), grid(np.float32, -9, 9, 20001)]), 1),
                     (np.concatenate([near, -near]), 0.9)):
        ref = np.array([v / 2 * math.erfc(-v / math.sqrt(2)) for v in x.astype(np.float64)])
        err = ulp_error(nnk.gelu(x), ref, np.float32)
        assert err.max() <= bound, f"{err.max()} ULP at x={x[np.argmax(err)]!r}"


def test_gelu_grad_float32_beyond_eight_within_one_ulp():
    """float32 GELU' on every fourth float32 with 8 <= |x| < 16: within an ULP of
    float64's Phi(x) + x phi(x) with no absolute slack, down to the subnormals near
    x = -13.6 (AVX-512 takes its tables by half-unit intervals and vscalefps there, the
    other layers double)."""
    torch = pytest.importorskip("torch")
    pos = every_float32(8.0, 16.0)[::4]
    x = np.concatenate([pos, -pos])
    xd = torch.from_numpy(x.astype(np.float64))
    ref = (torch.special.erfc(-xd / np.sqrt(2)) / 2 + xd * torch.exp(-xd * xd / 2) / np.sqrt(2 * np.pi)).numpy()
    err = ulp_error(nnk.gelu_grad(x, np.ones_like(x)), ref, np.float32)
    assert err.max() <= 1, f"{err.max()} ULP at x={x[np.argmax(err)]!r}"


def test_gelu_special_values_beside_any_lane():
    """+-inf, NaN, the limits near |x| = 15.5 and 16 and tiny inputs in one vector with
    ordinary ones: GELU as the scalar path gives it (within 1 ULP; NaN, infinities and
    zeros exactly), its gradient within the bound of the other tests (an ULP and 2^-26)
    and its NaN, ones and zeros exactly; no floating-point exception reaches NumPy."""
    inf, nan = np.inf, np.nan
    x = np.array([inf, -inf, nan, 100, -100, 15.5, -15.5, 16, -16, 14, -14, 13.5, -13.5, 5, -5,
                  0, -0.0, 1e-40, -1e-40, 3, -3, 0.5, -0.5, 8, -8, 7.99, -7.99, 4.99, -4.99,
                  20, -20, 1], np.float32)
    dy = np.ones_like(x)
    with nnk.use_isa("scalar"):
        ref, ref_grad = nnk.gelu(x), nnk.gelu_grad(x, dy)
    np.testing.assert_array_equal(ref[:3], [inf, 0, nan])
    np.testing.assert_array_equal(ref_grad[:3], [1, 0, nan])
    with np.errstate(all="raise"):
        y, g = nnk.gelu(x), nnk.gelu_grad(x, dy)
    assert ulp_error(y, ref, np.float32).max() <= 1, f"{y} against {ref}"
    finite = np.isfinite(ref_grad)
    gap = np.abs(g[finite].astype(np.float64) - ref_grad[finite]) - np.spacing(np.abs(ref_grad[finite])) - 2.0**-26
    assert gap.max() <= 0, f"{g} against {ref_grad}"
    for got, want in ((y, ref), (g, ref_grad)):
        special = ~np.isfinite(want) | (want == 0) | (want == 1)
        np.testing.assert_array_equal(got[special], want[special])


def test_gelu_mixed_vectors_match_scalar():
    """Shuffled inputs, so that whole vectors hold small and large |x| together (the
    exhaustive test's consecutive inputs never do): every ISA's float32 GELU within 1 ULP
    of the scalar path's (within 0.88 and 0.51 ULP), its gradient within 1 ULP or 2^-26."""
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.uniform(-7.7, 7.7, 1 << 17), rng.standard_normal(1 << 17),
                        rng.uniform(-12, 12, 1 << 14)]).astype(np.float32)
    rng.shuffle(x)
    dy = np.ones_like(x)
    with nnk.use_isa("scalar"):
        ref, ref_grad = nnk.gelu(x), nnk.gelu_grad(x, dy)
    y, g = nnk.gelu(x), nnk.gelu_grad(x, dy)
    err = ulp_error(y, ref, np.float32)
    assert err.max() <= 1, f"{err.max()} ULP at x={x[np.argmax(err)]!r}"
    gap = np.abs(g.astype(np.float64) - ref_grad) - np.spacing(np.abs(ref_grad)) - 2.0**-26
    assert gap.max() <= 0, f"gradient off by {gap.max():.3g} beyond the bound at x={x[np.argmax(gap)]!r}"


def test_gelu_lanes_do_not_depend_on_their_neighbours(isa):
    """float32 GELU and its gradient, each element bit for bit what it gives alone, beside
    whatever lanes: on AVX-512 and AVX2 a vector's lanes beyond the near tables go through
    the far path in vectors packed from many (and on AVX2 the far path is by Mills's ratio
    below 7.5 and in double beyond).  Shuffled heavy-tailed inputs against the same sorted
    (neighbours alike) and one at a time; in place too (the far lanes' inputs are read
    after the near results are written)."""
    inf, nan = np.inf, np.nan
    rng = np.random.default_rng(21)
    edges = [inf, -inf, nan, 5, -5, 7.5, -7.5, 7.75, -7.75, 8, -8, 15.5, -15.5, 0, -0.0, 4.99, -4.99]
    x = np.concatenate([3 * rng.standard_normal(1 << 15), rng.uniform(-16, 16, 1 << 13),
                        edges * 40]).astype(np.float32)
    rng.shuffle(x)
    dy = rng.standard_normal(x.size).astype(np.float32)
    order = np.argsort(x, kind="stable")
    with nnk.use_isa(isa):
        y, g = nnk.gelu(x), nnk.gelu_grad(x, dy)
        np.testing.assert_array_equal(y[order], nnk.gelu(x[order]))
        np.testing.assert_array_equal(g[order], nnk.gelu_grad(x[order], dy[order]))
        for i in range(0, x.size, 97):
            np.testing.assert_array_equal(nnk.gelu(x[i:i + 1]), y[i:i + 1], err_msg=f"x={x[i]!r}")
            np.testing.assert_array_equal(nnk.gelu_grad(x[i:i + 1], dy[i:i + 1]), g[i:i + 1], err_msg=f"x={x[i]!r}")
        z = x.copy()
        nnk.gelu(z, out=z)
        np.testing.assert_array_equal(z, y)
        for inplace in ("u", "dy"):
            u, d = x.copy(), dy.copy()
            nnk.gelu_grad(u, d, out=u if inplace == "u" else d)
            np.testing.assert_array_equal(u if inplace == "u" else d, g)


def test_sigmoid_float32_within_one_ulp():
    """float32 sigmoid within 1 ULP of long double on a dense grid of [-8, 8] (where
    AVX-512's whole vectors take its polynomials per half of x) and beyond, and on
    shuffled inputs (vectors with lanes on both sides of 8: the other path for the whole
    vector), each within 1 ULP of the scalar path's."""
    x = np.concatenate([grid(np.float32, -8, 8, 160001), grid(np.float32, -30, 30, 20001)])
    err = ulp_error(nnk.sigmoid(x), ref_sigmoid(x), np.float32)
    assert err.max() <= 1, f"{err.max()} ULP at x={x[np.argmax(err)]!r}"
    rng = np.random.default_rng(12)
    x = np.concatenate([rng.uniform(-8, 8, 1 << 17), rng.standard_normal(1 << 17),
                        rng.uniform(-20, 20, 1 << 12)]).astype(np.float32)
    rng.shuffle(x)
    with nnk.use_isa("scalar"):
        ref = nnk.sigmoid(x)
    err = ulp_error(nnk.sigmoid(x), ref, np.float32)
    assert err.max() <= 1, f"{err.max()} ULP at x={x[np.argmax(err)]!r}"


def test_gelu_tanh_matches_formula(dtype):
    x = grid(dtype, -10, 10, 4001).astype(np.float64)
    ref = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    y = nnk.gelu(x.astype(dtype), approximate="tanh")
    assert np.max(np.abs(y - ref)) <= 8 * np.finfo(dtype).eps * np.max(np.abs(x))


def test_special_values(dtype):
    inf, nan = np.inf, np.nan
    x = np.array([0.0, -0.0, inf, -inf, nan], dtype)
    with np.errstate(all="raise"):  # nnk raises no floating-point warnings through NumPy
        y = nnk.exp(x)
        np.testing.assert_array_equal(y, [1, 1, inf, 0, nan])
        np.testing.assert_array_equal(nnk.exp(np.array([1000.0, -1000.0], dtype)), [inf, 0])
        t = nnk.tanh(x)
        np.testing.assert_array_equal(t, [0, -0.0, 1, -1, nan])
        assert np.signbit(t[1])  # tanh(-0) = -0
        np.testing.assert_array_equal(nnk.log(np.array([0, 1, inf, -1, nan], dtype)),
                                      [-inf, 0, inf, nan, nan])
        s = nnk.sigmoid(np.array([-1000, 0, 1000, -inf, inf, nan], dtype))
        np.testing.assert_array_equal(s, [0, 0.5, 1, 0, 1, nan])
        np.testing.assert_array_equal(nnk.relu(x), [0, -0.0, inf, 0, nan])
        g = nnk.gelu(np.array([-inf, inf, 0, nan], dtype))
        np.testing.assert_array_equal(g, [0, inf, 0, nan])
        g = nnk.gelu(np.array([-inf, inf, 0, nan], dtype), approximate="tanh")
        np.testing.assert_array_equal(g, [0, inf, 0, nan])


def test_sigmoid_range_and_midpoint(dtype):
    x = grid(dtype, -200, 200)
    s = nnk.sigmoid(x)
    assert np.all((s >= 0) & (s <= 1))
    assert nnk.sigmoid(np.zeros(3, dtype))[0] == 0.5
    assert np.all(np.diff(s) >= 0)  # monotone


def test_subnormal_inputs(dtype):
    tiny = np.finfo(dtype).smallest_subnormal
    x = np.array([tiny, -tiny, 4 * tiny], dtype)
    np.testing.assert_array_equal(nnk.exp(x), [1, 1, 1])
    np.testing.assert_array_equal(nnk.tanh(x), x)  # tanh(x) = x for tiny x
    np.testing.assert_array_equal(nnk.relu(x), [tiny, 0, 4 * tiny])


@pytest.mark.parametrize("name", ["relu", "exp", "log", "tanh", "sigmoid", "gelu"])
def test_every_tail_length_agrees_with_scalar(name, dtype):
    rng = np.random.default_rng(3)
    f = getattr(nnk, name)
    for n in range(66):
        x = rng.uniform(0.01 if name == "log" else -6, 6, n).astype(dtype)
        y = f(x)
        with nnk.use_isa("scalar"):
            r = f(x)
        assert y.shape == x.shape and y.dtype == dtype
        assert np.all(ulp_error(y, r, dtype) <= 4), (name, n)


def test_in_place_out(dtype):
    x = np.linspace(-3, 3, 37).astype(dtype)
    expect = nnk.tanh(x)
    res = nnk.tanh(x, out=x)
    assert res is x
    np.testing.assert_array_equal(x, expect)


def test_non_contiguous_input_and_out(dtype):
    base = np.linspace(-3, 3, 200).astype(dtype).reshape(10, 20)
    view = base[::2, ::-3]
    np.testing.assert_array_equal(nnk.relu(view), np.maximum(view, 0))
    out = np.zeros((10, 40), dtype)[:, ::2]
    nnk.sigmoid(base, out=out)
    np.testing.assert_array_equal(out, nnk.sigmoid(base))


def test_leaky_relu_and_identity(dtype):
    x = np.array([-2.0, -0.5, 0.0, 3.0], dtype)
    np.testing.assert_array_equal(nnk.leaky_relu(x), np.array([-0.02, -0.005, 0, 3], dtype))
    np.testing.assert_array_equal(nnk.leaky_relu(x, 0.5), np.array([-1, -0.25, 0, 3], dtype))
    y = nnk.identity(x)
    np.testing.assert_array_equal(y, x)
    assert y is not x


def test_gradients_match_central_differences():
    x = np.linspace(-4, 4, 801)
    x = x[np.abs(x) > 1e-3]  # keep ReLU's kink out of the difference quotient
    h = 1e-6
    dy = np.random.default_rng(5).uniform(-2, 2, x.size)
    pairs = [
        (nnk.relu, lambda g: nnk.relu_grad(x, g)),
        (lambda v: nnk.leaky_relu(v, 0.1), lambda g: nnk.leaky_relu_grad(x, g, 0.1)),
        (nnk.tanh, lambda g: nnk.tanh_grad(nnk.tanh(x), g)),
        (nnk.sigmoid, lambda g: nnk.sigmoid_grad(nnk.sigmoid(x), g)),
        (nnk.gelu, lambda g: nnk.gelu_grad(x, g)),
        (lambda v: nnk.gelu(v, "tanh"), lambda g: nnk.gelu_grad(x, g, "tanh")),
    ]
    for f, grad in pairs:
        numeric = (f(x + h) - f(x - h)) / (2 * h) * dy
        np.testing.assert_allclose(grad(dy), numeric, atol=1e-7)


def test_gradient_formulas_by_hand():
    # tanh' from the output: 1 - y^2; sigmoid': y(1 - y); at y = 0.5: 0.75 and 0.25
    np.testing.assert_array_equal(nnk.tanh_grad([0.5], [2.0]), [1.5])
    np.testing.assert_array_equal(nnk.sigmoid_grad([0.5], [2.0]), [0.5])
    np.testing.assert_array_equal(nnk.relu_grad([-1.0, 0.0, 2.0], [3.0, 3.0, 3.0]), [0, 0, 3])
    # GELU'(0) = Phi(0) = 1/2
    np.testing.assert_array_equal(nnk.gelu_grad([0.0], [1.0]), [0.5])


def test_errors():
    with pytest.raises(TypeError, match="complex"):
        nnk.exp(np.ones(3, complex))
    with pytest.raises(TypeError):
        nnk.relu(np.array(["a", "b"]))
    with pytest.raises(TypeError):
        nnk.relu(np.array([object(), 1]))
    with pytest.raises(ValueError, match="shape"):
        nnk.relu(np.ones(3), out=np.empty(4))
    with pytest.raises(ValueError, match="dtype"):
        nnk.relu(np.ones(3), out=np.empty(3, np.float32))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        nnk.relu_grad(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="approximate"):
        nnk.gelu(np.ones(3), approximate="erf")
    assert nnk.exp(np.ones((0, 3))).shape == (0, 3)
    np.testing.assert_array_equal(nnk.relu([True, False]), [1.0, 0.0])
    assert nnk.relu([1, 2]).dtype == np.float64


@pytest.mark.parametrize("n", [(1 << 17) - 1, 1 << 17, (1 << 18) + 37, 1_000_003])
def test_threaded_maps_equal_one_thread_bitwise(n, dtype, set_threads):
    """Large maps split over the thread pool: every element is computed as on one thread."""
    rng = np.random.default_rng(n)
    x = rng.uniform(-6, 6, n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    ops = [nnk.tanh, nnk.exp, nnk.sigmoid, nnk.relu, lambda v: nnk.gelu(v, "tanh"),
           lambda v: nnk.tanh_grad(v, g), lambda v: nnk.gelu_grad(v, g)]
    set_threads(1)
    one = [f(x) for f in ops]
    for threads in (2, 3):
        set_threads(threads)
        for f, expect in zip(ops, one):
            np.testing.assert_array_equal(f(x), expect)


def test_maps_beyond_the_last_cache_equal_their_slices_bitwise(dtype, set_threads):
    """An output as large as the last-level cache is written around the caches (the
    non-temporal stores of AVX-512 and of AVX2's float32, shifted onto aligned addresses):
    bitwise what the same maps give on slices small enough to be written through them,
    into an output off any vector's alignment (and a quarter page or more ahead of the
    inputs, as threads/maps.c asks before it streams), in place too, on one thread and
    two."""
    last = max(size for size, *_ in nnk.cpu_info()["caches"].values())
    itemsize = np.dtype(dtype).itemsize
    n = max(last, 1 << 20) // itemsize + 4099
    rng = np.random.default_rng(5)
    x = rng.uniform(-9, 9, n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    ops = {"exp": lambda v, dy, out=None: nnk.exp(v, out=out),
           "gelu": lambda v, dy, out=None: nnk.gelu(v, out=out),
           "gelu_grad": lambda v, dy, out=None: nnk.gelu_grad(v, dy, out=out)}
    step = 1 << 16  # slices of whole vectors on every ISA, each far below the caches
    buffer = np.empty(n + 2048, dtype)
    k = next(k for k in range(2048)  # off alignment, and far enough ahead of x and g
             if (buffer.ctypes.data + k * itemsize) % 64
             and all((buffer.ctypes.data + k * itemsize - v.ctypes.data) % 4096 >= 1024 for v in (x, g)))
    for name, op in ops.items():
        set_threads(1)
        want = np.concatenate([op(x[i:i + step], g[i:i + step]) for i in range(0, n, step)])
        for threads in (1, 2):
            set_threads(threads)
            out = buffer[k:k + n]
            op(x, g, out=out)
            np.testing.assert_array_equal(out, want, err_msg=f"{name}, {threads} threads")
            inplace = x.copy()
            op(inplace, g, out=inplace)
            np.testing.assert_array_equal(inplace, want, err_msg=f"{name} in place, {threads} threads")


def test_threaded_rows_losses_and_steps_equal_one_thread_bitwise(dtype, set_threads):
    """Softmax rows, pointwise losses (their sums over fixed blocks), leaky ReLU and the
    optimisers' updates split over the thread pool: the same bits as one thread."""
    from nnk import _C

    rng = np.random.default_rng(5)
    n = (1 << 18) + 77  # several loss blocks, an uneven split, a vector tail
    x = rng.uniform(-6, 6, n).astype(dtype)
    t = rng.uniform(0, 1, n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    rows = x[: (n // 1000) * 1000].reshape(-1, 1000)

    def run():
        out = [nnk.softmax(rows), nnk.log_softmax(rows), nnk.logsumexp(rows),
               nnk.softmax_grad(nnk.softmax(rows), rows), nnk.log_softmax_grad(rows, rows),
               nnk.leaky_relu(x, 0.1), nnk.leaky_relu_grad(x, g, 0.1),
               nnk.mse_loss(x, t), nnk.bce_with_logits(x, t), nnk.losses.mse_loss_grad(x, t)]
        p, m, v = x.copy(), np.zeros_like(x), np.zeros_like(x)
        for _ in range(2):
            _C.adam_step(p, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.01, True)
        q, mom = x.copy(), np.zeros_like(x)
        _C.sgd_step(q, g, mom, 0.1, 0.9, 1e-4, True)
        _C.axpy(0.5, g, q)
        q2, mom2 = x.copy(), np.full_like(x, 0.1)  # dampened and maximising
        _C.sgd_step(q2, g, mom2, 0.1, 0.9, 1e-4, False, 0.3, True)
        r, sq, ga, buf = x.copy(), np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
        _C.rmsprop_step(r, g, sq, ga, buf, 0.01, 0.99, 1e-8, 0.01, 0.9, True)
        a, acc = x.copy(), np.full_like(x, 0.1)
        _C.adagrad_step(a, g, acc, 0.05, 1e-10, 0.01, True)
        return out + [p, m, v, q, mom, q2, mom2, r, sq, ga, buf, a, acc]

    set_threads(1)
    one = run()
    for threads in (2, 3):
        set_threads(threads)
        for got, expect in zip(run(), one):
            np.testing.assert_array_equal(got, expect)


@pytest.mark.parametrize("amsgrad, maximize", [(False, False), (True, True)])
def test_adam_steps_is_adam_step_on_each_parameter(dtype, set_threads, amsgrad, maximize):
    """One call over many parameters (threads splitting their elements laid end to end)
    gives each parameter, moment, square (and AMSGrad's maximum) the bits of adam_step on
    it alone, on one thread and on several: sizes with every kind of tail, one beyond the
    threading threshold, one empty.  Parameters that overlap one another are stepped in
    turn, as separate calls step them."""
    from nnk import _C

    rng = np.random.default_rng(8)
    sizes = [1, 63, 65, 1000, (1 << 17) + 3, 0, 7]
    start = [(rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype),
              rng.uniform(-1, 1, n).astype(dtype), rng.uniform(0, 1, n).astype(dtype),
              rng.uniform(0, 1, n).astype(dtype)) for n in sizes]
    args = (1e-3, 0.9, 0.999, 1e-8, 0.19, 0.002, 0.01, True)
    want = []
    for p, g, m, v, mx in start:
        p, m, v, mx = p.copy(), m.copy(), v.copy(), mx.copy()
        _C.adam_step(p, g, m, v, *args, mx if amsgrad else None, maximize)
        want += [p, m, v, mx]
    for threads in (1, 2, 3):
        set_threads(threads)
        ps, ms, vs, xs = ([x[i].copy() for x in start] for i in (0, 2, 3, 4))
        _C.adam_steps(ps, [x[1] for x in start], ms, vs, *args, xs if amsgrad else None, maximize)
        for got, expect in zip([a for four in zip(ps, ms, vs, xs) for a in four], want):
            np.testing.assert_array_equal(got, expect)
    # two parameters sharing memory (the second's first half is the first's second half),
    # large enough that two threads would step both halves at once
    h = 1 << 17
    buf = rng.standard_normal(3 * h).astype(dtype)
    g = rng.standard_normal(2 * h).astype(dtype)
    states = [rng.uniform(0, 1, 2 * h).astype(dtype) for _ in range(6)]
    seq = buf.copy()
    mx = (states[4].copy(), states[5].copy()) if amsgrad else (None, None)
    _C.adam_step(seq[:2 * h], g, states[0].copy(), states[1].copy(), *args, mx[0], maximize)
    _C.adam_step(seq[h:], g, states[2].copy(), states[3].copy(), *args, mx[1], maximize)
    set_threads(2)
    _C.adam_steps([buf[:2 * h], buf[h:]], [g, g], [states[0], states[2]], [states[1], states[3]], *args,
                  [states[4], states[5]] if amsgrad else None, maximize)
    np.testing.assert_array_equal(buf, seq)
    if amsgrad:
        np.testing.assert_array_equal(states[4], mx[0])


def test_adam_steps_rejects_mismatched_lists():
    from nnk import _C

    x = [np.zeros(4, np.float32)]
    with pytest.raises(ValueError, match="exp_avgs"):
        _C.adam_steps(x, x, [], x, 0.1, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.0, True)
    with pytest.raises(TypeError, match="one dtype"):
        _C.adam_steps([np.zeros(4, np.float32), np.zeros(4)], [np.zeros(4, np.float32), np.zeros(4)],
                      [np.zeros(4, np.float32), np.zeros(4)], [np.zeros(4, np.float32), np.zeros(4)],
                      0.1, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.0, True)
    with pytest.raises(TypeError):
        _C.adam_steps(3, x, x, x, 0.1, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.0, True)
    with pytest.raises(ValueError, match="max_exp_avg_sqs"):
        _C.adam_steps(x, x, x, x, 0.1, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.0, True, [])
    with pytest.raises(ValueError, match="elements"):  # AMSGrad's maximum of another size
        _C.adam_steps(x, x, x, x, 0.1, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.0, True, [np.zeros(3, np.float32)])
    with pytest.raises(TypeError, match="moments"):
        _C.adam_step(np.zeros(4), np.zeros(4), None, np.zeros(4), 0.1, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.0, True)
    frozen = np.zeros(4, np.float32)
    frozen.flags.writeable = False
    with pytest.raises((ValueError, TypeError)):
        _C.adam_steps([frozen], x, [np.zeros(4, np.float32)], [np.zeros(4, np.float32)],
                      0.1, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.0, True)

def test_loss_sum_over_blocks_is_the_sum():
    """The blocked sum of a loss equals the float64 sum of its parts (a block dropped or
    counted twice would show)."""
    rng = np.random.default_rng(6)
    n = 3 * (1 << 15) + 5
    y = rng.standard_normal(n)
    t = rng.standard_normal(n)
    expect = np.sum((y - t) ** 2) / n
    assert abs(nnk.mse_loss(y, t) - expect) <= 1e-12 * expect
