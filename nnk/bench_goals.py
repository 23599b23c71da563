"""The speed and accuracy goals read off one ``make bench`` run: each goal's measured
figure (a ratio timed side by side in that run, or a worst error) beside its target, so
that a CPU's results file says by itself which goals that CPU meets.

``python -m nnk.bench_goals ONE.json [ALL.json] [SCALING.md] [EXHAUSTIVE.md]``: the
one-thread ``nnk bench --json``, the all-threads one, ``gemm_bench scaling``'s table and
``exhaustive``'s table; a goal whose figures are missing is left out.
"""
import json
import sys

# The matrix-vector table's shapes the goals name: nnk at least as fast as NumPy.
MATVEC = ("dot 1e5", "dot 1e7", "W x 2000x2000", "x W 2000x2000", "W x 8000x512",
          "x W 8000x512", "2000x2000 @ 2000x4")
# elementwise kernel -> (the peer, at least this many times its speed)
ELEMENTWISE = {"exp": ("numpy", 1.5), "tanh": ("numpy", 1.0), "sigmoid": ("torch", 1.0),
               "gelu": ("torch", 1.0), "gelu, x ~ N(0, 3^2)": ("torch", 1.0), "exp (float64)": ("numpy", 1.0),
               "tanh (float64)": ("numpy", 1.0)}
PEER = {"numpy": "NumPy", "torch": "PyTorch"}


def _speed(row, ours, theirs, times=True):
    """How many times as fast `ours` is as `theirs` in a row of times (or of rates)."""
    a, b = row.get(ours), row.get(theirs)
    if not a or not b:
        return None
    return b / a if times else a / b


def _cells(line):
    return [cell.strip() for cell in line.strip("|").split("|")]


def _header_and_rows(text, header):
    """The first Markdown table in text whose header line starts with `header`: its
    header's cells (None where there is no such table) and its rows, each a list of its
    cells."""
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if line.startswith(header)), None)
    if at is None:
        return None, []
    rows = []
    for line in lines[at + 2:]:  # past the header and its rule
        if not line.startswith("|"):
            break
        rows.append(_cells(line))
    return _cells(lines[at]), rows


def _table(text, header):
    """The rows of the first Markdown table in text whose header line starts with
    `header`, each a list of its cells."""
    return _header_and_rows(text, header)[1]


def _parse_scaling(text):
    """{(dtype, n): speed-up} from gemm_bench scaling's table."""
    return {(r[0], int(r[1])): float(r[4].rstrip("x"))
            for r in _table(text, "| dtype | n | 1 thread GFLOP/s")}


def _parse_exhaustive(text):
    """{function: worst error in ULP over the ISAs} from exhaustive's table."""
    worst = {}
    for fn, _isa, ulp, *_ in _table(text, "| function | ISA | worst error (ULP)"):
        worst[fn] = max(worst.get(fn, 0.0), float(ulp))
    return worst


def goals(one, every=None, scaling_text="", exhaustive_text=""):
    """Rows {"goal", "value", "target", "unit", "note", "peer"}: value >= target meets the
    goal, but for errors (unit "ULP"), which must be at most the target.  "peer" (or None)
    is the best peer's own figure for a thread-scaling goal, measured in the same run: where
    the peer falls short of the target too, the goal is beyond this machine, and reaching
    the peer's figure meets it."""
    best = one["machine"].get("best", one["machine"]["isa"])
    rows = []

    def add(goal, value, target, unit="x", note="", peer=None):
        if value is not None:
            rows.append({"goal": goal, "value": value, "target": target, "unit": unit, "note": note,
                         "peer": peer})

    for r in one.get("matvec", []):
        if r["shape"] in MATVEC:
            add(f"{r['dtype']} {r['shape']}, nnk / NumPy", _speed(r, best, "numpy"), 1.0)
    for r in one.get("overhead", []):
        if r["call"].startswith("linear"):
            add(f"{r['call']}, nnk / NumPy", _speed(r, "nnk", "numpy"), 1.0)
    for r in one.get("gemm", []):
        if r["n"] in (64, 256, 1024):
            name = {"float32": "sgemm", "float64": "dgemm"}[r["dtype"]]
            add(f"{name} {r['n']}^3, nnk / NumPy", _speed(r, best, "numpy", times=False), 1.0)
    for (dtype, n), s in sorted(_parse_scaling(scaling_text).items()):
        if n == 2048:
            add(f"{dtype} GEMM {n}^3, all threads / one", s, 1.8)
    for r in one.get("training", []):
        if r["step"].startswith("784-256-10"):
            add(f"{r['step']}, nnk / PyTorch", _speed(r, "nnk", "torch"), 1.2)
    for label, run in (("one thread", one), ("all threads", every or {})):
        products = run.get("gpt_products")
        for r in run.get("gpt", []):
            training = r["case"].startswith("training")
            target, note = (1.5 if training else 2.0), ""
            if training and products and r.get("torch"):  # the bound the products set
                note = (f"{r['torch'] / target * 1e3:.1f} ms needed; the products alone: nnk "
                        f"{products['nnk'] * 1e3:.1f} ms, NumPy {products['numpy'] * 1e3:.1f} ms")
            add(f"GPT {r['case']}, {label}, nnk / PyTorch", _speed(r, "nnk", "torch"), target, note=note)
    mem = one.get("gpt_memory")
    if mem:
        add("GPT training peak memory, PyTorch / nnk", _speed(mem, "nnk", "torch"), 1.0)
    for r in one.get("elementwise", []):
        if r["kernel"] in ELEMENTWISE:
            peer, target = ELEMENTWISE[r["kernel"]]
            kernel, _, inputs = r["kernel"].partition(", ")  # "gelu, x ~ N(0, 3^2)": its inputs
            add(f"{kernel} 1M{', ' + inputs if inputs else ''}, nnk / {PEER[peer]}", _speed(r, best, peer), target)
    large = one.get("large", [])
    floor = next((r for r in large if r["kernel"].startswith("relu")), None)
    for r in large:
        if r is not floor:  # beside the memory's floor (relu's all-threads time) and PyTorch's own
            peer = _speed(r, "torch_all_ms", "torch_one_ms")
            note = "; ".join(filter(None, (
                f"all threads {r['all_ms']:.2f} ms, relu's {floor['all_ms']:.2f}" if floor else "",
                f"PyTorch's own {peer:.2f}x" if peer else "")))
            add(f"{r['kernel'].split()[0]} 16M, all threads / one", _speed(r, "all_ms", "one_ms"), 1.8,
                note=note, peer=peer)
    for r in one.get("softmax", []):
        shape = "x".join(map(str, r["shape"]))
        add(f"{r['kernel']} {shape}, nnk / PyTorch", _speed(r, best, "torch"), 1.2)
    for fn, ulp in _parse_exhaustive(exhaustive_text).items():
        add(f"float32 {fn}, worst error over every input", ulp, 1.0, "ULP")
    return rows


def met(row):
    if row["unit"] == "ULP":
        return row["value"] <= row["target"]
    peer = row.get("peer")
    beyond = peer is not None and peer < row["target"]  # the peer falls short too: the peer's figure
    return row["value"] >= (peer if beyond else row["target"])


def _verdict(row):
    if not met(row):
        return "**no**"
    if row["unit"] == "ULP" or row["value"] >= row["target"]:
        return "yes"
    return f"yes, the peer's {row['peer']:.2f}x (beyond the machine)"


def markdown(rows):
    lines = ["| goal | measured | target | met | note |", "|---|---|---|---|---|"]
    for r in rows:
        digits = 2  # more where two would print a missed goal as its target
        while not met(r) and digits < 5 and f"{r['value']:.{digits}f}" == f"{r['target']:.{digits}f}":
            digits += 1
        if r["unit"] == "ULP":
            value, target = f"{r['value']:.{max(digits, 3)}f} ULP", f"<= {r['target']:g} ULP"
        else:
            value, target = f"{r['value']:.{digits}f}x", f">= {r['target']:g}x"
        lines.append(f"| {r['goal']} | {value} | {target} | {_verdict(r)} | {r['note']} |")
    missed = sum(not met(r) for r in rows)
    lines += ["", f"{len(rows) - missed} of {len(rows)} goals met on this CPU in this run."]
    return "\n".join(lines)


def main(argv):
    paths = argv + [None] * (4 - len(argv))

    def read(path):
        if not path:
            return ""
        with open(path) as f:
            return f.read()

    one = json.loads(read(paths[0]))
    every = json.loads(read(paths[1])) if paths[1] else None
    print(markdown(goals(one, every, read(paths[2]), read(paths[3]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
