"""The goals table of make bench: each goal's ratio taken the right way round from the
run's raw figures, met only on the right side of its target, the C tables read."""
from nnk.bench_goals import goals, markdown, met

MACHINE = {"isa": "avx2", "best": "avx2", "available": ["scalar", "avx2"]}


def by_goal(rows):
    return {r["goal"]: r for r in rows}


def test_times_and_rates_give_speed_ratios_the_right_way_round():
    one = {"machine": MACHINE,
           # microseconds: nnk twice as fast; the scalar column is not nnk as a user gets it
           "matvec": [{"dtype": "float32", "shape": "dot 1e5", "scalar": 1.0, "avx2": 5.0, "numpy": 10.0}],
           # GFLOP/s: nnk at 0.9 of NumPy
           "gemm": [{"dtype": "float64", "n": 256, "scalar": 5.0, "avx2": 90.0, "numpy": 100.0},
                    {"dtype": "float64", "n": 16, "avx2": 1.0, "numpy": 100.0}],
           "gpt_memory": {"nnk": 50.0, "torch": 75.0},
           "large": [{"kernel": "relu (memory floor)", "one_ms": 2.0, "all_ms": 1.0},
                     {"kernel": "exp", "one_ms": 4.0, "all_ms": 2.5}]}
    rows = by_goal(goals(one))
    dot = rows["float32 dot 1e5, nnk / NumPy"]
    assert dot["value"] == 2.0 and met(dot)
    dgemm = rows["dgemm 256^3, nnk / NumPy"]
    assert abs(dgemm["value"] - 0.9) < 1e-12 and not met(dgemm)
    assert not any("16^3" in g for g in rows)  # only the sizes the goals name
    mem = rows["GPT training peak memory, PyTorch / nnk"]
    assert mem["value"] == 1.5 and met(mem)
    exp = rows["exp 16M, all threads / one"]
    assert exp["value"] == 1.6 and not met(exp) and "relu's 1.00" in exp["note"]
    assert "relu 16M, all threads / one" not in rows  # the floor is the note, not a goal


def test_gpt_rows_of_both_runs_and_a_missing_peer_left_out():
    gpt = [{"case": "training step, batch 16", "nnk": 0.060, "torch": 0.081},
           {"case": "generate 63 tokens, cached", "nnk": 0.010, "torch": None}]
    one = {"machine": MACHINE, "gpt": gpt, "gpt_products": {"nnk": 0.049, "numpy": 0.054}}
    every = {"machine": MACHINE, "gpt": [{"case": "training step, batch 16", "nnk": 0.030, "torch": 0.048}]}
    rows = by_goal(goals(one, every))
    step1 = rows["GPT training step, batch 16, one thread, nnk / PyTorch"]
    assert abs(step1["value"] - 1.35) < 1e-12 and step1["target"] == 1.5 and not met(step1)
    assert "54.0 ms needed" in step1["note"] and "nnk 49.0 ms, NumPy 54.0 ms" in step1["note"]
    step2 = rows["GPT training step, batch 16, all threads, nnk / PyTorch"]
    assert abs(step2["value"] - 1.6) < 1e-12 and met(step2)
    assert not any("generate" in g for g in rows)  # no PyTorch time: no ratio


def test_c_tables_read_worst_error_over_isas_and_2048_scaling():
    scaling = """GEMM thread scaling, best of 5 alternating rounds, avx2

| dtype | n | 1 thread GFLOP/s | 2 threads GFLOP/s | speed-up |
|---|---|---|---|---|
| f32 | 1024 | 90.0 | 150.0 | 1.67x |
| f32 | 2048 | 90.0 | 160.0 | 1.78x |
| f64 | 2048 | 45.0 | 88.0 | 1.96x |
"""
    exhaustive = """| function | ISA | worst error (ULP) | at input |
|---|---|---|---|
| gelu | avx2 | 1.2500 | -4.99 (0xc09fdef7) |
| gelu | avx512 | 0.8780 | -4.84 (0xc09afc6c) |
| exp | avx2 | 0.7610 | -87.6 (0xc2af48d9) |

ok
| exp | avx512 | 9.0 | after the table: not read |
"""
    rows = by_goal(goals({"machine": MACHINE}, None, scaling, exhaustive))
    assert set(rows) == {"f32 GEMM 2048^3, all threads / one", "f64 GEMM 2048^3, all threads / one",
                         "float32 gelu, worst error over every input",
                         "float32 exp, worst error over every input"}
    assert not met(rows["f32 GEMM 2048^3, all threads / one"])
    assert met(rows["f64 GEMM 2048^3, all threads / one"])
    gelu = rows["float32 gelu, worst error over every input"]
    assert gelu["value"] == 1.25 and not met(gelu)  # the worst ISA's, and above 1 ULP
    exp = rows["float32 exp, worst error over every input"]
    assert exp["value"] == 0.761 and met(exp)
    text = markdown([gelu, exp])
    assert "| float32 gelu, worst error over every input | 1.250 ULP | <= 1 ULP | **no** |" in text
    assert "| float32 exp, worst error over every input | 0.761 ULP | <= 1 ULP | yes |" in text


def test_markdown_marks_the_missed_goals_and_counts_them():
    one = {"machine": MACHINE,
           "overhead": [{"call": "linear 2x2, W x + b", "nnk": 1.0, "numpy": 2.0},
                        {"call": "matmul 4x4", "nnk": 9.0, "numpy": 1.0},
                        {"call": "linear 256->256, one sample", "nnk": 4.0, "numpy": 3.0}]}
    text = markdown(goals(one))
    assert "| linear 2x2, W x + b, nnk / NumPy | 2.00x | >= 1x | yes |" in text
    assert "| linear 256->256, one sample, nnk / NumPy | 0.75x | >= 1x | **no** |" in text
    assert "matmul 4x4" not in text
    assert text.rstrip().endswith("1 of 2 goals met on this CPU in this run.")


def test_a_missed_goal_is_never_printed_as_its_target():
    one = {"machine": MACHINE, "training": [{"step": "784-256-10, batch 64, CE, float32", "nnk": 1.0,
                                             "torch": 1.19996}]}
    assert "| 1.19996x | >= 1.2x | **no** |" in markdown(goals(one))


def test_a_scaling_goal_the_peer_misses_too_is_met_at_the_peers_figure():
    def softmax(one_ms, all_ms, torch_one, torch_all):
        one = {"machine": MACHINE,
               "large": [{"kernel": "softmax 4096 rows", "one_ms": one_ms, "all_ms": all_ms,
                          "torch_one_ms": torch_one, "torch_all_ms": torch_all}]}
        return by_goal(goals(one))["softmax 16M, all threads / one"]

    beyond = softmax(7.9, 4.4, 42.0, 26.4)  # nnk 1.80-, PyTorch 1.59x: the peer's figure
    assert beyond["value"] < 1.8 and met(beyond) and "PyTorch's own 1.59x" in beyond["note"]
    assert "| yes, the peer's 1.59x (beyond the machine) |" in markdown([beyond])
    assert not met(softmax(7.9, 5.3, 42.0, 26.4))  # 1.49x: below the peer's 1.59x
    assert not met(softmax(7.9, 4.4, 42.0, 22.0))  # the peer reaches 1.8x (1.91x): the target
    reached = softmax(8.0, 4.0, 42.0, 26.4)  # 2.0x: the target itself, whatever the peer's
    assert met(reached) and "| yes |" in markdown([reached])
