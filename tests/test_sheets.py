"""Every numeric exercise of the course documents, computed through nnk and checked
against values worked out independently: exact rational arithmetic (fractions) for the
linear parts, Python's math module for tanh/exp/log.  Never by calling nnk."""
import json
import math
import subprocess
import sys
from fractions import Fraction as Fr

import numpy as np
import pytest

import nnk
from nnk import nn, sheets

pytestmark = pytest.mark.usefixtures("isa")  # kernel results: once per ISA


def solved(ex):
    return ex.solve()


def close(got, expect, tol=1e-14):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expect, dtype=float),
                               rtol=tol, atol=tol)


# ---- exact helpers (plain Python, independent of nnk) ----------------------------------

def fr(rows):
    return [[Fr(str(v)) for v in r] for r in rows]


def mm(A, B):
    return [[sum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(len(B[0]))] for i in range(len(A))]


def T(A):
    return [list(r) for r in zip(*A)]


def add_col(Z, b):
    return [[z + b[i] for z in row] for i, row in enumerate(Z)]


# ---- 000: week 4 sheet -------------------------------------------------------------------

def test_sheet_ex1():
    v = solved(sheets.SHEET_1)
    # z = W x + b = (1*2 - 2*(-1) + 0, 3*2 + 1*(-1) - 2) = (4, 3)
    close(v["z"], [4, 3])
    close(v["h_relu"], [4, 3])
    close(v["h_tanh"], [math.tanh(4), math.tanh(3)], 2e-16)


def test_sheet_ex2():
    v = solved(sheets.SHEET_2)
    close(v["f1"], [3 - 1, -5 + 2])      # (2, -3)
    close(v["f2"], [2, 0])
    close(v["f"], [1 * 2 + 3 * 0])        # 2


def test_sheet_ex3():
    v = solved(sheets.SHEET_3)
    close(v["s"], [2, 1])                 # (1,0) + (1,1)
    close(v["logits"], [2 * 2 - 1, 2 + 1])  # (3, 3)
    close(v["p"], [0.5, 0.5])             # e^3 / (e^3 + e^3)


# ---- 001: slides ---------------------------------------------------------------------------

def test_slides_relu_and_tanh_compositions():
    v = solved(sheets.SLIDES_RELU)
    # f1(1,2) = (1+2-1, 1-2+1) = (2, 0); ReLU -> (2, 0); f2 = (4-0, 2+0) = (4, 2); ReLU -> (4, 2)
    close(v["f1"], [2, 0])
    close(v["out_relu"], [4, 2])
    t = math.tanh(2)
    close(v["out_tanh"], [math.tanh(2 * t - 0), math.tanh(t + 0)], 4e-16)


# ---- 002: computational-graph backprop ------------------------------------------------------

@pytest.mark.parametrize("t1,t2,x,y", [(2.0, -1.5, 3.0, 1.0), (0.5, 0.25, -2.0, 4.0),
                                       (1.0, 1.0, 1.0, 1.0), (-3.0, 0.1, 0.7, -2.0)])
def test_graph_backprop_matches_slides_formulas(t1, t2, x, y):
    L, d1, d2 = sheets.graph_gradients(t1, t2, x, y)
    r = t1 * t2 * x - y
    assert L == pytest.approx(r * r, rel=1e-15, abs=1e-15)
    assert d1 == pytest.approx(2 * r * x * t2, rel=1e-14, abs=1e-15)
    assert d2 == pytest.approx(2 * r * x * t1, rel=1e-14, abs=1e-15)


# ---- 003: notes ----------------------------------------------------------------------------

def test_case1_closed_form():
    # Table 1 has y = x1 + x2 exactly, so (X^T X)^-1 X^T Y = (1, 1)
    X = fr(sheets.TABLE1_X.tolist())
    Y = [[Fr(str(v))] for v in sheets.TABLE1_Y]
    XtX, XtY = mm(T(X), X), mm(T(X), Y)
    det = XtX[0][0] * XtX[1][1] - XtX[0][1] * XtX[1][0]
    inv = [[XtX[1][1] / det, -XtX[0][1] / det], [-XtX[1][0] / det, XtX[0][0] / det]]
    W = mm(inv, XtY)
    assert W == [[1], [1]]
    close(solved(sheets.CASE1)["W"], [1, 1], 1e-13)


def notes_case2(w, X, Y):
    """The notes' formulas of 1.3.2, in plain Python floats."""
    w1, w2, w3 = w
    N = len(Y)
    g1 = g2 = g3 = L = 0.0
    for (x1, x2), y in zip(X, Y):
        z = w1 * x1 + w2 * x2
        s = 1 / (1 + math.exp(-z))
        yh = w3 * s
        L += (yh - y) ** 2 / (2 * N)
        g1 += (yh - y) * w3 * s * (1 - s) * x1 / N
        g2 += (yh - y) * w3 * s * (1 - s) * x2 / N
        g3 += (yh - y) * s / N
    return L, g1, g2, g3


def test_case2_gradient_descent_follows_the_notes_formulas():
    w = np.array([0.5, -0.5, 1.0])
    X, Y = sheets.TABLE1_X.tolist(), sheets.TABLE1_Y.tolist()
    for _ in range(25):  # a gradient-descent run: at every step nnk's backward = the formulas
        got = sheets.case2_gradients(w, sheets.TABLE1_X, sheets.TABLE1_Y)
        close(got, notes_case2(w, X, Y), 1e-13)
        w = w - 0.5 * got[1:]
    assert notes_case2(w, X, Y)[0] < notes_case2([0.5, -0.5, 1.0], X, Y)[0]


# Section 1.4, exactly: every quantity in rationals.
G = sheets.SECTION_1_4.given
W1, W2, W3 = fr(G["W1"].tolist()), fr(G["W2"].tolist()), fr(G["W3"].tolist())
b1, b2, b3 = [Fr(str(v)) for v in G["b1"]], [Fr(str(v)) for v in G["b2"]], [Fr(str(v)) for v in G["b3"]]
A0, Yr = fr(G["A0"].tolist()), fr(G["Y"].tolist())
Z1 = add_col(mm(W1, A0), b1)
Z2 = add_col(mm(W2, Z1), b2)
Z3 = add_col(mm(W3, Z2), b3)
R = [[Z3[0][j] - Yr[0][j] for j in range(5)]]
dZ3 = [[r / 5 for r in R[0]]]                  # notes' loss 1/(2N) sum (Y_hat - Y)^2
dW3 = mm(dZ3, T(Z2))
dZ2 = mm(T(W3), dZ3)
dW2 = mm(dZ2, T(Z1))
dZ1 = mm(T(W2), dZ2)
dW1 = mm(dZ1, T(A0))
EXACT_1_4 = {"Z1": Z1, "Z2": Z2, "Z3": Z3, "R": R, "dW3": dW3, "dW2": dW2, "dW1": dW1,
             "W3_new": [[w - Fr(1, 100) * g for w, g in zip(rw, rg)] for rw, rg in zip(W3, dW3)],
             "W2_new": [[w - Fr(1, 100) * g for w, g in zip(rw, rg)] for rw, rg in zip(W2, dW2)],
             "W1_new": [[w - Fr(1, 100) * g for w, g in zip(rw, rg)] for rw, rg in zip(W1, dW1)]}


@pytest.mark.parametrize("quantity", sorted(EXACT_1_4))
def test_section_1_4_every_quantity(quantity):
    close(solved(sheets.SECTION_1_4)[quantity], [[float(v) for v in r] for r in EXACT_1_4[quantity]], 1e-13)


def test_section_1_4_whole_network_backward_is_twice_the_notes():
    """The same network through nnk.nn: MSELoss = 2 x the notes' loss, so its gradients are
    twice the notes' (and backward(0.5) gives the notes' exactly)."""
    net = nn.Sequential(nn.Linear.from_weights(G["W1"], G["b1"]), nn.Identity(),
                        nn.Linear.from_weights(G["W2"], G["b2"]), nn.Identity(),
                        nn.Linear.from_weights(G["W3"], G["b3"]))
    loss_fn = nn.MSELoss()
    mse = loss_fn(net(G["A0"].T), G["Y"].T)
    notes_loss = sum(float(r) ** 2 for r in R[0]) / (2 * 5)
    assert mse == pytest.approx(2 * notes_loss, rel=1e-14)
    net.zero_grad()
    net.backward(loss_fn.backward())
    for layer, name in ((net[4], "dW3"), (net[2], "dW2"), (net[0], "dW1")):
        close(layer.weight.grad, 2 * np.array([[float(v) for v in r] for r in EXACT_1_4[name]]), 1e-13)
    opt = nnk.optim.SGD(net.parameters(), lr=0.01)
    net.zero_grad()
    net.backward(loss_fn.backward(0.5))   # the notes' gradient
    opt.step()
    close(net[4].weight.data, [[float(v) for v in EXACT_1_4["W3_new"][0]]], 1e-14)


def printed_precision_wrong():
    """(quantity, position) of every printed value in 1.4 that is wrong, found exactly."""
    wrong = set()
    for q, printed in sheets.SECTION_1_4.printed.items():
        decimals = max(len(s.split(".")[1]) if "." in s else 0 for row in printed for s in row)
        for i, row in enumerate(printed):
            for j, s in enumerate(row):
                if abs(Fr(s) - EXACT_1_4[q][i][j]) > Fr(1, 2 * 10**decimals):
                    wrong.add((q, (i, j)))
    return wrong


def test_checker_finds_exactly_the_wrong_printed_values():
    found = sheets.check()
    got = {(d.quantity, tuple(d.position)) for d in found if d.doc == "003"}
    assert got == printed_precision_wrong()
    assert len(got) > 0
    # Z(1) is the first step: nothing before it can be blamed
    assert all(d.verdict == "first wrong here" for d in found if d.quantity == "Z1")
    # the residual is A(3) - Y done right on the printed (wrong) A(3): carried forward
    assert {d.verdict for d in found if d.quantity == "R"} == {
        "step done right on the document's own wrong inputs: an earlier error carried forward"}


def test_checker_passes_correct_documents_and_catches_a_planted_error():
    good = sheets.Exercise("x", "1", "t", {"x": np.array([-1.0, 2.0])},
                           [sheets.Step("y", ("x",), nnk.relu, "y")], printed={"y": ["0.0", "2.0"]})
    assert sheets.check([good]) == []
    bad = sheets.Exercise("x", "1", "t", {"x": np.array([-1.0, 2.0])},
                          [sheets.Step("y", ("x",), nnk.relu, "y")], printed={"y": ["0.0", "2.1"]})
    [d] = sheets.check([bad])
    assert (d.quantity, d.position, d.printed, d.computed) == ("y", (1,), 2.1, 2.0)


# ---- 004: lecture notes --------------------------------------------------------------------

def test_lecture_004():
    close(solved(sheets.RELU_004)["relu"], [0, 5.7, 0])
    y = solved(sheets.SOFTMAX_004)["Y"]
    e = [math.exp(1), math.exp(2), math.exp(3)]
    close(y, [v / sum(e) for v in e], 4e-16)
    h = solved(sheets.RNN_004)["h_t"]
    pre = [0.5 * 0.1 - 0.1 * -0.2 + 1.0 - 2.0, 0.2 * 0.1 + 0.3 * -0.2 + 0.5 + 0.25]
    close(h, [math.tanh(v) for v in pre], 4e-16)
    L = solved(sheets.NLL_004)["L"]
    assert float(L) == pytest.approx(-math.log(math.exp(2) / (math.exp(2) + math.exp(1) + math.exp(0.1))), rel=1e-15)


# ---- the command line ------------------------------------------------------------------------

def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "nnk", "sheets", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_answer_key_formats():
    r = run_cli()
    assert r.returncode == 0 and "1.1  z = W x + b" in r.stdout
    r = run_cli("--format", "json", "--isa", "scalar")
    data = json.loads(r.stdout)
    assert {d["doc"] for d in data} == {"000", "001", "002", "003", "004"}
    assert run_cli("--format", "markdown").stdout.count("| step | value |") == len(sheets.EXERCISES)


def test_cli_check_exit_status_and_listing():
    r = run_cli("--check")
    assert r.returncode == 1
    assert "Z1[1,2]: printed 0.2, computed 0.35" in r.stdout
    r = run_cli("--check", "--format", "json")
    assert len(json.loads(r.stdout)) == len(printed_precision_wrong())
