"""The GPT rows of ``python -m nnk bench``: one training step and generating a block, nnk
against the same model in PyTorch eager mode (nanoGPT's structure, the weights copied
across), and the step's FLOPs (the rate they are done at, set beside the C benchmark's
microkernel figure, is the share of the machine's FMA peak reached)."""
import numpy as np

from . import nn, optim
from .linalg import matmul

# The model: GPT(vocab = BPE 512, block 64, 4 layers, 4 heads, 128 wide), batch 16.
SHAPE = dict(vocab_size=512, block_size=64, n_layer=4, n_head=4, n_embd=128)
BATCH = 16


def step_flops(vocab_size, block_size, n_layer, n_head, n_embd, batch):
    """Multiply-adds x 2 of one training step: the projections (3C, C, 4C, 4C wide), the
    causal attention (half of q k^T and of p v) and the tied output layer, forward once and
    backward twice."""
    n, c, t = batch * block_size, n_embd, block_size
    linear = 2 * n * c * (3 * c + c + 4 * c + 4 * c) * n_layer + 2 * n * c * vocab_size
    attention = 2 * 2 * batch * t * t * c * n_layer / 2
    return 3 * (linear + attention)


def _torch_model(torch, dtype):
    """nanoGPT's model in torch.nn, with a key/value cache for generation."""
    F = torch.nn.functional
    V, T, L, H, C = (SHAPE[k] for k in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"))

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = torch.nn.LayerNorm(C), torch.nn.LayerNorm(C)
            self.attn = torch.nn.ModuleDict(dict(c_attn=torch.nn.Linear(C, 3 * C), c_proj=torch.nn.Linear(C, C)))
            self.mlp = torch.nn.ModuleDict(dict(c_fc=torch.nn.Linear(C, 4 * C), c_proj=torch.nn.Linear(4 * C, C)))

        def forward(self, x, cache=None):
            B, n, _ = x.shape
            q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
            q, k, v = (z.view(B, n, H, C // H).transpose(1, 2) for z in (q, k, v))
            if cache is not None:  # keys and values of the positions before
                if "k" in cache:
                    k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
                cache["k"], cache["v"] = k, v
            y = F.scaled_dot_product_attention(q, k, v, is_causal=n > 1)
            x = x + self.attn.c_proj(y.transpose(1, 2).reshape(B, n, C))
            return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))

    class GPT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = torch.nn.ModuleDict(dict(
                wte=torch.nn.Embedding(V, C), wpe=torch.nn.Embedding(T, C),
                h=torch.nn.ModuleList([Block() for _ in range(L)]), ln_f=torch.nn.LayerNorm(C)))
            self.lm_head = torch.nn.Linear(C, V, bias=False)
            self.transformer.wte.weight = self.lm_head.weight

        def forward(self, idx, caches=None, start=0):
            n = idx.shape[1]
            x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(start, start + n))
            for i, b in enumerate(self.transformer.h):
                x = b(x, None if caches is None else caches[i])
            return self.lm_head(self.transformer.ln_f(x))

    return GPT().to(dtype)


def _data():
    rng = np.random.default_rng(0)
    V, T = SHAPE["vocab_size"], SHAPE["block_size"]
    return rng.integers(0, V, (BATCH, T)), rng.integers(0, V, (BATCH, T))


def nnk_step(model):
    """One training step of an nnk GPT on the bench's batch (forward, cross-entropy,
    backward, AdamW), as a function of no arguments."""
    V = SHAPE["vocab_size"]
    idx, tgt = _data()
    opt, lf = optim.AdamW(model.parameters(), lr=1e-4), nn.CrossEntropyLoss()

    def step():
        logits = model(idx)
        lf(logits.reshape(-1, V), tgt.reshape(-1))
        model.zero_grad()
        model.backward(lf.backward().reshape(logits.shape))
        opt.step()

    return step


def torch_step(torch, model):
    """The same step of the PyTorch model."""
    V = SHAPE["vocab_size"]
    idx, tgt = _data()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ti, tt = torch.from_numpy(idx), torch.from_numpy(tgt.reshape(-1))

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(ti).reshape(-1, V), tt).backward()
        opt.step()

    return step


def bench_gpt(side_by_side, torch):
    """Rows (name, nnk seconds, torch seconds or None) of the training step and the
    generation of 63 tokens after a one-token prompt (batch 1, greedy, cached)."""
    nnk_model = nn.GPT(**SHAPE, dtype=np.float32)
    T = SHAPE["block_size"]

    def generate():
        nnk_model.generate(np.zeros((1, 1), np.int64), T - 1, top_k=1)

    step_cases, gen_cases = {"nnk": nnk_step(nnk_model)}, {"nnk": generate}
    if torch is not None:
        tm = _torch_model(torch, torch.float32)
        tm.load_state_dict({k: torch.from_numpy(v) for k, v in nnk_model.state_dict().items()})

        def t_generate():
            with torch.no_grad():
                out, caches = torch.zeros((1, 1), dtype=torch.long), [{} for _ in tm.transformer.h]
                logits = tm(out, caches, 0)
                for pos in range(1, T):
                    nxt = logits[:, -1].argmax(-1, keepdim=True)
                    out = torch.cat([out, nxt], 1)
                    logits = tm(nxt, caches, pos)

        step_cases["torch"], gen_cases["torch"] = torch_step(torch, tm), t_generate
    rows = []
    for name, cases in (("training step, batch 16", step_cases), ("generate 63 tokens, cached", gen_cases)):
        timed = side_by_side(cases, min_time=0.2, repeat=3)
        rows.append({"case": name, "nnk": timed["nnk"], "torch": timed.get("torch")})
    return rows


def step_products():
    """The matrix products of one training step as standalone float32 matmuls: every
    linear's forward x W^T, its dx = dy W and its dW = dy^T x (the four of each block and
    the tied output layer), as (a, b, out) with warm operands, and their FLOPs.  Their
    time through the best GEMM at hand bounds what any step can reach."""
    V, L, C = SHAPE["vocab_size"], SHAPE["n_layer"], SHAPE["n_embd"]
    n = BATCH * SHAPE["block_size"]
    rng = np.random.default_rng(0)
    calls, flops = [], 0
    for out_f, in_f, count in ((3 * C, C, L), (C, C, L), (4 * C, C, L), (C, 4 * C, L), (V, C, 1)):
        x, w, dy = (rng.standard_normal(s).astype(np.float32) for s in ((n, in_f), (out_f, in_f), (n, out_f)))
        for a, b in ((x, w.T), (dy, w), (dy.T, x)):
            calls += [(a, b, np.empty((a.shape[0], b.shape[1]), np.float32))] * count
            flops += 2 * a.shape[0] * a.shape[1] * b.shape[1] * count
    return calls, flops


def bench_step_products(side_by_side):
    """{"nnk", "numpy": seconds for all of step_products() through nnk.matmul and through
    NumPy's matmul (its BLAS), side by side; "flops": theirs}."""
    calls, flops = step_products()

    def run(mm):
        def all_products():
            for a, b, out in calls:
                mm(a, b, out=out)
        return all_products

    return {**side_by_side({"nnk": run(matmul), "numpy": run(np.matmul)}, min_time=0.2, repeat=3),
            "flops": flops}


# A child process's training steps, its memory read around them: the peak resident set
# (ru_maxrss) over three steps above what the process held before the first (library
# imported, model and optimiser built), in MiB.  nnk keeps a step's activations until the
# next forward and allocates Adam's moments up front; PyTorch frees its graph after
# backward and allocates the moments at the first step: both are inside the peak.
_MEMORY_CHILD = """
import resource, sys
lib = sys.argv[1]


def high_water():  # this process's peak resident set, MiB (VmHWM: reset by exec, unlike
    with open("/proc/self/status") as f:  # ru_maxrss, which keeps the forking parent's)
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024


from nnk import bench_gpt as g
if lib == "nnk":
    import numpy as np, nnk
    nnk.set_num_threads(1)
    step = g.nnk_step(nnk.nn.GPT(**g.SHAPE, dtype=np.float32))
else:
    import torch
    torch.set_num_threads(1)
    step = g.torch_step(torch, g._torch_model(torch, torch.float32))
with open("/proc/self/statm") as f:
    resting = int(f.read().split()[1]) * resource.getpagesize() / 2**20
for _ in range(3):
    step()
print(f"{high_water() - resting:.1f}")
"""


def step_memory(libraries=("nnk", "torch")):
    """{library: MiB} training takes above the built model, each measured in a process of
    its own (Linux: /proc/self/statm and VmHWM); None where it could not be measured."""
    import subprocess
    import sys
    out = {}
    for lib in libraries:
        try:
            r = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, lib], capture_output=True,
                               text=True, timeout=600)
            out[lib] = float(r.stdout.strip()) if r.returncode == 0 else None
        except (OSError, ValueError, subprocess.TimeoutExpired):
            out[lib] = None
    return out
