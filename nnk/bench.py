"""``python -m nnk bench``: nnk's kernels on every ISA beside NumPy and PyTorch.

Contenders are measured in turns (best round of five each), one thread each by default
(nnk, OpenBLAS through threadpoolctl when installed, torch.set_num_threads), ratios
beside absolute figures, the machine named at the top.  ``--json FILE`` keeps the raw results, ``--plot FILE``
draws them.  The C-level harness (bench/*.c, ``make bench``) measures without Python.
"""
import json
import platform
import time
import timeit

import numpy as np

from . import _dispatch, nn, optim
from .elementwise import exp, gelu, relu, sigmoid, tanh
from .bench_ddp import bench_ddp
from .bench_gpt import BATCH, SHAPE, bench_gpt, bench_step_products, step_flops, step_memory
from .linalg import linear, matmul
from .softmax import log_softmax, softmax


def _calls_per_run(timer, min_time):
    """timeit's autorange: enough calls for a run of at least min_time seconds."""
    number = 1
    while True:
        t = timer.timeit(number)
        if t >= min_time or number >= 1 << 20:
            return number
        number *= 2 if t == 0 else max(2, int(min_time / t) + 1)


def _side_by_side(cases, min_time=0.05, repeat=5):
    """Best seconds per call of each case, ``{name: fn}`` or ``{name: (fn, isa)}``.

    The cases take turns, one run each per round, and each keeps its best round: a noisy
    neighbour on a shared machine slows all of them alike instead of one (the ratios
    are what the tables report).  A case with an ISA runs on that ISA's kernels."""
    timed = {}
    for name, case in cases.items():
        fn, isa = case if isinstance(case, tuple) else (case, None)
        with _dispatch.use_isa(isa or _dispatch.get_isa()):
            fn()  # warm-up
            timer = timeit.Timer(fn)
            timed[name] = (timer, _calls_per_run(timer, min_time), isa)
    best = dict.fromkeys(timed, float("inf"))
    for _ in range(repeat):
        for name, (timer, number, isa) in timed.items():
            _settle()
            with _dispatch.use_isa(isa or _dispatch.get_isa()):
                best[name] = min(best[name], timer.timeit(number) / number)
    return best


def _settle():
    """With several threads, a pause before each contender's run: the one before may
    leave worker threads spinning (OpenBLAS's spin about 0.1 s after a call), which
    would take the cores from the next contender's own threads."""
    if _dispatch.get_num_threads() > 1:
        time.sleep(0.25)


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


class _Limits:
    """One thread for every library (or all cores) for the duration."""

    def __init__(self, threads):
        self.threads = threads

    def __enter__(self):
        self.saved = _dispatch.get_num_threads()
        _dispatch.set_num_threads(self.threads)
        self.pool = None
        try:
            from threadpoolctl import threadpool_limits
            self.pool = threadpool_limits(self.threads)
        except ImportError:
            pass
        torch = _torch()
        if torch is not None:
            self.torch_saved = torch.get_num_threads()
            torch.set_num_threads(self.threads)
        return self

    def __exit__(self, *exc):
        _dispatch.set_num_threads(self.saved)
        if self.pool is not None:
            self.pool.unregister()
        torch = _torch()
        if torch is not None:
            torch.set_num_threads(self.torch_saved)


def _isas():
    return _dispatch.cpu_info()["available"]


def bench_gemm(sizes, dtypes=("float32", "float64")):
    torch = _torch()
    rows = []
    for dt in dtypes:
        for n in sizes:
            a = np.random.default_rng(0).standard_normal((n, n)).astype(dt)
            b = np.random.default_rng(1).standard_normal((n, n)).astype(dt)
            c = np.empty((n, n), dt)
            cases = {isa: (lambda: matmul(a, b, out=c), isa) for isa in _isas()
                     if n <= 512 or isa != "scalar"}  # the reference takes minutes above
            cases["numpy"] = lambda: np.matmul(a, b, out=c)
            if torch is not None:
                ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)
                cases["torch"] = lambda: torch.matmul(ta, tb, out=tc)
            row = {"dtype": dt, "n": n, "scalar": float("nan")}
            row.update({k: 2.0 * n**3 / t / 1e9 for k, t in _side_by_side(cases).items()})
            rows.append(row)
    return rows


# The shapes a batch of one meets: dot products, W x and x W, and a skinny product.
MATVEC_SHAPES = {"dot 1e5": ((100_000,), (100_000,)), "dot 1e7": ((10**7,), (10**7,)),
                 "W x 2000x2000": ((2000, 2000), (2000,)), "x W 2000x2000": ((2000,), (2000, 2000)),
                 "W x 8000x512": ((8000, 512), (512,)), "x W 8000x512": ((8000,), (8000, 512)),
                 "2000x2000 @ 2000x4": ((2000, 2000), (2000, 4))}


def bench_matvec(shapes, dtypes=("float32", "float64")):
    """matmul of the shapes above, nnk on each SIMD ISA against NumPy (microseconds)."""
    rows = []
    for dt in dtypes:
        for name, (sa, sb) in shapes.items():
            a = np.random.default_rng(0).standard_normal(sa).astype(dt)
            b = np.random.default_rng(1).standard_normal(sb).astype(dt)
            cases = {isa: (lambda: matmul(a, b), isa) for isa in _isas() if isa != "scalar"}
            cases["numpy"] = lambda: np.matmul(a, b)
            row = {"dtype": dt, "shape": name}
            row.update({k: t * 1e6 for k, t in _side_by_side(cases).items()})
            rows.append(row)
    return rows


GELU_WIDE = "gelu, x ~ N(0, 3^2)"  # the elementwise row of GELU on heavier-tailed inputs


def bench_elementwise(n, dtype="float32", names=None):
    torch = _torch()
    x = np.random.default_rng(2).uniform(-5, 5, n).astype(dtype)
    xw = (3 * np.random.default_rng(4).standard_normal(n)).astype(dtype)
    out = np.empty_like(x)
    tx, tout = (torch.from_numpy(x), torch.from_numpy(out)) if torch is not None else (None, None)
    txw = torch.from_numpy(xw) if torch is not None else None
    cases = {
        "exp": (lambda: exp(x, out=out), lambda: np.exp(x, out=out),
                torch and (lambda: torch.exp(tx, out=tout))),
        "tanh": (lambda: tanh(x, out=out), lambda: np.tanh(x, out=out),
                 torch and (lambda: torch.tanh(tx, out=tout))),
        "sigmoid": (lambda: sigmoid(x, out=out), lambda: np.divide(1, 1 + np.exp(-x), out=out),
                    torch and (lambda: torch.sigmoid(tx, out=tout))),
        "gelu": (lambda: gelu(x, out=out), None,
                 torch and (lambda: torch.nn.functional.gelu(tx))),
        # heavier tails, a tenth of them beyond |x| = 5, where GELU's far path takes them
        GELU_WIDE: (lambda: gelu(xw, out=out), None,
                    torch and (lambda: torch.nn.functional.gelu(txw))),
        "relu": (lambda: relu(x, out=out), lambda: np.maximum(x, 0, out=out),
                 torch and (lambda: torch.relu(tx))),
    }
    rows = []
    for name, (ours, numpy_fn, torch_fn) in cases.items():
        if names is not None and name not in names:
            continue
        contenders = {isa: (ours, isa) for isa in _isas()}
        if numpy_fn is not None:
            contenders["numpy"] = numpy_fn
        if torch_fn:
            contenders["torch"] = torch_fn
        row = {"kernel": name if dtype == "float32" else f"{name} ({dtype})", "n": n}
        row.update({k: t / n * 1e9 for k, t in _side_by_side(contenders).items()})  # ns/element
        rows.append(row)
    return rows


def bench_softmax(shape, kind="softmax"):
    torch = _torch()
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    ours = softmax if kind == "softmax" else log_softmax

    def numpy_rows():
        z = x - x.max(axis=-1, keepdims=True)
        if kind == "log_softmax":
            return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    cases = {isa: (lambda: ours(x), isa) for isa in _isas()}
    cases["numpy"] = numpy_rows
    if torch is not None:
        tx = torch.from_numpy(x)
        theirs = torch.softmax if kind == "softmax" else torch.log_softmax
        cases["torch"] = lambda: theirs(tx, dim=-1)
    copy = np.empty_like(x)
    cases["copy"] = lambda: np.copyto(copy, x)  # one read + one write of memory
    row = {"kernel": kind, "shape": list(shape)}
    row.update({k: t * 1e6 for k, t in _side_by_side(cases).items()})  # microseconds
    return row


LARGE = 1 << 24  # elements: 64 MiB of float32, far beyond the caches


def bench_large_threads():
    """exp, tanh and softmax on 16M float32: one thread against all of them (nnk's own
    threads; the split is static and gives the same bits).  relu first: a map with next
    to no arithmetic, the memory's floor for any map of that size (its two-thread time
    is the least a map's can be).  PyTorch's one and all threads beside each, side by
    side in the same rounds: the peer's scaling on the same machine and memory."""
    from . import get_num_threads, set_num_threads

    torch = _torch()
    x = np.random.default_rng(8).uniform(-5, 5, LARGE).astype(np.float32)
    out = np.empty_like(x)
    rows = x.reshape(4096, -1)
    cases = {"relu (memory floor)": lambda: relu(x, out=out),
             "exp": lambda: exp(x, out=out), "tanh": lambda: tanh(x, out=out),
             "softmax 4096 rows": lambda: softmax(rows, out=out.reshape(rows.shape))}
    theirs = {}
    if torch is not None:
        tx, tout = torch.from_numpy(x), torch.from_numpy(out)
        trows = tx.reshape(rows.shape)
        theirs = {"relu (memory floor)": lambda: torch.clamp_min(tx, 0, out=tout),
                  "exp": lambda: torch.exp(tx, out=tout), "tanh": lambda: torch.tanh(tx, out=tout),
                  "softmax 4096 rows": lambda: torch.softmax(trows, dim=-1)}
    import os

    before = get_num_threads()
    torch_before = torch.get_num_threads() if torch is not None else None
    every = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    result = []
    try:
        for name, fn in cases.items():
            def on(k, fn=fn):
                def call():
                    set_num_threads(k)
                    fn()
                return call

            def torch_on(k, fn=theirs.get(name)):
                def call():
                    torch.set_num_threads(k)
                    fn()
                return call
            contenders = {"one": on(1), "all": on(every)}
            if name in theirs:
                contenders.update({"torch_one": torch_on(1), "torch_all": torch_on(every)})
            # five rounds, as the other rows: with three, one busy moment of a shared
            # host's other guests could set a two-thread row (Zen 3: softmax 1.55-1.78x
            # in four bench runs; 1.88-1.99x in seven processes, alone or after the
            # bench's other sections)
            times = _side_by_side(contenders, min_time=0.1, repeat=5)
            result.append({"kernel": name, "n": LARGE, "threads": every,
                           **{f"{k}_ms": t * 1e3 for k, t in times.items()}})
    finally:
        set_num_threads(before)
        if torch is not None:
            torch.set_num_threads(torch_before)
    return result


def bench_overhead():
    """Calls where the per-call cost is all there is: tiny products, a sheet's 2x2 layer
    and one sample through a 256 -> 256 layer (nnk.linear against ``W @ x + b``), and the
    2x2 layer as a module (nn.Linear's forward with gradients on, which keeps x for
    backward, against ``W @ x + b`` and torch.nn.Linear's, which records its graph)."""
    torch = _torch()
    rng = np.random.default_rng(4)
    a = rng.standard_normal((4, 4))
    v = rng.standard_normal(4)
    calls = {"matmul 4x4": {"nnk": lambda: matmul(a, a), "numpy": lambda: a @ a},
             "relu 4": {"nnk": lambda: relu(v), "numpy": lambda: np.maximum(v, 0)}}
    layers = {"linear 2x2, W x + b": (2, np.float64), "linear 256->256, one sample": (256, np.float32)}
    for name, (n, dt) in layers.items():
        W, x, b = (rng.standard_normal(s).astype(dt) for s in ((n, n), n, n))
        calls[name] = {"nnk": lambda W=W, x=x, b=b: linear(x, W, b),
                       "numpy": lambda W=W, x=x, b=b: W @ x + b}
        if torch is not None:
            tW, tx, tb = torch.from_numpy(W), torch.from_numpy(x), torch.from_numpy(b)
            calls[name]["torch"] = lambda tW=tW, tx=tx, tb=tb: torch.nn.functional.linear(tx, tW, tb)
        if n == 2:
            layer = nn.Linear.from_weights(W, b)
            module = calls["nn.Linear 2x2 forward, W x + b"] = {
                "nnk": lambda layer=layer, x=x: layer(x), "numpy": lambda W=W, x=x, b=b: W @ x + b}
            if torch is not None:
                tlayer = torch.nn.Linear(n, n).to(torch.float64)
                with torch.no_grad():
                    tlayer.weight.copy_(torch.from_numpy(W))
                    tlayer.bias.copy_(torch.from_numpy(b))
                module["torch"] = lambda tlayer=tlayer, tx=torch.from_numpy(x): tlayer(tx)
    if torch is not None:
        ta, tv = torch.from_numpy(a), torch.from_numpy(v)
        calls["matmul 4x4"]["torch"] = lambda: ta @ ta
        calls["relu 4"]["torch"] = lambda: torch.relu(tv)
    return [{"call": call, **{k: t * 1e6 for k, t in _side_by_side(cases).items()}}
            for call, cases in calls.items()]


def _nnk_step(net, loss_fn, opt, X, Y):
    loss_fn(net(X), Y)
    net.zero_grad()
    net.backward(loss_fn.backward(), input_grad=False)  # like torch: X needs no gradient
    opt.step()


def bench_training():
    """One SGD step: the notes' 2-3-4-1 net on 5 points (MSE, float64); a 784-256-10
    ReLU MLP, batch 64, cross-entropy, in float32 and float64."""
    torch = _torch()
    rows = []
    rng = np.random.default_rng(6)
    X784, Y784 = rng.standard_normal((64, 784)), rng.integers(0, 10, 64)
    cases = [("2-3-4-1, 5 points, MSE", [2, 3, 4, 1], rng.standard_normal((5, 2)),
              rng.standard_normal((5, 1)), nn.Identity, nn.MSELoss)]
    cases += [(f"784-256-10, batch 64, CE, {dt}", [784, 256, 10], X784.astype(dt), Y784, nn.ReLU,
               nn.CrossEntropyLoss) for dt in ("float32", "float64")]
    for name, sizes, X, Y, act, loss_cls in cases:
        layers = []
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            layers.append(nn.Linear(a, b, dtype=X.dtype))
            if i < len(sizes) - 2:
                layers.append(act())
        net = nn.Sequential(*layers)
        opt = optim.SGD(net.parameters(), lr=1e-3)
        loss_fn = loss_cls()
        cases = {"nnk": lambda: _nnk_step(net, loss_fn, opt, X, Y)}
        if torch is not None:
            tl = []
            for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
                tl.append(torch.nn.Linear(a, b))
                if i < len(sizes) - 2:
                    tl.append(torch.nn.ReLU() if act is nn.ReLU else torch.nn.Identity())
            tnet = torch.nn.Sequential(*tl).to(torch.float32 if X.dtype == np.float32 else torch.float64)
            topt = torch.optim.SGD(tnet.parameters(), lr=1e-3)
            tloss = torch.nn.MSELoss() if loss_cls is nn.MSELoss else torch.nn.CrossEntropyLoss()
            tX, tY = torch.from_numpy(X), torch.from_numpy(Y)

            def torch_step():
                topt.zero_grad()
                tloss(tnet(tX), tY).backward()
                topt.step()

            cases["torch"] = torch_step
        rows.append({"step": name, **{k: t * 1e6 for k, t in _side_by_side(cases).items()}})
    return rows


def bench_rnn(B=32, T=64, I=64, H=128):
    """tanh RNN forward + backward through time, float32, nnk vs torch.nn.RNN."""
    torch = _torch()
    from .nn import RNN

    rng = np.random.default_rng(7)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    g = rng.standard_normal((B, T, H)).astype(np.float32)
    rnn = RNN(I, H, dtype=np.float32)

    def ours():
        rnn(x)
        rnn.backward(g)

    cases = {"nnk": ours}
    if torch is not None:
        t_rnn = torch.nn.RNN(I, H, batch_first=True)
        tx, tg = torch.from_numpy(x).requires_grad_(), torch.from_numpy(g)

        def theirs():
            y, _ = t_rnn(tx)
            y.backward(tg)

        cases["torch"] = theirs
    return {"model": f"RNN B={B} T={T} I={I} H={H}, float32",
            **{k: t * 1e6 for k, t in _side_by_side(cases).items()}}


# One process's timed loop, run as a child: median milliseconds per call of a workload,
# with the library's default threads (sharing the cores is the point).
_SHARING_CHILD = """
import sys, time, numpy as np
lib, kind, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
rng = np.random.default_rng(0)
if kind == "gemm":
    a = rng.standard_normal((128, 784)).astype(np.float32)
    b = rng.standard_normal((784, 256)).astype(np.float32)
    if lib == "nnk":
        import nnk
        f = lambda: nnk.matmul(a, b)
    else:
        f = lambda: a @ b
else:
    x = rng.standard_normal(4_000_000).astype(np.float32)
    y = np.empty_like(x)
    if lib == "nnk":
        import nnk
        f = lambda: nnk.tanh(x, out=y)
    else:
        f = lambda: np.tanh(x, out=y)
f()
times, end = [], time.perf_counter() + seconds
while time.perf_counter() < end:
    t = time.perf_counter()
    f()
    times.append(time.perf_counter() - t)
print(np.median(times) * 1e3)
"""


def bench_sharing(seconds=2.0, rounds=3):
    """Two processes on the same cores at once against one alone (what two notebooks or
    two MPI ranks do): per workload and library, the best of ``rounds`` alternating
    rounds of each, in milliseconds per call."""
    import subprocess
    import sys

    def procs(lib, kind, count):
        cmd = [sys.executable, "-c", _SHARING_CHILD, lib, kind, str(seconds)]
        running = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(count)]
        return [float(p.communicate()[0]) for p in running]

    rows = []
    for kind, label in (("gemm", "(128x784)(784x256) float32 matmul"), ("tanh", "tanh of 4M float32")):
        for lib in ("nnk", "numpy"):
            alone, both = float("inf"), float("inf")
            for _ in range(rounds):
                alone = min(alone, procs(lib, kind, 1)[0])
                both = min(both, max(procs(lib, kind, 2)))  # the slower of the two
            rows.append({"workload": label, "library": lib, "alone_ms": alone, "two_ms": both})
    return rows


def run(quick=False, threads=1):
    info = _dispatch.cpu_info()
    torch = _torch()
    results = {"machine": {**info, "python": platform.python_version(), "numpy": np.__version__,
                           "torch": getattr(torch, "__version__", None), "threads": threads,
                           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}}
    with _Limits(threads):
        results["gemm"] = bench_gemm([4, 64, 256] if quick else [4, 16, 64, 256, 512, 1024, 2048])
        results["matvec"] = bench_matvec(
            {k: v for k, v in MATVEC_SHAPES.items() if not quick or "1e7" not in k})
        results["gpt"] = bench_gpt(_side_by_side, _torch())
        results["gpt_products"] = bench_step_products(_side_by_side)
        if not quick:
            results["gpt_memory"] = step_memory()
        n = 1 << 14 if quick else 1 << 20
        results["elementwise"] = (bench_elementwise(n) +
                                  bench_elementwise(n, "float64", ("exp", "tanh", "sigmoid", "gelu")))
        shapes = [(64, 1000)] + ([] if quick else [(4096, 4096)])
        results["softmax"] = [bench_softmax(shape, kind) for shape in shapes
                              for kind in ("softmax", "log_softmax")]
        if not quick:
            results["large"] = bench_large_threads()
        results["overhead"] = bench_overhead()
        results["training"] = bench_training()
        results["rnn"] = bench_rnn(T=16 if quick else 64)
    results["sharing"] = bench_sharing(seconds=0.5 if quick else 2.0, rounds=1 if quick else 3)
    results["ddp"] = bench_ddp(quick=quick)
    return results


def _ratio(a, b):
    return f"{a / b:.2f}x" if a and b and np.isfinite(a) and np.isfinite(b) else "-"


def _num(v, fmt="{:.1f}"):
    return fmt.format(v) if isinstance(v, (int, float)) and np.isfinite(v) else "-"


def markdown(results):
    m = results["machine"]
    isas = list(m["available"])
    simd = m.get("best", isas[-1])  # nnk as a user gets it
    fast = isas[1:]  # every SIMD ISA gets its own speed-up column

    def speedups(r, higher_is_better):
        return " | ".join(_ratio(r.get(i), r.get("scalar")) if higher_is_better else
                          _ratio(r.get("scalar"), r.get(i)) for i in fast)

    speedup_heads = " | ".join(f"{i}/scalar" for i in fast)
    lines = ["# nnk benchmarks", "",
             f"- machine: {m['cpu']} ({m['arch']}), features: {' '.join(m['features'])}",
             f"- ISAs: {', '.join(isas)}; SLEEF {m['sleef']}; NumPy {m['numpy']}; "
             f"PyTorch {m['torch'] or 'not installed'}; Python {m['python']}",
             f"- threads: {m['threads']} for every library; {m['date']}",
             "- each row's contenders take turns, five rounds, best round each (side by side)", ""]
    lines += ["## GEMM (GFLOP/s, higher is better)", "",
              f"nnk/numpy and nnk/torch: nnk on {simd}.", "",
              "| dtype | n | " + " | ".join(isas) + f" | numpy | torch | {speedup_heads} | nnk/numpy | nnk/torch |",
              "|---|---|" + "---|" * (len(isas) + len(fast) + 4)]
    for r in results["gemm"]:
        lines.append(f"| {r['dtype']} | {r['n']} | " + " | ".join(_num(r.get(i)) for i in isas) +
                     f" | {_num(r.get('numpy'))} | {_num(r.get('torch'))} | {speedups(r, True)}"
                     f" | {_ratio(r.get(simd), r.get('numpy'))} | {_ratio(r.get(simd), r.get('torch'))} |")
    if results.get("matvec"):
        simd_isas = [i for i in isas if i != "scalar"]
        lines += ["", "## Matrix-vector shapes (microseconds, lower is better)", "",
                  f"nnk/numpy: speed of nnk on {simd} relative to NumPy's.", "",
                  "| dtype | shape | " + " | ".join(simd_isas) + " | numpy | nnk/numpy |",
                  "|---|---|" + "---|" * (len(simd_isas) + 2)]
        for r in results["matvec"]:
            lines.append(f"| {r['dtype']} | {r['shape']} | " + " | ".join(_num(r.get(i)) for i in simd_isas) +
                         f" | {_num(r.get('numpy'))} | {_ratio(r.get('numpy'), r.get(simd))} |")
    if results.get("gpt"):
        flops = step_flops(**SHAPE, batch=BATCH)
        lines += ["", "## GPT, float32 (milliseconds, lower is better)", "",
                  f"GPT(vocab {SHAPE['vocab_size']}, block {SHAPE['block_size']}, {SHAPE['n_layer']} layers, "
                  f"{SHAPE['n_head']} heads, {SHAPE['n_embd']} wide), nanoGPT's structure in both; "
                  f"the step is forward, cross-entropy, backward and AdamW on batch {BATCH} "
                  f"({flops / 1e9:.2f} GFLOP); generation is greedy, one token at a time, batch 1, "
                  "both with a key/value cache.", "",
                  "| case | nnk | torch | torch/nnk | nnk GFLOP/s |", "|---|---|---|---|---|"]
        for r in results["gpt"]:
            rate = f"{flops / r['nnk'] / 1e9:.1f}" if r["case"].startswith("training") else "-"
            lines.append(f"| {r['case']} | {_num(r['nnk'] * 1e3)} | {_num((r.get('torch') or float('nan')) * 1e3)} | "
                         f"{_ratio(r.get('torch'), r['nnk'])} | {rate} |")
        prod, train = results.get("gpt_products"), results["gpt"][0]
        if prod:
            pflops = prod["flops"]
            budget = f"{_num(train['torch'] / 1.5 * 1e3)} ms" if train.get("torch") else "-"
            lines += ["", f"The step's matrix products alone ({pflops / 1e9:.2f} of its {flops / 1e9:.2f} GFLOP: "
                      "each linear's forward, dx and dW as standalone matmuls, operands warm): "
                      f"nnk {_num(prod['nnk'] * 1e3)} ms ({pflops / prod['nnk'] / 1e9:.1f} GFLOP/s), "
                      f"NumPy's BLAS {_num(prod['numpy'] * 1e3)} ms ({pflops / prod['numpy'] / 1e9:.1f} GFLOP/s); "
                      f"a whole step 1.5x as fast as PyTorch's would take {budget}."]
        mem = results.get("gpt_memory")
        if mem:
            lines += ["", "Peak memory of training (three steps, one thread, each library in a "
                      "process of its own, resident set above the built model and optimiser): "
                      f"nnk {_num(mem.get('nnk'))} MiB, torch {_num(mem.get('torch'))} MiB."]
    lines += ["", f"## Elementwise, n = {results['elementwise'][0]['n']:,} (ns/element, lower is better)", "",
              f"float32 unless named; vs numpy and vs torch: speed of nnk on {simd} relative to theirs.", "",
              "| kernel | " + " | ".join(isas) + f" | numpy | torch | {speedup_heads} | vs numpy | vs torch |",
              "|---|" + "---|" * (len(isas) + len(fast) + 4)]
    for r in results["elementwise"]:
        lines.append(f"| {r['kernel']} | " + " | ".join(_num(r.get(i), "{:.2f}") for i in isas) +
                     f" | {_num(r.get('numpy'), '{:.2f}')} | {_num(r.get('torch'), '{:.2f}')} | "
                     f"{speedups(r, False)} | {_ratio(r.get('numpy'), r.get(simd))} | "
                     f"{_ratio(r.get('torch'), r.get(simd))} |")
    lines += ["", "## Softmax rows, float32 (microseconds, lower is better)", "",
              "| rows | shape | " + " | ".join(isas) + f" | numpy | torch | copy | {speedup_heads} | vs torch | nnk / copy |",
              "|---|---|" + "---|" * (len(isas) + len(fast) + 5)]
    for r in results["softmax"]:
        lines.append(f"| {r['kernel']} | {r['shape'][0]}x{r['shape'][1]} | " + " | ".join(_num(r.get(i)) for i in isas) +
                     f" | {_num(r.get('numpy'))} | {_num(r.get('torch'))} | {_num(r.get('copy'))} | "
                     f"{speedups(r, False)} | {_ratio(r.get('torch'), r.get(simd))} | {_ratio(r.get(simd), r.get('copy'))} |")
    if results.get("large"):
        lines += ["", f"## Large arrays, one thread and all ({results['large'][0]['threads']}), float32 (milliseconds)", "",
                  "| kernel | n | one thread | all threads | speed-up | torch, one | torch, all | torch's speed-up |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['kernel']} | {r['n']:,} | {_num(r['one_ms'], '{:.2f}')} | {_num(r['all_ms'], '{:.2f}')} | "
                  f"{_ratio(r['one_ms'], r['all_ms'])} | {_num(r.get('torch_one_ms'), '{:.2f}')} | "
                  f"{_num(r.get('torch_all_ms'), '{:.2f}')} | {_ratio(r.get('torch_one_ms'), r.get('torch_all_ms'))} |"
                  for r in results["large"]]
    lines += ["", "## Per-call overhead (microseconds)", "", "| call | nnk | numpy | torch | numpy/nnk |",
              "|---|---|---|---|---|"]
    for r in results["overhead"]:
        lines.append(f"| {r['call']} | {_num(r['nnk'], '{:.2f}')} | {_num(r['numpy'], '{:.2f}')} | "
                     f"{_num(r.get('torch'), '{:.2f}')} | {_ratio(r['numpy'], r['nnk'])} |")
    lines += ["", "## One training step (microseconds)", "", "| network | nnk | torch | torch/nnk |",
              "|---|---|---|---|"]
    for r in results["training"]:
        lines.append(f"| {r['step']} | {_num(r['nnk'])} | {_num(r.get('torch'))} | {_ratio(r.get('torch'), r['nnk'])} |")
    r = results["rnn"]
    if results.get("sharing"):
        lines += ["", "## Two processes at once / alone (milliseconds per call, default threads)", "",
                  f"Each process uses every CPU it may ({m.get('threads_from', 'default')}); "
                  "best of alternating rounds, the slower process of the pair.", "",
                  "| workload | library | alone | two at once | two/alone |", "|---|---|---|---|---|"]
        lines += [f"| {r['workload']} | {r['library']} | {_num(r['alone_ms'], '{:.3f}')} | "
                  f"{_num(r['two_ms'], '{:.3f}')} | {_ratio(r['two_ms'], r['alone_ms'])} |"
                  for r in results["sharing"]]
    if results.get("ddp"):
        lines += ["", "## Data-parallel training over MPI (milliseconds per step, float32)", "",
                  "nnk.train over nnk.distributed.DistributedDataParallel, one thread per rank, "
                  "the global batch split across the ranks (mpiexec on this machine, loopback); "
                  "waiting: the share of a two-rank step spent waiting on gradients after backward.", "",
                  "| model | one rank | two ranks | speed-up | waiting |", "|---|---|---|---|---|"]
        lines += [f"| {r['model']} | {_num(r['one_ms'], '{:.2f}')} | {_num(r['two_ms'], '{:.2f}')} | "
                  f"{_ratio(r['one_ms'], r['two_ms'])} | "
                  f"{'-' if r['wait_share'] is None else format(r['wait_share'] * 100, '.1f') + ' %'} |"
                  for r in results["ddp"]]
    lines += ["", "## RNN forward + backward through time (microseconds)", "",
              "| model | nnk | torch | torch/nnk |", "|---|---|---|---|",
              f"| {r['model']} | {_num(r['nnk'])} | {_num(r.get('torch'))} | {_ratio(r.get('torch'), r['nnk'])} |"]
    return "\n".join(lines) + "\n"


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for dt in ("float32", "float64"):
        rows = [r for r in results["gemm"] if r["dtype"] == dt]
        for key in list(results["machine"]["available"]) + ["numpy", "torch"]:
            if any(key in r for r in rows):
                ax1.plot([r["n"] for r in rows], [r.get(key, np.nan) for r in rows], marker="o",
                         label=f"{key} {dt}")
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("n (square GEMM)")
    ax1.set_ylabel("GFLOP/s")
    ax1.legend(fontsize=7)
    isas = results["machine"]["available"]
    elementwise = [r for r in results["elementwise"] if "(" not in r["kernel"]]  # float32
    names = [r["kernel"] for r in elementwise]
    width = 0.8 / max(1, len(isas) - 1)
    for j, isa in enumerate(isas[1:]):
        ax2.bar([i + j * width for i in range(len(names))],
                [r["scalar"] / r[isa] for r in elementwise], width, label=isa)
    ax2.set_xticks([i + width * (len(isas) - 2) / 2 for i in range(len(names))], names)
    ax2.set_ylabel("speed-up over scalar")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(args):
    results = run(quick=args.quick, threads=args.threads)
    text = markdown(results)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
    if args.plot:
        plot(results, args.plot)
    return 0
