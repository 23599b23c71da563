"""The polynomials of float32's exp and tanh in csrc/simd/f32_math.h.

Both are near-minimax in relative error (least squares weighted by 1/|f| on Chebyshev
nodes), against mpmath at 40 digits, and printed rounded to float32 (hex), as the
kernel uses them:

  exp:  e^r = 1 + r + r^2 P(r) on |r| <= 0.36 (the reduced argument, ln2/2 and a margin);
        P(r) ~ (e^r - 1 - r)/r^2, degree 5.  P's relative error (2^-26, most of it the
        float32 rounding of the coefficients) times r^2 <= 0.13 is the error it adds to
        e^r: 2^-29, against float32's 2^-24.
  exp by eighths (AVX2's f32_exp_table_q): e^r - 1 = r + r^2 P(r) on |r| <= ln2/16 and a
        margin (0.0442), P of degree 2: P's relative error (2^-21.4) times r^2 <= 2^-9,
        2^-30.4 of e^r.
  tanh: tanh(x) = x + x^3 T(x^2) for |x| <= 1/2; T(s) ~ (tanh(sqrt s) - sqrt s)/s^1.5,
        degree 5.  T's relative error (2^-25, the rounding of -1/3) times x^2/3 <= 0.083:
        2^-28 of tanh.

Run: .venv/bin/python build-aux/fit_f32_math.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40


def fit(f, lo, hi, deg, nodes=400):
    t = (np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes) + 1) / 2 * (hi - lo) + lo
    y = np.array([float(f(mp.mpf(v))) for v in t])
    c = np.polynomial.polynomial.polyfit(t, y, deg, w=1 / np.abs(y)).astype(np.float32)
    grid = np.linspace(lo, hi, 5001)
    exact = np.array([float(f(mp.mpf(v))) for v in grid])
    err = np.max(np.abs(np.polynomial.polynomial.polyval(grid, c.astype(np.float64)) / exact - 1))
    return c, err


def exp_p(r):
    return (mp.exp(r) - 1 - r) / r**2 if r else mp.mpf(1) / 2


def tanh_t(s):
    x = mp.sqrt(s)
    return (mp.tanh(x) - x) / x**3 if s else -mp.mpf(1) / 3


for name, f, lo, hi, deg in [("exp P(r)", exp_p, -0.36, 0.36, 5), ("tanh T(s)", tanh_t, 0, 0.25, 5),
                             ("exp by eighths of ln2 P(r)", exp_p, -0.0442, 0.0442, 2)]:
    c, err = fit(f, lo, hi, deg)
    print(f"/* {name}, degree {deg}, relative error {err:.2e} (2^{np.log2(err):.1f}), highest first */")
    print(", ".join(f"{float(v).hex()}f" for v in c[::-1]))
