"""Shared fixtures.  Tests of kernel results run once per ISA this CPU runs (the `isa`
fixture, which modules of such tests request for every test); the others, whose
outcome does not depend on the ISA (threads, GIL, dispatch, the CLI, notebooks, the
build), run once, on the default ISA."""
import os

import numpy as np
import pytest

import nnk

# tests/wheel installs the built wheel into a fresh venv: `make test-wheel` runs it;
# tests/mpi runs under `mpiexec -n 2` (`make test-mpi`, which sets NNK_MPI_TESTS).
collect_ignore = ["wheel"] + ([] if os.environ.get("NNK_MPI_TESTS") else ["mpi"])

# Every ISA this CPU runs, or the one NNK_ISA names (to run the suite on one path only).
ISAS = (nnk.get_isa(),) if os.environ.get("NNK_ISA") else tuple(nnk.cpu_info()["available"])


@pytest.fixture(params=ISAS, scope="module")
def isa(request):
    """The ISA whose kernels the test runs (nnk.use_isa: the calling thread only)."""
    with nnk.use_isa(request.param) as name:
        yield name


@pytest.fixture
def set_threads():
    """nnk.set_num_threads for the test, the count before it put back after it."""
    before = nnk.get_num_threads()
    yield nnk.set_num_threads
    nnk.set_num_threads(before)


def pytest_report_header(config):
    info = nnk.cpu_info()
    return f"nnk ISA: {info['isa']} (available: {', '.join(info['available'])}), cpu: {info['cpu']}"


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return np.dtype(request.param)


def ulp_error(y, ref, dtype):
    """|y - ref| in units of the last place of ``dtype`` at ref (ref in higher precision)."""
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, overflow: handled below
        return _ulp_error(y, ref, dtype)


def _ulp_error(y, ref, dtype):
    ref = np.asarray(ref, dtype=np.longdouble)
    y = np.asarray(y, dtype=np.longdouble)
    spacing = np.spacing(np.abs(ref).astype(dtype)).astype(np.longdouble)
    spacing = np.maximum(spacing, np.longdouble(np.finfo(dtype).smallest_subnormal))
    # a reference beyond dtype's range rounds to infinity: that infinity is exact
    both_inf = np.isinf(y) & np.isinf(ref.astype(dtype)) & (np.sign(y) == np.sign(ref))
    err = np.where(both_inf | (y == ref), 0, np.abs(y - ref) / spacing)
    return np.where(np.isnan(y) | np.isnan(ref), np.where(np.isnan(y) & np.isnan(ref), 0, np.inf), err)
