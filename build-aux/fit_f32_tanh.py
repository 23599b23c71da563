"""The tables of float32 tanh by quarter binades (csrc/simd/f32_math.h, where the layer
looks up 32-entry tables in registers: AVX-512).

|x| is cut into 32 intervals.  Interval i >= 1 is the quarter binade whose float32 bits
shifted right by 21 are 0x1EA + i: [7/128, 8/128) for i = 1 up to [8, 10) for i = 30;
interval 31 is |x| >= 10, where tanh rounds to 1; interval 0 is [0, 7/128).  The tables
are printed rotated so that the kernel's index needs no subtraction (ROTATE).  On an
interval with midpoint b (b = 0 on interval 0), with y = |x| - b (exact: b and |x| share
a binade),

    tanh(|x|) = (t_hi + s y) + (t_lo + y P(y)),

t_hi + t_lo = tanh(b) to 2^-48, s = 1 on interval 0 and 0 elsewhere, P of degree 5 with
float32 coefficients, fitted by least squares on Chebyshev nodes weighted so that the
error of y P(y) is relative to tanh(|x|), against mpmath at 40 digits.  The largest such
error over all intervals is printed; the float32 result's own rounding is half an ULP
(2^-24 relative) beside it.

Run: .venv/bin/python build-aux/fit_f32_tanh.py   (prints the tables the source holds)
"""
import mpmath as mp
import numpy as np

from f32_interval_tables import hexf

mp.mp.dps = 40
DEG = 5


def interval(i):
    """[lo, hi) and the midpoint b of interval i (1..30)."""
    top = 0x1EA + i
    e, q = (top >> 2) - 127, top & 3
    lo, hi = mp.ldexp(1 + mp.mpf(q) / 4, e), mp.ldexp(1 + mp.mpf(q + 1) / 4, e)
    return lo, hi, (lo + hi) / 2


def f32(v):
    return np.float32(float(v))


def fit(lo, hi, b, s, nodes=200):
    """P's float32 coefficients (lowest first) and the largest relative error of the
    interval's formula against tanh over a dense grid."""
    ylo, yhi = lo - b, hi - b
    y = [(mp.cos(mp.pi * (k + mp.mpf(1) / 2) / nodes) + 1) / 2 * (yhi - ylo) + ylo for k in range(nodes)]
    tb = mp.tanh(b)
    g = [(mp.tanh(b + v) - tb - s * v) / v for v in y]    # y P(y) = tanh(b + y) - tanh(b) - s y
    w = [abs(v) / mp.tanh(b + v) for v in y]               # its error relative to tanh
    A = np.array([[float(w[k] * y[k] ** j) for j in range(DEG + 1)] for k in range(nodes)])
    rhs = np.array([float(w[k] * g[k]) for k in range(nodes)])
    c = np.linalg.lstsq(A, rhs, rcond=None)[0].astype(np.float32)
    t_hi = f32(tb)
    t_lo = f32(tb - mp.mpf(float(t_hi)))
    worst = mp.mpf(0)
    for k in range(2001):
        v = ylo + (yhi - ylo) * k / 2000
        if b + v == 0:
            continue
        p = sum(mp.mpf(float(c[j])) * v ** j for j in range(DEG + 1))
        got = mp.mpf(float(t_hi)) + s * v + mp.mpf(float(t_lo)) + v * p
        worst = max(worst, abs(got / mp.tanh(b + v) - 1))
    return t_hi, t_lo, c, worst


rows = []  # (t_hi, t_lo, P lowest first); s is the kernel's test a < 7/128
_, _, c, worst = fit(mp.mpf(0), mp.mpf(7) / 128, mp.mpf(0), 1)  # t = tanh 0 = 0
rows.append((np.float32(0), np.float32(0), c))
errors = [worst]
for i in range(1, 31):
    lo, hi, b = interval(i)
    t_hi, t_lo, c, worst = fit(lo, hi, b, 0)
    rows.append((t_hi, t_lo, c))
    errors.append(worst)
rows.append((np.float32(1), np.float32(0), np.zeros(DEG + 1, np.float32)))  # |x| >= 10
errors.append(mp.mpf(0))
worst = max(errors)
print(f"/* worst relative error of the formula before its last rounding: "
      f"{float(worst):.2e} (2^{float(mp.log(worst, 2)):.1f}), interval {errors.index(worst)} */")


# The kernel's index is the low five bits of |x|'s bits >> 21 (clamped to [6/128, 10]:
# 0x1EA for interval 0 up to 0x209 for 31), with no subtraction: interval i is entry
# (0x1EA + i) mod 32.
ROTATE = 0x1EA % 32


def table(name, values):
    values = values[-ROTATE:] + values[:-ROTATE]  # entry (i + ROTATE) mod 32 is interval i
    body = ", ".join(hexf(v) for v in values)
    print(f"static const float {name}[32] __attribute__((aligned(64))) = {{{body}}};")


# each interval's b (interval 31: 10 itself, where |x| is clamped, so that y = 0)
table("TANH_B", [0.0] + [f32(interval(i)[2]) for i in range(1, 31)] + [10.0])
table("TANH_T_HI", [r[0] for r in rows])
table("TANH_T_LO", [r[1] for r in rows])
for j in range(DEG + 1):
    table(f"TANH_P{j}", [r[2][j] for r in rows])
