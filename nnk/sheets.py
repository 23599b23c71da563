"""The course documents' exercises as data, solved through nnk's kernels.

Each exercise holds its given values, a list of steps (each one quantity computed from
named inputs by nnk kernels, as the document works it), and the values the document
prints, transcribed as printed (strings, so their number of decimals is known).

``answer_key()`` solves everything; ``check()`` compares every printed value with the
computed one twice: from the true inputs (is the printed value right?) and from the
document's own printed inputs to that step (is the step itself done right, or is an
earlier error carried forward?).
"""
import json
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from . import _C
from .elementwise import relu, tanh
from .linalg import gemm, linear, lstsq, matmul
from .losses import cross_entropy, mse_loss_grad
from .softmax import softmax


@dataclass
class Step:
    name: str        # the quantity, e.g. "Z1"
    inputs: tuple    # names of givens or earlier quantities
    fn: object       # fn(*inputs) -> ndarray, through nnk's kernels
    label: str       # how the document writes it


@dataclass
class Exercise:
    doc: str         # seed document, e.g. "003"
    id: str          # e.g. "1.4"
    title: str
    given: dict
    steps: list
    printed: dict = field(default_factory=dict)  # quantity -> printed values (strings)
    note: str = ""

    def solve(self, overrides=None):
        """All quantities in order; ``overrides`` replaces inputs (e.g. printed values)."""
        values = OrderedDict((k, np.asarray(v, dtype=np.float64)) for k, v in self.given.items())
        for step in self.steps:
            args = [(overrides or {}).get(n, values[n]) for n in step.inputs]
            values[step.name] = np.asarray(step.fn(*args), dtype=np.float64)
        return values


def _a(*rows):
    return np.array(rows, dtype=np.float64)


def _axpy_copy(a, x, y):
    """y + a x through the axpy kernel (the SGD update W - lr dW)."""
    out = np.array(y, dtype=np.float64)
    _C.axpy(float(a), np.ascontiguousarray(x, dtype=np.float64), out)
    return out


# ---- 000: week 4 exercise sheet -------------------------------------------------------

SHEET_1 = Exercise(
    "000", "1.1-1.3", "A single layer with an activation function",
    given={"W": _a([1, -2], [3, 1]), "x": _a(2, -1), "b": _a(0, -2)},
    steps=[
        Step("z", ("x", "W", "b"), linear, "1.1  z = W x + b"),
        Step("h_relu", ("z",), relu, "1.2  h = ReLU(z)"),
        Step("h_tanh", ("z",), tanh, "1.3  h = tanh(z)"),
    ])

SHEET_2 = Exercise(
    "000", "2.1-2.3", "A three-layer composition f3(f2(f1(x)))",
    given={"W": _a([1, 0], [0, -1]), "b": _a(-1, 2), "P": _a([1, 3]), "x": _a(3, 5)},
    steps=[
        Step("f1", ("x", "W", "b"), linear, "2.1  f1(x) = W x + b"),
        Step("f2", ("f1",), relu, "2.2  f2(f1(x)) = ReLU(f1(x))"),
        Step("f", ("P", "f2"), matmul, "2.3  f(x) = P f2(f1(x))"),
    ])

SHEET_3 = Exercise(
    "000", "3.1-3.4", "From words to probabilities",
    given={"ones": _a(1, 1), "E_seq": _a([1, 0], [1, 1]), "M": _a([2, -1], [1, 1])},
    steps=[
        Step("s", ("ones", "E_seq"), matmul, "3.1  s = e(cat) + e(mouse)"),
        Step("logits", ("M", "s"), matmul, "3.2  logits = M s  (dog, mouse)"),
        Step("p", ("logits",), softmax, "3.3-3.4  p = softmax(logits)  (dog, mouse)"),
    ],
    note="The embeddings of the sequence (cat, mouse) are the rows of E_seq.")

# ---- 001: week 4 slides ---------------------------------------------------------------

_F1, _C1 = _a([1, 1], [1, -1]), _a(-1, 1)    # f1(x, y) = (x + y - 1, x - y + 1)
_F2 = _a([2, -1], [1, 1])                      # f2(u, v) = (2u - v, u + v)

SLIDES_RELU = Exercise(
    "001", "exercise", "ReLU(f2(ReLU(f1(1, 2)))) and its tanh variant",
    given={"p": _a(1, 2), "F1": _F1, "c1": _C1, "F2": _F2},
    steps=[
        Step("f1", ("p", "F1", "c1"), linear, "f1(1, 2)"),
        Step("r1", ("f1",), relu, "ReLU(f1(1, 2))"),
        Step("f2", ("r1", "F2"), linear, "f2(ReLU(f1(1, 2)))"),
        Step("out_relu", ("f2",), relu, "ReLU(f2(ReLU(f1(1, 2))))"),
        Step("t1", ("f1",), tanh, "tanh(f1(1, 2))"),
        Step("f2_t", ("t1", "F2"), linear, "f2(tanh(f1(1, 2)))"),
        Step("out_tanh", ("f2_t",), tanh, "challenge: tanh(f2(tanh(f1(1, 2))))"),
    ])

# ---- 002: "Introduction to deep learning" slides ---------------------------------------


def graph_gradients(theta1, theta2, x, y):
    """L = (theta1 theta2 x - y)^2 and dL/dtheta1, dL/dtheta2 through nnk's backward pass:
    the model is two bias-free 1x1 Linear layers (theta2 then theta1) and a summed MSE."""
    from . import nn

    net = nn.Sequential(nn.Linear.from_weights([[theta2]]), nn.Linear.from_weights([[theta1]]))
    loss_fn = nn.MSELoss(reduction="sum")
    loss = loss_fn(net(np.array([[x]], dtype=np.float64)), np.array([[y]], dtype=np.float64))
    net.zero_grad()
    net.backward(loss_fn.backward())
    return np.array([loss, net[1].weight.grad[0, 0], net[0].weight.grad[0, 0]])


GRAPH = Exercise(
    "002", "backprop example", "L = (theta1 theta2 x - y)^2 on its computational graph",
    given={"point": _a(2.0, -1.5, 3.0, 1.0)},
    steps=[Step("L_and_grads", ("point",), lambda p: graph_gradients(*p),
                "(L, dL/dtheta1, dL/dtheta2) at theta1=2, theta2=-1.5, x=3, y=1")],
    note="The slides' formulas: dL/dtheta1 = 2(theta1 theta2 x - y) x theta2, "
         "dL/dtheta2 = 2(theta1 theta2 x - y) x theta1.")

# ---- 003: notes "Basics of neural networks" ---------------------------------------------

TABLE1_X = _a([0.5, 1.0], [1.5, 0.5], [0.0, 1.0], [1.0, 1.5], [1.0, 0.0])
TABLE1_Y = _a(1.5, 2.0, 1.0, 2.5, 1.0)

CASE1 = Exercise(
    "003", "1.2 case 1", "No hidden layer: the closed form W = (X^T X)^-1 X^T Y",
    given={"X": TABLE1_X, "Y": TABLE1_Y},
    steps=[Step("W", ("X", "Y"), lstsq, "W = (X^T X)^-1 X^T Y on the data of Table 1")])


def case2_gradients(w, X, Y):
    """Notes 1.3.2: Y_hat = w3 sigmoid(w1 X1 + w2 X2), L = 1/(2N) sum (Y_hat - Y)^2;
    (L, dL/dw1, dL/dw2, dL/dw3) through nnk's layers and backward pass."""
    from . import nn

    net = nn.Sequential(nn.Linear.from_weights([w[:2]]), nn.Sigmoid(), nn.Linear.from_weights([[w[2]]]))
    loss_fn = nn.MSELoss()
    loss = loss_fn(net(X), Y.reshape(-1, 1)) / 2  # the notes' 1/(2N) is half of MSELoss
    net.zero_grad()
    net.backward(loss_fn.backward(0.5))
    return np.concatenate([[loss], net[0].weight.grad[0], net[2].weight.grad[0]])


CASE2 = Exercise(
    "003", "1.3.2 case 2", "One sigmoid hidden neuron: loss and gradients",
    given={"w": _a(0.5, -0.5, 1.0), "X": TABLE1_X, "Y": TABLE1_Y},
    steps=[Step("L_and_grads", ("w", "X", "Y"), case2_gradients,
                "(L, dL/dw1, dL/dw2, dL/dw3) at w = (0.5, -0.5, 1.0), data of Table 1")],
    note="The notes give the formulas, not numbers; the start w = (0.5, -0.5, 1.0) is ours.")

_N = 5
_ETA = 0.01


def _layer(W, A, b):  # Z = W A + b with samples as columns, as the notes write it
    return linear(A.T, W, b).T


SECTION_1_4 = Exercise(
    "003", "1.4", "The 2-3-4-1 linear network on 5 data points, one step of batch GD",
    given={
        "A0": TABLE1_X.T, "Y": TABLE1_Y.reshape(1, -1),
        "W1": _a([0.2, -0.1], [0.4, 0.3], [-0.5, 0.2]), "b1": _a(0.1, -0.2, 0.0),
        "W2": _a([0.3, -0.2, 0.1], [-0.1, 0.5, 0.2], [0.4, -0.3, 0.6], [-0.2, 0.1, -0.4]),
        "b2": _a(0.0, 0.1, -0.1, 0.2),
        "W3": _a([0.2, -0.3, 0.5, -0.1]), "b3": _a(0.05),
    },
    steps=[
        Step("Z1", ("W1", "A0", "b1"), _layer, "Z(1) = W(1) A(0) + b(1)   (A(1) = Z(1))"),
        Step("Z2", ("W2", "Z1", "b2"), _layer, "Z(2) = W(2) A(1) + b(2)   (A(2) = Z(2))"),
        Step("Z3", ("W3", "Z2", "b3"), _layer, "Z(3) = W(3) A(2) + b(3)   (A(3) = Z(3))"),
        Step("R", ("Z3", "Y"), lambda z, y: mse_loss_grad(z, y, reduction="sum") / 2,
             "A(3) - Y"),
        Step("dW3", ("R", "Z2"), lambda r, a2: gemm(r, a2, alpha=1 / _N, trans_b=True),
             "dL/dW(3) = 1/N (A(3) - Y) A(2)^T"),
        Step("dZ2", ("W3", "R"), lambda w3, r: gemm(w3, r, alpha=1 / _N, trans_a=True),
             "dL/dZ(2) = W(3)^T 1/N (A(3) - Y)"),
        Step("dW2", ("dZ2", "Z1"), lambda d, a1: gemm(d, a1, trans_b=True),
             "dL/dW(2) = dL/dZ(2) A(1)^T"),
        Step("dZ1", ("W2", "dZ2"), lambda w2, d: gemm(w2, d, trans_a=True),
             "dL/dZ(1) = W(2)^T dL/dZ(2)"),
        Step("dW1", ("dZ1", "A0"), lambda d, a0: gemm(d, a0, trans_b=True),
             "dL/dW(1) = dL/dZ(1) A(0)^T"),
        Step("W3_new", ("dW3", "W3"), lambda g, w: _axpy_copy(-_ETA, g, w), "W(3) - 0.01 dL/dW(3)"),
        Step("W2_new", ("dW2", "W2"), lambda g, w: _axpy_copy(-_ETA, g, w), "W(2) - 0.01 dL/dW(2)"),
        Step("W1_new", ("dW1", "W1"), lambda g, w: _axpy_copy(-_ETA, g, w), "W(1) - 0.01 dL/dW(1)"),
    ],
    printed={  # as the notes print them (section 1.4)
        "Z1": [["0.1", "0.2", "-0.05", "0.3", "0.2"],
               ["0.3", "0.75", "0.0", "0.55", "0.3"],
               ["-0.05", "0.1", "0.25", "-0.2", "-0.5"]],
        "Z2": [["-0.035", "0.015", "-0.025", "0.015", "0.05"],
               ["0.23", "0.395", "0.05", "0.365", "0.11"],
               ["-0.18", "0.12", "0.05", "0.14", "0.38"],
               ["0.23", "0.095", "-0.05", "0.07", "0.05"]],
        "Z3": [["-0.139", "-0.105", "0.0", "0.05", "0.0"]],
        "R": [["-1.639", "-2.105", "-1.0", "-2.45", "-1.0"]],
        "dW3": [["-0.162057", "-0.241662", "0.001645", "-0.220982"]],
    },
    note="The notes' loss is 1/(2N) sum (Y_hat - Y)^2, half of MSELoss (mean of squares): "
         "its gradients are half of MSELoss's, so dL/dZ(3) = 1/N (A(3) - Y).")

# ---- 004: lecture notes, composition / fixed-window LM / RNN ---------------------------

RELU_004 = Exercise(
    "004", "ReLU", "ReLU(<-2.3, 5.7, -5.0>)",
    given={"x": _a(-2.3, 5.7, -5.0)},
    steps=[Step("relu", ("x",), relu, "ReLU(x)")],
    printed={"relu": ["0", "5.7", "0"]})

SOFTMAX_004 = Exercise(
    "004", "softmax(Wx)", "Y = softmax(W x): positive and summing to 1",
    given={"W": _a([1.0, 0.0], [0.0, 1.0], [1.0, 1.0]), "x": _a(1.0, 2.0)},
    steps=[Step("Wx", ("W", "x"), matmul, "W x"), Step("Y", ("Wx",), softmax, "softmax(W x)")],
    note="The notes give no numbers; W and x here are illustrative.")

RNN_004 = Exercise(
    "004", "RNN step", "h_t = tanh(W_h h_{t-1} + W_c c_t)",
    given={"W_h": _a([0.5, -0.1], [0.2, 0.3]), "h_prev": _a(0.1, -0.2),
           "W_c": _a([1.0, 0.0, -1.0], [0.5, 0.5, 0.0]), "c_t": _a(1.0, 0.5, 2.0)},
    steps=[
        Step("Wh_h", ("W_h", "h_prev"), matmul, "W_h h_{t-1}"),
        Step("pre", ("c_t", "W_c", "Wh_h"), linear, "W_h h_{t-1} + W_c c_t"),
        Step("h_t", ("pre",), tanh, "h_t = tanh(...)"),
    ],
    note="Illustrative weights: the notes define the recurrence without numbers.")

NLL_004 = Exercise(
    "004", "training loss", "L = -log p(w_n | w_1..n-1) from the logits of the next word",
    given={"logits": _a(2.0, 1.0, 0.1), "target": _a(0)},
    steps=[Step("L", ("logits", "target"),
                lambda z, t: cross_entropy(z.reshape(1, -1), t.astype(np.int64)), "-log softmax(logits)[target]")],
    note="Illustrative logits over a 3-word vocabulary; the correct next word is word 0.")

EXERCISES = [SHEET_1, SHEET_2, SHEET_3, SLIDES_RELU, GRAPH, CASE1, CASE2, SECTION_1_4,
             RELU_004, SOFTMAX_004, RNN_004, NLL_004]


# ---- the checker -------------------------------------------------------------------------

def _clean(x):
    """A computed value for display: rounding noise (1e-17 for an exact 0) removed."""
    return float(round(float(x), 12)) + 0.0

@dataclass
class Disagreement:
    doc: str
    exercise: str
    quantity: str
    position: tuple
    printed: float
    computed: float
    from_printed_inputs: float
    verdict: str

    def as_dict(self):
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(self).items()}


def _parse(printed):
    """Printed strings -> values, and the precision they claim: the finest number of
    decimals used anywhere in the printed quantity (a "0.0" beside "0.05" claims 0.00)."""
    arr = np.array(printed, dtype=object)
    values = np.vectorize(float, otypes=[np.float64])(arr)
    decimals = np.vectorize(lambda s: len(s.split(".")[1]) if "." in s else 0, otypes=[int])(arr)
    return values, np.full(values.shape, decimals.max() if decimals.size else 0)


def _agrees(printed, decimals, value):
    """Printed to `decimals` places agrees with value (half a unit in the last place)."""
    return abs(printed - value) <= 0.5 * 10.0 ** (-decimals) + 1e-12


def check(exercises=None):
    """Every disagreement between printed and computed values, in document order."""
    found = []
    for ex in exercises or EXERCISES:
        if not ex.printed:
            continue
        true = ex.solve()
        printed_values = {k: _parse(v)[0] for k, v in ex.printed.items()}
        for step in ex.steps:
            if step.name not in ex.printed:
                continue
            shown, decimals = _parse(ex.printed[step.name])
            computed = true[step.name].reshape(shown.shape) if true[step.name].size == shown.size else None
            if computed is None:
                found.append(Disagreement(ex.doc, ex.id, step.name, (), float("nan"), float("nan"),
                                          float("nan"), f"printed shape {shown.shape} but computed "
                                          f"{true[step.name].shape}"))
                continue
            args = {n: printed_values[n].reshape(true[n].shape) for n in step.inputs if n in printed_values}
            from_printed = np.asarray(step.fn(*[args.get(n, true[n]) for n in step.inputs]),
                                      dtype=np.float64).reshape(shown.shape)
            for idx in np.ndindex(*shown.shape):
                if _agrees(shown[idx], decimals[idx], computed[idx]):
                    continue
                carried = _agrees(shown[idx], decimals[idx], from_printed[idx]) and args
                verdict = ("step done right on the document's own wrong inputs: an earlier error "
                           "carried forward" if carried else "first wrong here")
                found.append(Disagreement(ex.doc, ex.id, step.name, idx, float(shown[idx]),
                                          _clean(computed[idx]), _clean(from_printed[idx]), verdict))
    return found


# ---- output ------------------------------------------------------------------------------

def _fmt(v):
    return np.array2string(np.asarray(v), precision=6, suppress_small=True, floatmode="maxprec")


def answer_key(fmt="text"):
    """The solved exercises as text, Markdown or JSON."""
    solved = [(ex, ex.solve()) for ex in EXERCISES]
    if fmt == "json":
        return json.dumps([{
            "doc": ex.doc, "exercise": ex.id, "title": ex.title, "note": ex.note,
            "steps": [{"quantity": s.name, "label": s.label, "value": vals[s.name].tolist()}
                      for s in ex.steps]} for ex, vals in solved], indent=1)
    out = []
    for ex, vals in solved:
        if fmt == "markdown":
            out.append(f"### {ex.doc} · {ex.id}: {ex.title}\n")
            if ex.note:
                out.append(f"_{ex.note}_\n")
            out.append("| step | value |\n|---|---|")
            out += [f"| {s.label} | `{_fmt(vals[s.name])}` |".replace("\n", " ") for s in ex.steps]
            out.append("")
        else:
            out.append(f"[{ex.doc}] {ex.id}: {ex.title}")
            if ex.note:
                out.append(f"    ({ex.note})")
            for s in ex.steps:
                value = _fmt(vals[s.name]).replace("\n", "\n" + " " * 8)
                out.append(f"    {s.label}\n        {value}")
            out.append("")
    return "\n".join(out)


def format_disagreements(found, fmt="text"):
    if fmt == "json":
        return json.dumps([d.as_dict() for d in found], indent=1)
    if not found:
        return "Every printed value agrees with nnk's."
    head = ("| doc | exercise | quantity | position | printed | computed | from printed inputs | verdict |\n"
            "|---|---|---|---|---|---|---|---|") if fmt == "markdown" else \
        f"{len(found)} printed values disagree with nnk's:"
    rows = []
    for d in found:
        pos = ",".join(str(i + 1) for i in d.position) or "-"
        if fmt == "markdown":
            rows.append(f"| {d.doc} | {d.exercise} | {d.quantity} | {pos} | {d.printed:g} | "
                        f"{d.computed:.6g} | {d.from_printed_inputs:.6g} | {d.verdict} |")
        else:
            rows.append(f"  [{d.doc} {d.exercise}] {d.quantity}[{pos}]: printed {d.printed:g}, "
                        f"computed {d.computed:.6g} (from the printed inputs: "
                        f"{d.from_printed_inputs:.6g}) - {d.verdict}")
    return "\n".join([head] + rows)
