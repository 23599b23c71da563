"""nnk.distributed as one process sees it (a world of one, bad input, the optional
extra, DistributedSampler's split against torch's), and what a whole job does that no
single rank can show: an exception ending every rank, the threads each rank takes.
The two-rank tests of the collectives and of training are tests/mpi (make test-mpi)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnk
from nnk import nn, optim

pytest.importorskip("mpi4py")
import nnk.distributed as dist  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MPIEXEC = Path(sys.executable).parent / "mpiexec"


def _run(code, ranks=None, env=None, timeout=60):
    """``code`` in fresh Pythons (under mpiexec -n ranks when given), nnk from this tree."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for var in ("NNK_NUM_THREADS", "OMP_NUM_THREADS"):
        if var not in (env or {}):
            full_env.pop(var, None)
    cmd = [sys.executable, "-c", code]
    if ranks:
        if not MPIEXEC.exists():
            pytest.skip("no mpiexec next to this Python (pip install 'nnk[mpi]')")
        cmd = [str(MPIEXEC), "-n", str(ranks)] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)


def test_without_the_extra_nnk_imports_and_distributed_names_it():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import nnk; nnk.relu([1.0])\n"
            "try:\n    import nnk.distributed\nexcept ImportError as e:\n    print('refused:', e)\n")
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert "refused:" in out.stdout and "nnk[mpi]" in out.stdout


@pytest.fixture
def one():
    dist.init_process_group()
    yield
    dist.destroy_process_group()


def test_a_world_of_one_without_mpiexec(one):
    dist.init_process_group()  # idempotent
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    dist.barrier()
    for op in ("sum", "mean", "max", "min"):
        a = np.array([1.5, -2.0, 3.25])
        assert dist.all_reduce(a, op=op) is a
        np.testing.assert_array_equal(a, [1.5, -2.0, 3.25])
    b = np.arange(4, dtype=np.int64)
    np.testing.assert_array_equal(dist.broadcast(b), np.arange(4))


def test_before_init_the_calls_say_what_to_do():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.DistributedDataParallel(nn.Linear(2, 2))


@pytest.mark.parametrize("bad, error, match", [
    ([1.0, 2.0], TypeError, "NumPy array"),
    (np.ones((4, 4))[:, ::2], ValueError, "contiguous"),
    (np.ones(3, np.float16), TypeError, "float16"),
    (np.ones(3, np.int32), TypeError, "int32"),
])
def test_all_reduce_refuses_what_it_cannot_reduce_in_place(one, bad, error, match):
    with pytest.raises(error, match=match):
        dist.all_reduce(bad)


def test_all_reduce_and_broadcast_refuse_bad_arguments(one):
    with pytest.raises(ValueError, match="op must be"):
        dist.all_reduce(np.ones(2), op="prod")
    with pytest.raises(TypeError, match="mean"):
        dist.all_reduce(np.ones(2, np.int64), op="mean")
    frozen = np.ones(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        dist.all_reduce(frozen)
    with pytest.raises(ValueError, match="src = 1"):
        dist.broadcast(np.ones(2), src=1)
    with pytest.raises(ValueError, match="backend"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="bucket_cap_mb"):
        dist.DistributedDataParallel(nn.Linear(2, 2), bucket_cap_mb=0)
    with pytest.raises(TypeError, match="Module"):
        dist.DistributedDataParallel(lambda x: x)


def test_ddp_in_a_world_of_one_trains_as_the_module(one):
    """Bit for bit the plain module's run (no reduction, no scaling)."""
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    runs = []
    for wrap in (False, True):
        nnk.manual_seed(4)
        net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
        model = dist.DistributedDataParallel(net) if wrap else net
        h = nnk.train(model, nn.MSELoss(), optim.Adam(net.parameters(), lr=0.01), X, Y,
                      epochs=3, batch_size=4, progress=False)
        runs.append((h.loss, [p.data.copy() for p in net.parameters()]))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))
    assert list(dict(model.named_parameters())) == ["module.0.weight", "module.0.bias",
                                                    "module.2.weight", "module.2.bias"]


def test_ddp_state_dict_names_gpts_tied_weight_as_torchs_ddp(one):
    """torch's DDP state holds every key of the module's under "module.", GPT's tied
    lm_head.weight too (left out before), and the state loads back."""
    gpt = nn.GPT(20, 8, 1, 2, 8, dtype=np.float64)
    model = dist.DistributedDataParallel(gpt)
    state = model.state_dict()
    assert list(state) == ["module." + k for k in gpt.state_dict()]
    assert "module.lm_head.weight" in state
    state["module.lm_head.weight"] = state["module.transformer.wte.weight"] = np.ones((20, 8))
    model.load_state_dict(state)
    assert (gpt.lm_head.weight.data == 1).all()


# ---- DistributedSampler: torch's split ------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 7, 10, 11])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_splits_as_torch(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchSampler
    for rank in range(replicas):
        ours = dist.DistributedSampler(n, num_replicas=replicas, rank=rank, shuffle=False,
                                       drop_last=drop_last)
        theirs = TorchSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False,
                              drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    del torch


def test_sampler_shuffles_by_seed_and_epoch():
    """Every rank's share is the permutation of seed + epoch, padded and strided as torch."""
    n, replicas = 11, 3
    perm = np.random.default_rng(5 + 2).permutation(n)
    padded = np.resize(perm, 12)
    for rank in range(replicas):
        s = dist.DistributedSampler(n, num_replicas=replicas, rank=rank, seed=5)
        first = list(s)
        s.set_epoch(2)
        assert list(s) == padded[rank::replicas].tolist() and list(s) != first
    with pytest.raises(ValueError, match="rank 3"):
        dist.DistributedSampler(4, num_replicas=3, rank=3)


# ---- a job of two ranks, seen from outside -----------------------------------------------------

def test_an_exception_on_one_rank_ends_the_whole_job():
    """Rank 1 raises while rank 0 waits in a collective: the job ends (no hang), with
    rank 1's traceback shown, under plain python."""
    code = ("import nnk.distributed as d\nd.init_process_group()\n"
            "if d.get_rank() == 1:\n    raise ValueError('rank one fails here')\n"
            "d.barrier()\nprint('rank', d.get_rank(), 'went on')\n")
    out = _run(code, ranks=2, timeout=60)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "rank one fails here" in text and "Traceback" in text and "rank 1" in text
    assert "went on" not in text


def test_threads_per_rank_share_the_nodes_cpus():
    cpus = nnk._C.threads_info()["cpus_allowed"]
    code = ("import sys, nnk, nnk.distributed as d\nd.init_process_group()\n"
            "sys.stdout.write(f'<{nnk.get_num_threads()}>\\n')\n")  # one write: no interleaving
    out = _run(code, ranks=2)
    assert out.returncode == 0, out.stderr
    assert sorted(re.findall(r"<(\d+)>", out.stdout)) == [str(max(1, cpus // 2))] * 2
    chosen = _run(code, ranks=2, env={"NNK_NUM_THREADS": "3"})
    assert re.findall(r"<(\d+)>", chosen.stdout) == ["3", "3"], chosen.stderr
