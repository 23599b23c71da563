"""nnk's rows of one ``make bench`` run against the last run kept for the same CPU: which
got slower.

``python -m nnk.bench_compare LAST.json THIS.json``: the one-thread ``nnk bench --json``
of both runs.  These machines are shared and their speed drifts from run to run, so a
row counts as slower only when both of its figures fell by more than a tenth: nnk's own
(time or rate) and nnk's speed against the peer timed beside it in the same run.  A busy
machine slows nnk and its peer alike (the ratio holds); a peer's lucky run moves the
ratio alone; a slower kernel moves both.
"""
import json
import sys

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


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        last = json.load(f)
    with open(argv[1]) as f:
        this = json.load(f)
    print(markdown(slower(last, this), last["machine"].get("date", "")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
