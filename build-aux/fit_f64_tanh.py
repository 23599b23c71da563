"""The polynomials of float64's tanh near 0 in csrc/simd/f64_math.h (tanh_pair.h).

tanh(x) = x + x^3 T(x^2); T(s) ~ (tanh(sqrt s) - sqrt s)/s^1.5, by mpmath's Chebyshev fit
at 50 digits, coefficients rounded to float64 (hex) as the kernel uses them, highest
degree first.  Two of them, one per reach of the quotient above them:
  |x| < 1/4  (s <= 1/16),  degree 8: the layers whose exp pair has no tables;
  |x| < 1/16 (s <= 1/256), degree 4: AVX-512, whose exp pair keeps the quotient within
             0.7 ULP down to 1/16.
Their relative error (2^-54, the rounding of the coefficients) times x^2/3 <= 1/48 or
1/768 is the error each adds to tanh: 2^-59.6 and 2^-63.6.

Run: .venv/bin/python build-aux/fit_f64_tanh.py
"""
import mpmath as mp

mp.mp.dps = 50


def tanh_t(s):
    x = mp.sqrt(s)
    return (mp.tanh(x) - x) / x**3 if s else -mp.mpf(1) / 3


for top, degree in ((mp.mpf(1) / 16, 8), (mp.mpf(1) / 256, 4)):
    c = [float(v) for v in mp.chebyfit(tanh_t, [0, top], degree + 1)]
    worst = 0
    for i in range(4001):
        s = top * i / 4000
        p = mp.mpf(0)
        for v in c:
            p = p * s + mp.mpf(v)
        worst = max(worst, abs(p / tanh_t(s) - 1))
    print(f"/* tanh T(s) on [0, {float(top)}], degree {degree}, relative error {float(worst):.2e} "
          f"(2^{float(mp.log(worst, 2)):.1f}), of tanh 2^{float(mp.log(worst * top / 3, 2)):.1f}, "
          "highest first */")
    print(", ".join(v.hex() for v in c))
