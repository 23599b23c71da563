"""make bench's comparison with the CPU's last run: a row is slower only when nnk's own
figure and its speed against the peer beside it both fell by more than a tenth."""
from nnk.bench_compare import markdown, slower

MACHINE = {"isa": "avx512", "best": "avx512", "available": ["scalar", "avx2", "avx512"],
           "date": "2026-12-05 22:44 UTC"}


def run(matvec_us, numpy_us, gflops, numpy_gflops, gpt_s=0.060, torch_s=0.080):
    return {"machine": MACHINE,
            "matvec": [{"dtype": "float32", "shape": "x W 2000x2000", "avx2": 1.0,
                        "avx512": matvec_us, "numpy": numpy_us}],
            "gemm": [{"dtype": "float32", "n": 1024, "scalar": 999.0, "avx512": gflops,
                      "numpy": numpy_gflops}],
            "gpt": [{"case": "training step, batch 16", "nnk": gpt_s, "torch": torch_s}]}


def test_a_slower_kernel_is_found_in_times_and_in_rates():
    last = run(200.0, 220.0, 110.0, 100.0)
    this = run(250.0, 220.0, 90.0, 100.0, gpt_s=0.070)  # all three slower, peers steady
    rows = {r["row"]: r for r in slower(last, this)}
    assert set(rows) == {"float32 x W 2000x2000", "float32 1024", "training step, batch 16"}
    assert abs(rows["float32 x W 2000x2000"]["own"] - 0.8) < 1e-12
    assert abs(rows["float32 1024"]["own"] - 90 / 110) < 1e-12  # rates: higher is better
    assert "| matvec | float32 x W 2000x2000 | 0.80x | 0.80x (numpy) |" in markdown(list(rows.values()))


def test_a_busy_machine_or_a_lucky_peer_alone_is_not_a_slower_row():
    last = run(200.0, 220.0, 110.0, 100.0)
    busy = run(260.0, 290.0, 85.0, 78.0, gpt_s=0.078, torch_s=0.105)  # everyone slower alike
    lucky = run(205.0, 150.0, 110.0, 140.0, torch_s=0.050)  # the peers faster, nnk the same
    assert slower(last, busy) == [] and slower(last, lucky) == []
    assert markdown([], MACHINE["date"]) == "No row slower than the last run on this CPU (2026-12-05 22:44 UTC)."


def test_faster_rows_and_rows_without_a_peer_or_a_last_figure_are_left_out():
    last = run(200.0, 220.0, 110.0, 100.0)
    this = run(150.0, 220.0, 130.0, 100.0)
    this["gemm"].append({"dtype": "float64", "n": 64, "avx512": 1.0, "numpy": 100.0})  # new row
    this["gpt"][0]["torch"] = None
    assert slower(last, this) == []
