"""nnk's rows of one ``make bench`` run against the last run kept for the same CPU: which
got slower.

``python -m nnk.bench_compare LAST THIS``: each the one-thread ``nnk bench --json`` of a
run or the results file of one (bench/RESULTS-<cpu>.md, read back from its tables: the
file every CPU's runs are kept in).  These machines are shared and their speed drifts
from run to run, so a row counts as slower only when both of its figures fell by more
than a tenth: nnk's own (time or rate) and nnk's speed against the peer timed beside it
in the same run.  A busy machine slows nnk and its peer alike (the ratio holds); a
peer's lucky run moves the ratio alone; a slower kernel moves both.  (The results
file's figures are rounded to their printed digits: a row of tenths of a nanosecond
moves by up to 5 % through that alone, half the margin.)
"""
import json
import re
import sys

from nnk.bench_goals import _header_and_rows

DROP = 0.9  # a figure below this share of the last run's is a drop

# section -> (the fields naming a row, nnk's field ("best": the run's best ISA), the peers
# in order of preference, whether the figures are rates (higher is better) or times)
SECTIONS = {
    "gemm": (("dtype", "n"), "best", ("numpy", "torch"), True),
    "matvec": (("dtype", "shape"), "best", ("numpy",), False),
    "gpt": (("case",), "nnk", ("torch",), False),
    "elementwise": (("kernel",), "best", ("numpy", "torch"), False),
    "softmax": (("kernel", "shape"), "best", ("torch", "numpy"), False),
    "overhead": (("call",), "nnk", ("numpy", "torch"), False),
    "training": (("step",), "nnk", ("torch",), False),
}


def _rows(run, section):
    """{row name: (nnk's figure, the peer's name, the peer's figure)} of one run."""
    names, ours, peers, _ = SECTIONS[section]
    field = run["machine"].get("best", run["machine"]["isa"]) if ours == "best" else ours
    out = {}
    for r in run.get(section, []):
        peer = next((p for p in peers if r.get(p)), None)
        if r.get(field) and peer:
            name = " ".join(str(r[k]) if not isinstance(r[k], list) else "x".join(map(str, r[k]))
                            for k in names)
            out[name] = (r[field], peer, r[peer])
    return out


def slower(last, this):
    """Rows {"section", "row", "own", "vs_peer", "peer"}: nnk's figure this run as a share
    of the last run's (own) and its speed against the peer likewise (vs_peer), for the rows
    in both runs where both fell below DROP."""
    found = []
    for section, (_, _, _, rates) in SECTIONS.items():
        before, now = _rows(last, section), _rows(this, section)
        for name in now.keys() & before.keys():
            (a0, p0_name, p0), (a1, p1_name, p1) = before[name], now[name]
            if p0_name != p1_name:
                continue
            own = a1 / a0 if rates else a0 / a1  # > 1: faster than before
            vs_peer = (a1 / p1) / (a0 / p0) if rates else (p1 / a1) / (p0 / a0)
            if own < DROP and vs_peer < DROP:
                found.append({"section": section, "row": name, "own": own, "vs_peer": vs_peer,
                              "peer": p1_name})
    return found


def markdown(rows, last_when=""):
    since = f" ({last_when})" if last_when else ""
    if not rows:
        return f"No row slower than the last run on this CPU{since}."
    lines = [f"Slower than the last run on this CPU{since}, nnk's own figure and its speed "
             "against the peer beside it both down by more than a tenth:", "",
             "| section | row | nnk, this run / last | against the peer, this run / last |",
             "|---|---|---|---|"]
    lines += [f"| {r['section']} | {r['row']} | {r['own']:.2f}x | {r['vs_peer']:.2f}x ({r['peer']}) |"
              for r in rows]
    return "\n".join(lines)


# section -> (the header its one-thread table starts with in a results file, the JSON
# field of each column the results file names otherwise, the factor from a column's
# unit there to the JSON's: the GPT's milliseconds to seconds)
MARKDOWN = {
    "gemm": ("| dtype | n | scalar", {}, {}),
    "matvec": ("| dtype | shape |", {}, {}),
    "gpt": ("| case | nnk | torch |", {}, {"nnk": 1e-3, "torch": 1e-3}),
    "elementwise": ("| kernel | scalar |", {}, {}),
    "softmax": ("| rows | shape |", {"rows": "kernel"}, {}),
    "overhead": ("| call | nnk |", {}, {}),
    "training": ("| network | nnk |", {"network": "step"}, {}),
}


def _number(cell):
    try:
        return float(cell.replace(",", ""))
    except ValueError:
        return None


def from_markdown(text):
    """The one-thread run of a results file (bench/RESULTS-<cpu>.md) as the JSON's
    sections: each section's first table (the one-thread one; the all-cores tables come
    after it), the fields naming a row as their text (as _rows names a JSON row), the
    figures as numbers, the run's best ISA and date from the lines that name them."""
    best = re.search(r"nnk on (\w+)\.", text)
    date = re.search(r"^- threads: .*?(\d{4}-\d\d-\d\d \d\d:\d\d UTC)", text, re.M)
    run = {"machine": {"isa": best.group(1) if best else "scalar", "date": date.group(1) if date else ""}}
    for section, (header, rename, unit) in MARKDOWN.items():
        head, rows = _header_and_rows(text, header)
        if head is None:
            continue
        names, naming = [rename.get(c, c) for c in head], SECTIONS[section][0]
        run[section] = []
        for cells in rows:
            row = {k: v if k in naming else _number(v) for k, v in zip(names, cells)}
            for k, factor in unit.items():
                if row.get(k) is not None:
                    row[k] *= factor
            run[section].append(row)
    return run


def load(path):
    """A run from its JSON or from its results file (any other name)."""
    with open(path) as f:
        return json.load(f) if path.endswith(".json") else from_markdown(f.read())


def main(argv):
    if len(argv) != 2:
        print("usage: python -m nnk.bench_compare LAST THIS (each a bench JSON or a results file)",
              file=sys.stderr)
        return 2
    last, this = load(argv[0]), load(argv[1])
    print(markdown(slower(last, this), last["machine"].get("date", "")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
