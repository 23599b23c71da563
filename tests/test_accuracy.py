"""float64 exp, log, tanh, sigmoid and GELU within 1 ULP of mpmath on a dense sample and
the edges; every ISA this CPU runs (float32 is proved over all 2^32 inputs by make
test-exhaustive, csrc/tests/exhaustive.c; a sample of it here keeps pytest honest)."""
import mpmath as mp
import numpy as np
import pytest
from conftest import ulp_error

import nnk

mp.mp.dps = 40

EDGES = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-300, -1e-300, 1e-20, -1e-20,
         0.125, 0.5, -0.5, 1.0, -1.0, 19.06, -19.06, 36.7, -36.7, 708.0, 709.78, -708.4,
         -745.0, -745.2, 710.0, -750.0]

REFERENCE = {
    "exp": mp.exp,
    "log": mp.log,
    "tanh": mp.tanh,
    "sigmoid": lambda v: 1 / (1 + mp.exp(-v)),
    # (below -100, 10^-2000 and less: 0 in any float format, long double's too)
    "gelu": lambda v: v / 2 * mp.erfc(-v / mp.sqrt(2)) if v > -100 else mp.mpf(0),
}
# GELU's regions of |x| (csrc/vmath/gelu_f64.h) and where it turns x or subnormal or 0
GELU_EDGES = [0.375, 1.125, 2.25, 3.375, 5.0, 8.5, 37.5, 38.4, 38.56, 38.6, 40.0]


def sample(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    x = np.concatenate([rng.uniform(-20, 20, 1500), rng.uniform(-1, 1, 500),
                        rng.uniform(-745, 709, 300), np.geomspace(1e-300, 30, 300),
                        -np.geomspace(1e-300, 30, 300), EDGES])
    if name == "gelu":  # besides: both sides of each region's end, and the underflow band
        ends = np.array(GELU_EDGES)
        near = np.concatenate([np.nextafter(ends, 0), ends, np.nextafter(ends, 99)])
        x = np.concatenate([x, near, -near, -rng.uniform(30, 39, 400), rng.uniform(-6, 6, 1000)])
    if name == "tanh":  # where the quotient meets the polynomial (1/16 on AVX-512, 1/4 elsewhere)
        low = np.exp2(rng.uniform(-7, -1, 4000))
        x = np.concatenate([x, low, -low])
    return np.abs(x) if name == "log" else x


def reference(f, x):
    # mpmath's value, rounded to long double (64-bit significand, 11 bits beyond double)
    return np.array([np.longdouble(mp.nstr(f(mp.mpf(float(v))), 30)) if v != 0 or f is not mp.log
                     else np.longdouble("-inf") for v in x])


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_float64_within_one_ulp_of_mpmath(name, isa):
    x = sample(name)
    ref = reference(REFERENCE[name], x)
    with nnk.use_isa(isa):
        y = getattr(nnk, name)(x)
    err = ulp_error(y, ref, np.float64)
    worst = int(np.argmax(err))
    assert err[worst] <= 1.0, f"{name}({x[worst]!r}) = {y[worst]!r}, {err[worst]:.3f} ULP"


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid"])
def test_float32_sample_within_one_ulp(name, isa):
    """A random sample of the float32 inputs the exhaustive test covers."""
    bits = np.random.default_rng(7).integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x = x[np.isfinite(x)]
    if name == "log":
        x = np.abs(x)
    xd = x.astype(np.float64)
    with np.errstate(all="ignore"):
        ref = {"exp": np.exp, "log": np.log, "tanh": np.tanh,
               "sigmoid": lambda v: np.where(v >= 0, 1 / (1 + np.exp(-v)),
                                             np.exp(v) / (1 + np.exp(v)))}[name](xd)
    with nnk.use_isa(isa):
        y = getattr(nnk, name)(x)
    err = ulp_error(y, ref, np.float32)
    worst = int(np.argmax(err))
    assert err[worst] <= 1.0, f"{name}({x[worst]!r}) = {y[worst]!r}, {err[worst]:.3f} ULP"


@pytest.mark.parametrize("table_isa, bound", [("avx512", 0.55), ("avx2", 0.62)])
def test_float32_exp_normal_results_from_tables(table_isa, bound):
    """AVX-512's and AVX2's float32 exp (2^(j/32) or 2^(j/8) from a table, times a short
    polynomial) within 0.55 and 0.62 ULP wherever the result is normal, on a dense sample
    of [-87.3, 88.7] (their bounds by construction are about half an ULP and a fiftieth,
    and a tenth: r and the tail are four times larger with eighths; the other ISAs' pair
    construction is within 0.77, every ISA within 1 over all inputs: make
    test-exhaustive)."""
    if table_isa not in nnk.cpu_info()["available"]:
        pytest.skip(f"no {table_isa} here")
    rng = np.random.default_rng(13)
    x = np.concatenate([rng.uniform(-87.3, 88.7, 1 << 21), rng.uniform(-0.05, 0.05, 1 << 18)])
    x = x.astype(np.float32)
    with nnk.use_isa(table_isa):
        y = nnk.exp(x)
    err = ulp_error(y, np.exp(x.astype(np.longdouble)), np.float32)
    worst = int(np.argmax(err))
    assert err[worst] <= bound, f"exp({x[worst]!r}) = {y[worst]!r}, {err[worst]:.3f} ULP"
