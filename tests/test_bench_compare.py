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


def full_run(scale=1.0):
    """A run with every section bench.markdown prints (nnk's figures times `scale` where
    they are times, divided where rates), as nnk bench --json keeps it."""
    m = {"cpu": "AMD EPYC", "arch": "x86_64", "features": ["avx2"], "sleef": "3.5.1", "numpy": "2",
         "torch": "2", "python": "3", "threads": 1, "date": "2026-12-06 00:37 UTC",
         "available": ["scalar", "avx2", "avx512"], "isa": "avx512", "best": "avx512"}
    return {"machine": m,
            "gemm": [{"dtype": "float64", "n": 256, "scalar": 6.1, "avx2": 52.7, "avx512": 54.7 / scale,
                      "numpy": 51.3, "torch": 43.5}],
            "matvec": [{"dtype": "float32", "shape": "x W 8000x512", "avx2": 249.5, "avx512": 250.8 * scale,
                        "numpy": 260.4}],
            "gpt": [{"case": "training step, batch 16", "nnk": 0.0587 * scale, "torch": 0.0767}],
            "elementwise": [{"kernel": "exp", "n": 1 << 20, "scalar": 12.4, "avx2": 0.34,
                             "avx512": 0.23 * scale, "numpy": 0.45, "torch": 0.82}],
            "softmax": [{"kernel": "softmax", "shape": [64, 1000], "scalar": 775.2, "avx2": 33.1,
                         "avx512": 25.4 * scale, "numpy": 78.9, "torch": 39.5, "copy": 5.1}],
            "overhead": [{"call": "linear 2x2, W x + b", "nnk": 0.27 * scale, "numpy": 1.18, "torch": 3.19}],
            "training": [{"step": "784-256-10, batch 64, CE, float32", "nnk": 597.7 * scale, "torch": 839.9}],
            "rnn": {"model": "RNN", "nnk": 1.0, "torch": 2.0}}


def test_a_results_file_reads_back_as_its_run():
    """bench.markdown's tables, read back: the same rows and figures (to their printed
    digits), so that a CPU's results file is the last run to compare with."""
    from nnk.bench import markdown as results_file
    from nnk.bench_compare import from_markdown

    run = full_run()
    back = from_markdown(results_file(run))
    assert back["machine"]["isa"] == "avx512" and back["machine"]["date"] == "2026-12-06 00:37 UTC"
    assert back["gpt"][0]["nnk"] == 0.0587 and back["softmax"][0]["shape"] == "64x1000"  # ms -> s
    assert back["training"][0]["step"] == "784-256-10, batch 64, CE, float32"
    assert slower(back, run) == []
    slow = {r["section"] for r in slower(back, full_run(scale=1.25))}
    assert slow == {"gemm", "matvec", "gpt", "elementwise", "softmax", "overhead", "training"}
