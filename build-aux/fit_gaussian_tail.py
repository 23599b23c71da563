"""The coefficients of GELU's Gaussian tail in csrc/vmath/wide_math.h.

Q(a) = P(Z > a) for a standard normal Z is written Q(a) = exp(-a^2/2) R(a), where
R(a) = exp(a^2/2) Q(a) = Mills ratio / sqrt(2 pi) is smooth and slowly varying on
[0, inf) (R(0) = 1/2, R(a) ~ 1/(a sqrt(2 pi))).  With u = (1.5 a - 4)/(a + 4), which maps
[0, 16] onto [-1, 1] (the substitution t = (a - K)/(a + K) of Schonfelder's Chebyshev
expansions of erfc, K = 4, rescaled), R is a polynomial of degree 12 in u to a relative
2^-33: far below float32's rounding, since the kernel evaluates it in double.

Run: .venv/bin/python build-aux/fit_gaussian_tail.py  (prints the C coefficients and the
relative error reached; mpmath gives the reference at 40 digits).
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
K, A, DEG = 4.0, 16.0, 12


def R(a):
    a = mp.mpf(a)
    return mp.exp(a * a / 2) * mp.erfc(a / mp.sqrt(2)) / 2


def u_of(a):
    return (1.5 * a - K) / (a + K)


def a_of(u):
    return K * (u + 1) / (1.5 - u)


nodes = np.cos(np.pi * (np.arange(300) + 0.5) / 300)
f = np.array([float(R(a)) for a in a_of(nodes)])
cheb = np.polynomial.chebyshev.chebfit(nodes, f, DEG, w=1 / f)  # relative least squares
mono = np.polynomial.chebyshev.cheb2poly(cheb)

a = np.concatenate([np.linspace(0, A, 20001), np.geomspace(1e-9, 1, 200)])
p = np.zeros_like(a)
for c in mono[::-1]:  # Horner in double, as the kernel does
    p = p * u_of(a) + c
err = np.max(np.abs(p / np.array([float(R(x)) for x in a]) - 1))
print(f"/* degree {DEG}, relative error {err:.2e} (2^{np.log2(err):.1f}) on [0, {A:g}] */")
print(",\n".join(repr(float(c)) for c in mono[::-1]))
