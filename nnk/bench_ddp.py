"""The data-parallel rows of ``python -m nnk bench``: training steps per second on one
rank and on two (``mpiexec -n 1`` and ``-n 2`` from the Python's own folder, one thread per
rank, the runs taking turns), and the share of a step spent waiting on gradients; for
the MLP, PyTorch's DistributedDataParallel beside it.

Each run is ``nnk.train`` over DistributedDataParallel, as a user writes it, on a global
batch: the 784-256-10 MLP with SGD (batch 256) and the issue's GPT with AdamW (batch 16),
float32.  Run as ``mpiexec -n N python -m nnk.bench_ddp MODEL STEPS``: rank 0 prints one
JSON line.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

MODELS = {"mlp": "MLP 784-256-10, SGD, global batch 256", "gpt": "GPT (bench shape), AdamW, global batch 16"}


def _problem(model, steps):
    """(net, loss, optimiser, X, Y, batch) with ``steps`` global batches of data."""
    import nnk
    from nnk import nn, optim

    nnk.manual_seed(0)
    rng = np.random.default_rng(0)
    if model == "mlp":
        batch = 256
        net = nn.Sequential(nn.Linear(784, 256, dtype=np.float32), nn.ReLU(),
                            nn.Linear(256, 10, dtype=np.float32))
        X = rng.standard_normal((steps * batch, 784)).astype(np.float32)
        Y = rng.integers(0, 10, steps * batch)
        return net, nn.CrossEntropyLoss(), optim.SGD(net.parameters(), lr=0.01), X, Y, batch
    from .bench_gpt import BATCH, SHAPE

    net = nn.GPT(**SHAPE, dtype=np.float32)
    ids = rng.integers(0, SHAPE["vocab_size"], (steps * BATCH, SHAPE["block_size"] + 1))
    return (net, nn.NextTokenLoss(), optim.AdamW(net.parameters(), lr=1e-3), ids[:, :-1], ids[:, 1:],
            BATCH)


def child(model, steps):
    """One run on this job's ranks: seconds per step and the share spent waiting."""
    import nnk
    import nnk.distributed as dist

    dist.init_process_group()
    net, loss_fn, opt, X, Y, batch = _problem(model, steps)
    ddp = dist.DistributedDataParallel(net)
    nnk.train(ddp, loss_fn, opt, X[:2 * batch], Y[:2 * batch], epochs=1, batch_size=batch,
              shuffle=False, progress=False)  # warm-up: the first step fixes the buckets
    ddp.wait_seconds = 0.0
    dist.barrier()
    t = time.perf_counter()
    nnk.train(ddp, loss_fn, opt, X, Y, epochs=1, batch_size=batch, shuffle=False, progress=False)
    elapsed = time.perf_counter() - t
    waited = np.array([ddp.wait_seconds])
    dist.all_reduce(waited, op="max")
    if dist.get_rank() == 0:
        print(json.dumps({"step_s": elapsed / steps, "wait_share": waited[0] / elapsed,
                          "ranks": dist.get_world_size(), "threads": nnk.get_num_threads()}))


def torch_child(steps):
    """The MLP row's peer: torch.nn.parallel.DistributedDataParallel over gloo (PyTorch's
    CPU backend), the same global batch split across ranks, one thread per rank.  The
    ranks come from MPICH's launcher (PMI_RANK, PMI_SIZE); the port from the parent."""
    import torch
    import torch.distributed as td

    torch.set_num_threads(1)
    rank, world = int(os.environ.get("PMI_RANK", 0)), int(os.environ.get("PMI_SIZE", 1))
    td.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{os.environ['NNK_BENCH_PORT']}",
                          rank=rank, world_size=world)
    torch.manual_seed(0)
    batch = 256
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    model = torch.nn.parallel.DistributedDataParallel(net) if world > 1 else net
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    X, Y = torch.randn(steps * batch, 784), torch.randint(0, 10, (steps * batch,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def run(n):
        for i in range(n):
            mine = torch.arange(i * batch, (i + 1) * batch).tensor_split(world)[rank]
            loss = loss_fn(model(X[mine]), Y[mine])
            opt.zero_grad()
            loss.backward()
            opt.step()

    run(2)
    td.barrier()
    t = time.perf_counter()
    run(steps)
    elapsed = time.perf_counter() - t
    if rank == 0:
        print(json.dumps({"step_s": elapsed / steps, "ranks": world}))
    td.destroy_process_group()


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(model, ranks, steps):
    mpiexec = Path(sys.executable).parent / "mpiexec"
    env = {**os.environ, "NNK_NUM_THREADS": "1", "NNK_BENCH_PORT": str(_free_port()),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1])] +
                                         [p for p in [os.environ.get("PYTHONPATH")] if p])}
    out = subprocess.run([str(mpiexec), "-n", str(ranks), sys.executable, "-m", "nnk.bench_ddp",
                          model, str(steps)], capture_output=True, text=True, env=env, timeout=600)
    if out.returncode:
        raise RuntimeError(f"mpiexec -n {ranks} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _launch_twice(model, ranks, steps):
    """_launch, once more after a failed run (a rank that died at exit fails a run that
    had measured; a second failure is raised)."""
    try:
        return _launch(model, ranks, steps)
    except (RuntimeError, subprocess.TimeoutExpired):
        return _launch(model, ranks, steps)


def _has_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def bench_ddp(rounds=3, quick=False):
    """Rows {model, one_ms, two_ms, speedup, wait_share}: the best of ``rounds`` turns
    each; for the MLP also PyTorch's DDP (gloo) when PyTorch is installed.  [] when
    mpi4py or mpiexec is missing (pip install 'nnk[mpi]')."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return []
    if not (Path(sys.executable).parent / "mpiexec").exists():
        return []
    cases = [("mlp", MODELS["mlp"]), ("gpt", MODELS["gpt"])]
    if _has_torch() and not quick:
        cases.insert(1, ("torch-mlp", "PyTorch DDP (gloo): " + MODELS["mlp"]))
    rows = []
    for model, what in cases:
        steps = {"mlp": 40, "torch-mlp": 40, "gpt": 6}[model] // (4 if quick else 1) or 1
        best = {1: None, 2: None}
        try:
            for _ in range(1 if quick else rounds):
                for ranks in (1, 2):
                    r = _launch_twice(model, ranks, steps)
                    if best[ranks] is None or r["step_s"] < best[ranks]["step_s"]:
                        best[ranks] = r
        except RuntimeError as e:
            if model != "torch-mlp":
                raise
            # the peer's row only: PyTorch's gloo has died at exit now and then
            # ("terminate called without an active exception"); the rest of the bench stands
            print(f"bench: {what} left out: {e}", file=sys.stderr)
            continue
        rows.append({"model": what, "one_ms": best[1]["step_s"] * 1e3, "two_ms": best[2]["step_s"] * 1e3,
                     "speedup": best[1]["step_s"] / best[2]["step_s"],
                     "wait_share": best[2].get("wait_share")})
    return rows


if __name__ == "__main__":
    if sys.argv[1] == "torch-mlp":
        torch_child(int(sys.argv[2]))
    else:
        child(sys.argv[1], int(sys.argv[2]))
