"""The data-parallel tests run on every rank of `mpiexec -n 2` (make test-mpi), each
rank the same tests in the same order, so that their collectives meet.  A test asserts
only what every rank sees alike (reduced or gathered values), so a failure fails every
rank and none is left waiting in the next test's collective."""
import pytest

import nnk.distributed as dist


def pytest_configure(config):
    dist.init_process_group()
    if dist.get_world_size() < 2:
        raise pytest.UsageError("tests/mpi runs under mpiexec -n 2 (make test-mpi)")


@pytest.fixture
def world():
    """(rank, world size)."""
    return dist.get_rank(), dist.get_world_size()
