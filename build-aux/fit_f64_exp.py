"""The table of float64 exp where the layer looks up 16-entry tables in registers
(csrc/simd/f64_math.h, AVX-512): 2^(j/16) for j = 0..15 as pairs hi + lo, hi the double
nearest, lo the double nearest the rest (together within 2^-106), from mpmath at 40 digits.

Run: .venv/bin/python build-aux/fit_f64_exp.py   (prints the tables the source holds)
"""
import mpmath as mp

mp.mp.dps = 40
hi, lo = [], []
for j in range(16):
    v = mp.power(2, mp.mpf(j) / 16)
    h = float(v)
    hi.append(h)
    lo.append(float(v - mp.mpf(h)))


def table(name, values):
    body = ", ".join(v.hex() if v else "0.0" for v in values)
    print(f"static const double {name}[16] __attribute__((aligned(64))) = {{{body}}};")


table("EXP2_16_HI", hi)
table("EXP2_16_LO", lo)
