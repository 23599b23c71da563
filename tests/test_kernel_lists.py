"""Every kernel of the C lists (nnk_kernels.h, exported as _C.KERNELS with their columns)
against the scalar oracle, on each ISA, over the domain and within the bound its list
line states: a kernel added to a list is tested here without another line of Python."""
import numpy as np
import pytest

import nnk
from conftest import ulp_error
from nnk import _C

pytestmark = pytest.mark.usefixtures("isa")  # kernel results: once per ISA

SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 0.5, -0.5]
PARAM = 0.2  # the parametrised maps' setting (leaky ReLU's slope)


def inputs(lo, hi, dtype, n=1003):  # 1003: every tail length of every vector width
    x = np.concatenate([np.linspace(lo, hi, n - len(SPECIALS)), SPECIALS]).astype(dtype)
    return np.random.default_rng(0).permutation(x)


def run(family, op, arrays, out):
    extra = (PARAM,) if family in ("pmap", "pgrad") else ()
    getattr(_C, family)(op, *arrays, out, *extra)
    return out


def both_paths(family, op, arrays):
    mine = run(family, op, arrays, np.empty_like(arrays[0]))
    with nnk.use_isa("scalar"):
        ref = run(family, op, arrays, np.empty_like(arrays[0]))
    return mine, ref


def every_kernel_of(*families):
    """Parametrize over (family, op index, list line) for each kernel of the families."""
    return pytest.mark.parametrize(
        "family, op, entry", [(f, i, e) for f in families for i, e in enumerate(_C.KERNELS[f])],
        ids=lambda v: v[0] if isinstance(v, tuple) else str(v))


@every_kernel_of("map", "pmap")
def test_listed_maps_match_scalar_within_their_bound(family, op, entry, dtype):
    name, ulp, lo, hi = entry
    x = inputs(lo, hi, dtype)
    mine, ref = both_paths(family, op, [x])
    err = ulp_error(mine, ref.astype(np.longdouble), dtype)
    worst = int(np.argmax(err))
    assert err[worst] <= ulp, f"{name}: {err[worst]} ULP at x={x[worst]!r}"


@every_kernel_of("grad", "pgrad")
def test_listed_gradients_match_scalar_within_their_bound(family, op, entry, dtype):
    name, ulp, lo, hi = entry
    u = inputs(lo, hi, dtype)
    g = np.random.default_rng(1).uniform(-3, 3, u.shape).astype(dtype)
    mine, ref = both_paths(family, op, [u, g])
    close_ulp = ulp_error(mine, ref.astype(np.longdouble), dtype) <= ulp
    eps = np.finfo(dtype).eps
    with np.errstate(invalid="ignore"):  # or within a few roundings of the terms' size
        close_abs = np.abs(mine - ref) <= 16 * eps * np.abs(g) * (1 + np.abs(u))
    assert np.all(close_ulp | close_abs | (np.isnan(mine) & np.isnan(ref))), name


def test_every_list_is_exported_with_its_columns():
    for family in ("map", "grad", "pmap", "pgrad"):
        for name, ulp, lo, hi in _C.KERNELS[family]:
            assert isinstance(name, str) and ulp >= 0 and lo < hi, (family, name)
    names = [line[0] for lines in _C.KERNELS.values() for line in lines]
    assert len(names) == len(set(names))  # an op index names one kernel of one list
    # the row reductions' column says which one gives a value per row
    assert dict(_C.KERNELS["rows"]) == {"softmax": 0, "log_softmax": 0, "logsumexp": 1}
