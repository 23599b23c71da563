"""Float32 tables of a function by intervals, for AVX-512's 32-entry lookups (vpermt2ps)
and AVX2's 8-entry ones (vpermps) and 16-entry ones (two and a blend), shared by fit_f32_sigmoid.py, fit_f32_gelu.py and
fit_f32_gelu_mills.py.

On an interval with point b and y = x - b (exact in the kernel),

    f(x) = h + (y s1 + (l + y^2 P(y))),

h + l = f(b) to 2^-48, s1 = f'(b) exactly in float32 (b is chosen near the interval's
midpoint where f'(b) rounds to float32 with a tiny error), P of degree deg (DEG unless
given) with float32
coefficients.  In float32 only two roundings then matter: the fused y s1 + (...) (half
an ULP of a term at most `share` of the result) and the last operation.  P is fitted by
least squares on Chebyshev nodes, weighted so that the error of y^2 P(y) is relative to
the result, against mpmath at 40 digits, its coefficients rounded to float32 one at a
time (lowest first, the others refitted).
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
DEG = 4          # P's degree
EXTEND = 2**-18  # each interval is fitted a little wider: the kernel's index rounds near its ends


def f32(v):
    return np.float32(float(v))


def mpf(v):
    return mp.mpf(float(v))


def choose_b(df, lo, hi, at=0.5):
    """The float32 within 1/64 of the width of [lo, hi) from its point at (the midpoint
    unless given), a multiple of 2^-20 of the width, whose f' is closest to a float32."""
    mid, width = lo + (hi - lo) * at, hi - lo
    best, best_err = None, None
    for j in range(-16384, 16385, 16):
        b = mpf(f32(mid + width * mp.ldexp(j, -20)))
        d = df(b)
        err = abs(mpf(f32(d)) - d) / abs(d)
        if best is None or err < best_err:
            best, best_err = b, err
    return best


def fit(f, df, lo, hi, b=None, result=None, h_quantum=None, nodes=160, deg=DEG, at=0.5):
    """One interval's (b, h, l, s1, P lowest first, worst relative error of the formula
    before float32 rounds it, largest |f(x) - h| / |result(x)|).  b = None chooses b;
    result(x) is what the kernel returns (f(x) unless given): errors are relative to it;
    h_quantum: h a multiple of it (the rest in l), so that x - h is exact for any float
    x >= 2h whose last place is no finer; at: where b lies in the interval (about)."""
    result = result or f
    if b is None:
        b = choose_b(df, lo, hi, at)
    lo, hi = lo - EXTEND, hi + EXTEND
    fb, s1 = f(b), f32(df(b))
    h = f32(fb) if h_quantum is None else f32(mp.nint(fb / h_quantum) * h_quantum)
    l = f32(fb - mpf(h))
    ylo, yhi = lo - b, hi - b
    y = [(mp.cos(mp.pi * (i + mp.mpf(1) / 2) / nodes) + 1) / 2 * (yhi - ylo) + ylo for i in range(nodes)]
    y = [v for v in y if v != 0]
    g = [(f(b + v) - mpf(h) - mpf(l) - v * mpf(s1)) / v**2 for v in y]
    w = [v**2 / abs(result(b + v)) for v in y]
    coef = []
    for j in range(deg + 1):  # round the lowest free coefficient, refit the others
        A = np.array([[float(w[i] * y[i] ** m) for m in range(j, deg + 1)] for i in range(len(y))])
        rhs = np.array([float(w[i] * (g[i] - sum(mpf(coef[m]) * y[i] ** m for m in range(j))))
                        for i in range(len(y))])
        coef.append(f32(np.linalg.lstsq(A, rhs, rcond=None)[0][0]))
    worst, share = mp.mpf(0), mp.mpf(0)
    for i in range(2001):
        v = ylo + (yhi - ylo) * i / 2000
        if b + v == 0:
            continue
        exact = f(b + v)
        p = sum(mpf(coef[m]) * v**m for m in range(deg + 1))
        got = mpf(h) + (v * mpf(s1) + (mpf(l) + v**2 * p))
        worst = max(worst, abs((got - exact) / result(b + v)))
        share = max(share, abs(exact - mpf(h)) / abs(result(b + v)))
    return f32(b), h, l, s1, coef, worst, share


def hexf(v):
    """A float32 as a C hex literal, its mantissa's trailing zeros dropped."""
    if v == 0:
        return "0.0f"
    mant, exp = float(v).hex().split("p")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}p{exp}f"


def print_tables(prefix, rows):
    """The C tables prefix_B, _HI, _LO, _S1, _P0.. of the intervals' fits (32, 16 or 8)."""
    n = len(rows)
    assert n in (8, 16, 32)
    for name, column in (("B", 0), ("HI", 1), ("LO", 2), ("S1", 3)):
        body = ", ".join(hexf(r[column]) for r in rows)
        print(f"static const float {prefix}_{name}[{n}] __attribute__((aligned(64))) = {{{body}}};")
    for j in range(len(rows[0][4])):
        body = ", ".join(hexf(r[4][j]) for r in rows)
        print(f"static const float {prefix}_P{j}[{n}] __attribute__((aligned(64))) = {{{body}}};")


def summary(rows):
    """(worst error, its interval, largest share) over the rows."""
    errors = [r[5] for r in rows]
    worst = max(errors)
    return worst, errors.index(worst), max(r[6] for r in rows)
