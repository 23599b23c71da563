"""The benchmark harness itself runs and reports what it should (no timing assertions)."""
import json
import subprocess
import sys

import pytest

import nnk

# The harness times every ISA itself: run it once, in the suite's pass for the best ISA.
pytestmark = pytest.mark.skipif(nnk.get_isa() != nnk.cpu_info()["best"],
                                reason="the bench harness covers all ISAs in one run")


def test_bench_quick_runs_and_reports(tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, "-m", "nnk", "bench", "--quick", "--json", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    for heading in ("## GEMM", "## Matrix-vector shapes", "## Elementwise", "## Softmax", "## Per-call overhead",
                    "## One training step", "## RNN forward"):
        assert heading in r.stdout
    data = json.loads(out.read_text())
    assert data["machine"]["isa"] and data["machine"]["threads"] == 1
    assert all(row["scalar"] > 0 for row in data["gemm"] if row["n"] <= 256)
    assert {row["kernel"] for row in data["elementwise"]} >= {"exp", "tanh", "sigmoid", "relu"}
    assert data["rnn"]["nnk"] > 0
    shapes = {(row["dtype"], row["shape"]) for row in data["matvec"]}
    assert ("float32", "dot 1e5") in shapes and ("float64", "x W 2000x2000") in shapes
    assert all(row["numpy"] > 0 and row[data["machine"]["best"]] > 0 for row in data["matvec"])
    assert data["gpt_products"]["nnk"] > 0 and data["gpt_products"]["numpy"] > 0
    assert "The step's matrix products alone" in r.stdout
    if data["ddp"]:  # with nnk[mpi]: one rank and two, each model
        assert "## Data-parallel training over MPI" in r.stdout
        assert [row["model"].split()[0] for row in data["ddp"]] == ["MLP", "GPT"]
        assert all(row["one_ms"] > 0 and row["two_ms"] > 0 and 0 <= row["wait_share"] < 1
                   for row in data["ddp"])


def test_step_products_are_the_gpt_linears_products():
    """The bound the GPT rows are read against: the products listed are those of the
    bench's model, each linear forward (x W^T), dx (dy W) and dW (dy^T x) once, and
    their FLOPs the step's but for attention's."""
    from nnk.bench_gpt import BATCH, SHAPE, step_flops, step_products
    model = nnk.nn.GPT(**SHAPE)
    n = BATCH * SHAPE["block_size"]
    want = []
    for name, w in model.state_dict().items():
        if w.ndim == 2 and name.endswith(".weight") and ".h." in name or name == "lm_head.weight":
            out_f, in_f = w.shape
            want += [((n, in_f), (in_f, out_f)), ((n, out_f), (out_f, in_f)), ((out_f, n), (n, in_f))]
    calls, flops = step_products()
    assert sorted((a.shape, b.shape) for a, b, _ in calls) == sorted(want)
    assert all(out.shape == (a.shape[0], b.shape[1]) for a, b, out in calls)
    T, C, L = SHAPE["block_size"], SHAPE["n_embd"], SHAPE["n_layer"]
    attention = 3 * 2 * 2 * BATCH * T * T * C * L / 2  # causal q k^T and p v, forward and backward
    assert flops == step_flops(**SHAPE, batch=BATCH) - attention
