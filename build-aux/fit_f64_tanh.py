"""The polynomial of float64's tanh for |x| < 1/4 in csrc/simd/f64_math.h (tanh_pair.h).

tanh(x) = x + x^3 T(x^2); T(s) ~ (tanh(sqrt s) - sqrt s)/s^1.5 on s in [0, 1/16], degree 8,
by mpmath's Chebyshev fit at 50 digits, coefficients rounded to float64 (hex) as the
kernel uses them, highest degree first.  Its relative error (2^-54 with the rounding of
the coefficients) times x^2/3 <= 1/48 is the error it adds to tanh: 2^-59.

Run: .venv/bin/python build-aux/fit_f64_tanh.py
"""
import mpmath as mp

mp.mp.dps = 50


def tanh_t(s):
    x = mp.sqrt(s)
    return (mp.tanh(x) - x) / x**3 if s else -mp.mpf(1) / 3


poly = mp.chebyfit(tanh_t, [0, mp.mpf(1) / 16], 9)
c = [float(v) for v in poly]
worst = 0
for i in range(4001):
    s = mp.mpf(1) / 16 * i / 4000
    p = mp.mpf(0)
    for v in c:
        p = p * s + mp.mpf(v)
    worst = max(worst, abs(p / tanh_t(s) - 1))
print(f"/* tanh T(s), degree 8, relative error {float(worst):.2e} (2^{float(mp.log(worst, 2)):.1f}), highest first */")
print(", ".join(v.hex() for v in c))
