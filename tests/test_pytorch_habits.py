"""What a PyTorch user reaches for first (issue: modules, Dropout, LogSoftmax, Sequential's
keys and slices, Parameter's attributes), each against PyTorch's own behaviour."""
import math

import numpy as np
import pytest

import nnk
from nnk import nn

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def pair():
    """The same network in both libraries, float64, nnk holding PyTorch's weights."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(),
                                 torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh()),
                                 torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 5), nn.ReLU(),
                         nn.Sequential(nn.Linear(5, 4), nn.Tanh()), nn.Linear(4, 2))
    ours.load_state_dict(theirs.state_dict())  # tensors accepted as they are
    return ours, theirs


def test_sequential_loads_pytorch_state_dict_and_agrees():
    ours, theirs = pair()
    assert list(ours.state_dict()) == list(theirs.state_dict())  # "0.weight", "2.0.bias", ...
    x = np.random.default_rng(1).standard_normal((7, 3))
    np.testing.assert_allclose(ours(x), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)
    # and back: PyTorch loads nnk's state dict
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})


def test_module_walks_match_pytorch():
    ours, theirs = pair()
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in theirs.children()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    seen_ours, seen_theirs = [], []
    assert ours.apply(lambda m: seen_ours.append(type(m).__name__)) is ours
    theirs.apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_ours == seen_theirs  # children first, then the module


def test_train_and_eval_set_every_module():
    ours, theirs = pair()
    assert all(m.training for m in ours.modules())
    assert ours.eval() is ours
    theirs.eval()
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]
    ours[2].train()
    theirs[2].train()
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]
    assert nn.Linear(2, 2).training is True  # a fresh module trains, as in PyTorch


def test_sequential_slice_is_a_sequential_of_the_same_layers():
    ours, _ = pair()
    head = ours[0:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert head[0] is ours[0]  # shared, as PyTorch's slices share
    x = np.random.default_rng(2).standard_normal((4, 3))
    np.testing.assert_array_equal(head(x), ours[1](ours[0](x)))
    assert [n for n, _ in head.named_parameters()] == ["0.weight", "0.bias"]


def test_parameter_attributes_as_tensors_have():
    w = nn.Linear(3, 4, dtype=np.float32).weight
    t = torch.nn.Linear(3, 4).weight
    assert (w.shape, w.ndim, w.size, w.dtype) == (tuple(t.shape), t.ndim, t.numel(), np.float32)
    # a tensor's numel() and numpy(), and NumPy taking its values (a 0-d object array before)
    assert w.numel() == t.numel() and w.numpy() is w.data
    assert np.asarray(w) is w.data and np.shares_memory(np.asarray(t.detach()), t.detach().numpy())
    np.testing.assert_array_equal(np.round(w, 3), np.round(w.data, 3))
    assert np.asarray(w, dtype=np.float64).dtype == np.float64 and np.array(w) is not w.data
    with pytest.raises(ValueError, match="need a copy"):
        np.asarray(w, dtype=np.float64, copy=False)


def test_dropout_masks_scales_and_is_the_identity_in_eval():
    x = np.random.default_rng(3).standard_normal((200, 500))
    d = nn.Dropout(0.3)
    nnk.manual_seed(5)
    y = d(x)
    kept = y != 0
    # a kept value is x / (1 - p), as PyTorch scales
    np.testing.assert_allclose(y[kept], x[kept] / 0.7, rtol=1e-15)
    frac = 1 - kept.mean()
    n = x.size
    assert abs(frac - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)  # binomial: 5 standard deviations
    # PyTorch's dropout drops the same share
    t = torch.nn.Dropout(0.3)(torch.from_numpy(x))
    assert abs((t == 0).double().mean().item() - frac) < 10 * np.sqrt(0.3 * 0.7 / n)
    # backward: the same mask and scale
    g = np.ones_like(x)
    np.testing.assert_array_equal(d.backward(g), np.where(kept, 1 / 0.7, 0))
    # seeded: the same mask again
    nnk.manual_seed(5)
    np.testing.assert_array_equal(nn.Dropout(0.3)(x), y)
    # eval: the identity, forward and backward
    d.eval()
    np.testing.assert_array_equal(d(x), x)
    np.testing.assert_array_equal(d.backward(g), g)
    # p = 0 and p = 1
    np.testing.assert_array_equal(nn.Dropout(0.0)(x), x)
    assert not nn.Dropout(1.0)(x).any()
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError):
            nn.Dropout(bad)
        with pytest.raises(ValueError):
            torch.nn.Dropout(bad)


def test_dropout_inside_a_sequential_follows_eval():
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = np.ones((3, 4))
    net.eval()
    np.testing.assert_array_equal(net(x), net[0](x))


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_log_softmax_module_matches_pytorch(dim):
    x = np.random.default_rng(4).standard_normal((5, 6))
    g = np.random.default_rng(5).standard_normal((5, 6))
    ours = nn.LogSoftmax(dim)
    tx = torch.from_numpy(x).requires_grad_()
    ty = torch.nn.LogSoftmax(dim)(tx)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours(x), ty.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert repr(ours) == repr(torch.nn.LogSoftmax(dim))


def test_numpy_scalars_where_numpy_gives_them():
    """0-d results are NumPy scalars, as NumPy's ufuncs give (not 0-d arrays)."""
    for got, expect in [(nnk.exp(1.0), np.exp(1.0)), (nnk.tanh(np.float32(0.5)), np.tanh(np.float32(0.5))),
                        (nnk.relu(-2.0), np.float64(0.0)), (nnk.softmax(3.0), np.float64(1.0)),
                        (nnk.logsumexp(np.zeros(4)), np.log(4.0))]:
        assert type(got) is type(expect) and got == pytest.approx(expect, rel=1e-6)
    assert type(nnk.matmul(np.ones(3), np.ones(3))) is np.float64
    for name in ("exp", "log", "tanh", "sigmoid", "relu", "identity", "leaky_relu", "gelu",
                 "softmax", "log_softmax", "logsumexp"):
        for x in (0.5, np.float32(0.5), np.array(0.5)):
            assert type(getattr(nnk, name)(x)) is np.asarray(x).dtype.type, (name, x)
    for name in [n for n in dir(nnk) if n.endswith("_grad") and n not in ("no_grad", "enable_grad")]:
        assert type(getattr(nnk, name)(np.float32(0.5), np.float32(1.0))) is np.float32, name
    out = np.empty(())
    assert nnk.exp(0.0, out=out) is out  # with out: the array itself


@pytest.mark.parametrize("axis", [None, (0, 2), (2, 0), (1,), (-1, -2), (0, 1, 2)])
def test_logsumexp_and_softmax_take_axis_none_and_tuples(axis):
    x = np.random.default_rng(6).standard_normal((3, 4, 5))
    axes = axis if axis is not None else None
    expect = np.log(np.sum(np.exp(x), axis=axes))
    np.testing.assert_allclose(nnk.logsumexp(x, axis=axis), expect, rtol=1e-13)
    np.testing.assert_allclose(nnk.logsumexp(x, axis=axis, keepdims=True),
                               np.log(np.sum(np.exp(x), axis=axes, keepdims=True)), rtol=1e-13)
    e = np.exp(x)
    sm = e / e.sum(axis=axes, keepdims=True)
    np.testing.assert_allclose(nnk.softmax(x, axis=axis), sm, rtol=1e-13)
    np.testing.assert_allclose(nnk.log_softmax(x, axis=axis), np.log(sm), rtol=1e-12, atol=1e-14)
    g = np.random.default_rng(7).standard_normal(x.shape)
    expect_grad = sm * (g - (g * sm).sum(axis=axes, keepdims=True))
    np.testing.assert_allclose(nnk.softmax_grad(sm, g, axis=axis), expect_grad, rtol=1e-12, atol=1e-14)
    if axis is not None and len(set(np.array(axis) % 3)) == len(axis):
        with pytest.raises(ValueError, match="repeated"):
            nnk.logsumexp(x, axis=axis + (axis[0],))


def test_matmul_shape_error_names_the_operands_given():
    with pytest.raises(ValueError) as e:
        nnk.matmul(np.ones((2, 3)), np.ones((4, 2)))
    assert "(2, 3) and (4, 2)" in str(e.value) and " c " not in str(e.value)


def _trained(optimizer_pair, steps=5):
    """nnk and PyTorch copies of one network trained side by side; the groups' first
    layer takes lr 0.1, the rest the optimiser's default."""
    ours, theirs = pair()
    x = np.random.default_rng(8).standard_normal((16, 3))
    y = np.random.default_rng(9).standard_normal((16, 2))
    make_ours, make_theirs = optimizer_pair
    opt = make_ours([{"params": ours[0].parameters(), "lr": 0.1},
                     {"params": ours[2].parameters() + ours[3].parameters()}])
    topt = make_theirs([{"params": theirs[0].parameters(), "lr": 0.1},
                        {"params": list(theirs[2].parameters()) + list(theirs[3].parameters())}])
    loss_fn = nn.MSELoss()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)  # torch's spelling, taken as it is
        loss_fn(ours(x), y)
        ours.backward(loss_fn.backward())
        opt.step()
        topt.zero_grad()
        torch.nn.functional.mse_loss(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        topt.step()
    return ours, theirs, opt, topt


OPTIMISERS = {
    "sgd": (lambda g: nnk.optim.SGD(g, lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-3),
            lambda g: torch.optim.SGD(g, lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    "adamw": (lambda g: nnk.optim.AdamW(g, lr=0.01, weight_decay=0.1),
              lambda g: torch.optim.AdamW(g, lr=0.01, weight_decay=0.1)),
    "adam_amsgrad_maximize": (lambda g: nnk.optim.Adam(g, lr=0.01, amsgrad=True, maximize=True),
                              lambda g: torch.optim.Adam(g, lr=0.01, amsgrad=True, maximize=True)),
}


@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_parameter_groups_and_optimizer_state_dict_match_pytorch(name):
    ours, theirs, opt, topt = _trained(OPTIMISERS[name])
    for (k, p), (tk, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert k == tk
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)
    mine, torch_state = opt.state_dict(), topt.state_dict()
    assert [g["params"] for g in mine["param_groups"]] == [g["params"] for g in torch_state["param_groups"]]
    assert [g["lr"] for g in mine["param_groups"]] == [0.1, 0.01]
    for i, st in torch_state["state"].items():
        for key, value in st.items():
            np.testing.assert_allclose(np.asarray(mine["state"][i][key]), value.numpy(), rtol=1e-9, atol=1e-12)
    # PyTorch's optimiser state loads into nnk's optimiser and gives the same next step
    fresh = OPTIMISERS[name][0]([{"params": ours[0].parameters(), "lr": 0.5},
                                 {"params": ours[2].parameters() + ours[3].parameters()}])
    fresh.load_state_dict(torch_state)
    assert fresh.param_groups[0]["lr"] == 0.1
    for i, st in fresh.state.items():
        for key, value in st.items():
            np.testing.assert_allclose(np.asarray(value), np.asarray(mine["state"][i][key]), rtol=1e-12)


@pytest.mark.parametrize("theirs, ours, refused", [
    (lambda p: torch.optim.AdamW(p), nnk.optim.Adam, "decoupled_weight_decay=True"),
    (lambda p: torch.optim.Adam(p, weight_decay=0.1), nnk.optim.AdamW, "decoupled_weight_decay=False"),
])
def test_a_pytorch_optimizer_state_that_nnk_would_step_otherwise_is_refused(theirs, ours, refused):
    """torch's options nnk does not have load only with the value that means what nnk
    does: a maximising RMSprop state would have minimised, AdamW's decay become Adam's
    L2, all without a word; the same options at torch's defaults load.  (Adam's amsgrad and
    maximize are nnk's options too: test_parameter_groups_and_optimizer_state_dict_match_pytorch.)"""
    tnet = torch.nn.Linear(2, 2)
    topt = theirs(tnet.parameters())
    tnet(torch.ones(1, 2)).sum().backward()
    topt.step()
    kwargs = {"lr": 0.1} if ours is nnk.optim.SGD else {}
    opt = ours(nn.Linear(2, 2).parameters(), **kwargs)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=refused):
        opt.load_state_dict(topt.state_dict())
    assert opt.state_dict()["param_groups"] == before["param_groups"]  # nothing half-loaded
    plain = {nnk.optim.Adam: torch.optim.Adam, nnk.optim.AdamW: torch.optim.AdamW,
             nnk.optim.SGD: lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
             nnk.optim.RMSprop: torch.optim.RMSprop}[ours](tnet.parameters())
    # a schedule keeps its numbers in torch's groups (initial_lr, OneCycleLR's bounds)
    torch.optim.lr_scheduler.OneCycleLR(plain, max_lr=0.5, total_steps=10)
    opt.load_state_dict(plain.state_dict())
    assert set(opt.state_dict()["param_groups"][0]) == set(before["param_groups"][0])  # torch's extras dropped
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5 / 25)


def test_schedules_follow_each_group():
    ours, theirs = pair()
    opt = nnk.optim.SGD([{"params": ours[0].parameters(), "lr": 1.0},
                         {"params": ours[3].parameters()}], lr=0.1)
    topt = torch.optim.SGD([{"params": theirs[0].parameters(), "lr": 1.0},
                            {"params": theirs[3].parameters()}], lr=0.1)
    s, ts = nnk.optim.StepLR(opt, step_size=2, gamma=0.5), torch.optim.lr_scheduler.StepLR(topt, 2, 0.5)
    for _ in range(5):
        opt.step(), topt.step()
        s.step(), ts.step()
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-15)


def test_lambda_and_multistep_schedules_as_pytorch():
    """LambdaLR with a function per group and MultiStepLR with a repeated milestone (two
    missing schedules before): every group's lr at every step is torch's; a wrong number
    of functions is torch's ValueError."""
    def groups(lib, params):
        return lib.SGD([{"params": params[:2], "lr": 1.0}, {"params": params[2:]}], lr=0.1)

    ours, theirs = pair()
    cases = [(lambda o: nnk.optim.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: min(1.0, (e + 1) / 4)]),
              lambda o: torch.optim.lr_scheduler.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: min(1.0, (e + 1) / 4)])),
             (lambda o: nnk.optim.MultiStepLR(o, [5, 2, 5], gamma=0.5),
              lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [5, 2, 5], gamma=0.5))]
    for make_ours, make_theirs in cases:
        opt, topt = groups(nnk.optim, ours.parameters()), groups(torch.optim, list(theirs.parameters()))
        s, ts = make_ours(opt), make_theirs(topt)
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-15)
        for _ in range(8):
            opt.step(), topt.step()
            s.step(), ts.step()
            assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-15)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 3"):
        nnk.optim.LambdaLR(groups(nnk.optim, ours.parameters()), [abs] * 3)
    with pytest.raises(TypeError, match="function"):
        nnk.optim.LambdaLR(groups(nnk.optim, ours.parameters()), 0.5)


@pytest.mark.parametrize("settings", [dict(patience=2), dict(mode="max", factor=0.5, patience=1, cooldown=2),
                                      dict(threshold=0.5, threshold_mode="abs", min_lr=[0.3, 0.02]),
                                      dict(patience=0, min_lr=0.05, eps=0.2)])
def test_reduce_lr_on_plateau_as_pytorch(settings):
    """ReduceLROnPlateau (missing before): the lrs of two groups after each of 30 metrics
    (plateaus, improvements, negative values) are torch's, in each mode, with cooldown,
    floors and eps; its state dict loads across the two libraries mid-run."""
    def groups(lib, params):
        return lib.SGD([{"params": params[:2], "lr": 1.0}, {"params": params[2:]}], lr=0.1)

    ours, theirs = pair()
    opt, topt = groups(nnk.optim, ours.parameters()), groups(torch.optim, list(theirs.parameters()))
    s = nnk.optim.ReduceLROnPlateau(opt, **settings)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **settings)
    metrics = np.round(np.random.default_rng(20).standard_normal(30).cumsum() * 0.3, 2)
    metrics[10:16] = metrics[9]  # a plateau
    for i, m in enumerate(metrics):
        s.step(m), ts.step(m)
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-15), i
        if i == 14:  # each library's state into a fresh schedule of the other's
            opt2, topt2 = groups(nnk.optim, ours.parameters()), groups(torch.optim, list(theirs.parameters()))
            s2 = nnk.optim.ReduceLROnPlateau(opt2)
            s2.load_state_dict(ts.state_dict())
            ts2 = torch.optim.lr_scheduler.ReduceLROnPlateau(topt2)
            ts2.load_state_dict(s.state_dict())
            for g2, tg2, g in zip(opt2.param_groups, topt2.param_groups, opt.param_groups):
                g2["lr"] = tg2["lr"] = g["lr"]
        if i > 14:
            s2.step(m), ts2.step(m)
            assert s2.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-15), i
            assert ts2.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-15), i
    assert s.get_last_lr() != [1.0, 0.1]  # it did cut
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        nnk.optim.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        nnk.optim.ReduceLROnPlateau(opt, mode="lowest")


SCHEDULES = {  # settings to save with, and other settings for the schedule that loads
    "StepLR": (dict(step_size=3, gamma=0.5), dict(step_size=2, gamma=0.3)),
    "ExponentialLR": (dict(gamma=0.9), dict(gamma=0.7)),
    "CosineAnnealingLR": (dict(T_max=7, eta_min=0.01), dict(T_max=4)),
    "LinearLR": (dict(start_factor=0.25, total_iters=4), dict(start_factor=0.5, total_iters=2)),
    "ConstantLR": (dict(factor=0.25, total_iters=5), dict(factor=0.5, total_iters=2)),
    "PolynomialLR": (dict(total_iters=7, power=2.0), dict(total_iters=3)),
    "OneCycleLR": (dict(max_lr=0.5, total_steps=12), dict(max_lr=0.5, total_steps=12)),
    "MultiStepLR": (dict(milestones=[2, 5, 5], gamma=0.5), dict(milestones=[1], gamma=0.3)),
    # a state holds no code: the loading schedule is built with the same function
    "LambdaLR": (dict(lr_lambda=lambda e: 0.8 ** e + 0.1), dict(lr_lambda=lambda e: 0.8 ** e + 0.1)),
}


def test_constant_and_polynomial_schedules_as_pytorch():
    """ConstantLR lowers the lr from the start (before any step) and gives it back at
    total_iters; PolynomialLR reaches 0 there and stays; both as torch's, with its
    refusals."""
    for make in (lambda lib, o: lib.ConstantLR(o, factor=0.1, total_iters=3),
                 lambda lib, o: lib.PolynomialLR(o, total_iters=4, power=0.5)):
        o = nnk.optim.SGD([nn.Parameter(np.zeros(2))], lr=0.5)
        to = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.5)
        s, ts = make(nnk.optim, o), make(torch.optim.lr_scheduler, to)
        lrs = [(s.get_last_lr()[0], ts.get_last_lr()[0])]
        for _ in range(6):
            o.step(), to.step(), s.step(), ts.step()
            lrs.append((s.get_last_lr()[0], ts.get_last_lr()[0]))
        assert [a for a, _ in lrs] == pytest.approx([b for _, b in lrs], rel=1e-12, abs=1e-15)
        assert o.param_groups[0]["lr"] == s.get_last_lr()[0]
    assert lrs[-1][0] == 0.0
    o = nnk.optim.SGD([nn.Parameter(np.zeros(2))], lr=0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nnk.optim.ConstantLR(o, factor=1.5)
    with pytest.raises(ValueError, match="total_iters"):
        nnk.optim.PolynomialLR(o, total_iters=0)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_states_load_across_libraries(name):
    """A schedule saved three steps in, with its optimiser, by either library and loaded by
    the other into a schedule built with other settings (PyTorch's load takes the state's
    settings): every later lr the same as the schedule that never stopped."""
    saved_with, other = SCHEDULES[name]

    def build(settings):
        ours = nnk.optim.SGD([nn.Parameter(np.zeros(2))], lr=0.5, momentum=0.9)
        theirs = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))], lr=0.5,
                                 momentum=0.9)
        return (ours, getattr(nnk.optim, name)(ours, **settings),
                theirs, getattr(torch.optim.lr_scheduler, name)(theirs, **settings))

    o, s, to, ts = build(saved_with)
    for _ in range(3):
        o.step(), to.step(), s.step(), ts.step()
    o2, s2, _, _ = build(other)  # nnk loading torch's
    o2.load_state_dict(to.state_dict())
    s2.load_state_dict(ts.state_dict())
    _, _, to3, ts3 = build(other)  # torch loading nnk's (its optimiser wants tensors)
    state = o.state_dict()
    state["state"] = {i: {k: torch.from_numpy(v) for k, v in st.items()} for i, st in state["state"].items()}
    to3.load_state_dict(state)
    ts3.load_state_dict(s.state_dict())
    for _ in range(6):
        for opt, sched in ((o, s), (to, ts), (o2, s2), (to3, ts3)):
            opt.step(), sched.step()
        lrs = [s.get_last_lr()[0], ts.get_last_lr()[0], s2.get_last_lr()[0], ts3.get_last_lr()[0]]
        assert lrs == pytest.approx([lrs[1]] * 4, rel=1e-12)
    with pytest.raises(ValueError, match="groups"):
        s2.load_state_dict({"last_epoch": 1, "base_lrs": [0.1, 0.2]})


def test_a_bad_parameter_group_is_refused():
    w = nn.Linear(2, 2).parameters()
    with pytest.raises(ValueError, match="unknown option"):
        nnk.optim.SGD([{"params": w, "lrr": 0.1}], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        nnk.optim.SGD([{"params": w}, {"params": w[:1]}], lr=0.1)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_pytorch(norm_type):
    ours, theirs = pair()
    rng = np.random.default_rng(10)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        g = rng.standard_normal(p.shape) * 3
        p.grad[...] = g
        tp.grad = torch.from_numpy(g.copy())
    total = nn.utils.clip_grad_norm_(ours.parameters(), 1.0, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0, norm_type)
    assert total == pytest.approx(float(ttotal), rel=1e-12)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_parameter_vectors_as_pytorch():
    """clip_grad_value_, parameters_to_vector and vector_to_parameters (missing before):
    torch's gradients and values, a frozen parameter's gradient left alone as torch
    leaves one without a gradient."""
    ours, theirs = pair()
    ours[0].bias.requires_grad_(False)
    theirs[0].bias.requires_grad_(False)
    rng = np.random.default_rng(12)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        g = rng.standard_normal(p.shape) * 3
        p.grad = g.copy()
        if tp.requires_grad:
            tp.grad = torch.from_numpy(g.copy())
    frozen = ours[0].bias.grad.copy()
    assert nn.utils.clip_grad_value_(ours, 1.5) is torch.nn.utils.clip_grad_value_(theirs.parameters(), 1.5) is None
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        if tp.requires_grad:
            np.testing.assert_array_equal(p.grad, tp.grad.numpy())
            assert np.abs(p.grad).max() == 1.5
    np.testing.assert_array_equal(ours[0].bias.grad, frozen)
    vec = nn.utils.parameters_to_vector(ours.parameters())
    np.testing.assert_array_equal(vec, torch.nn.utils.parameters_to_vector(theirs.parameters()).detach().numpy())
    new = rng.standard_normal(vec.shape)
    nn.utils.vector_to_parameters(new, ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.from_numpy(new), theirs.parameters())
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(value, theirs.state_dict()[name].numpy())
    with pytest.raises(ValueError, match="1-D vector of"):
        nn.utils.vector_to_parameters(new[:-1], ours.parameters())


def test_checkpoint_resume_is_bitwise_the_same_as_not_stopping(tmp_path):
    """Train 10 AdamW steps with a schedule; or 5, save model, optimiser and schedule,
    load them into fresh objects and train 5 more: the same bits."""
    x = np.random.default_rng(11).standard_normal((32, 3)).astype(np.float32)
    y = np.random.default_rng(12).standard_normal((32, 2)).astype(np.float32)

    def build():
        nnk.manual_seed(3)
        net = nn.Sequential(nn.Linear(3, 8, dtype=np.float32), nn.GELU(), nn.Linear(8, 2, dtype=np.float32))
        opt = nnk.optim.AdamW(net.parameters(), lr=0.01)
        return net, opt, nnk.optim.CosineAnnealingLR(opt, T_max=10)

    def steps(net, opt, sched, k):
        loss_fn = nn.MSELoss()
        for _ in range(k):
            opt.zero_grad()
            loss_fn(net(x), y)
            net.backward(loss_fn.backward())
            opt.step()
            sched.step()

    net, opt, sched = build()
    steps(net, opt, sched, 10)
    first, opt1, sched1 = build()
    steps(first, opt1, sched1, 5)
    path = tmp_path / "ckpt.npz"
    nnk.save({"model": first.state_dict(), "optim": opt1.state_dict(),
              "sched": sched1.state_dict(), "epoch": 5}, path)
    loaded = nnk.load(path)
    assert loaded["epoch"] == 5
    resumed, opt2, sched2 = build()
    resumed.load_state_dict(loaded["model"])
    opt2.load_state_dict(loaded["optim"])
    sched2.load_state_dict(loaded["sched"])
    steps(resumed, opt2, sched2, 5)
    for a, b in zip(net.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_checkpoint_keeps_values_exactly_and_refuses_code(tmp_path):
    obj = {"a": np.arange(5, dtype=np.float32) / 3, 7: [1, 2.5, float("nan"), None, True, "s"],
           "t": (np.float64(0.1), torch.ones(2, dtype=torch.float64))}
    nnk.save(obj, tmp_path / "x.npz")
    back = nnk.load(tmp_path / "x.npz")
    np.testing.assert_array_equal(back["a"], obj["a"])
    assert back["a"].dtype == np.float32
    assert back[7][:2] == [1, 2.5] and np.isnan(back[7][2]) and back[7][3:] == [None, True, "s"]
    assert back["t"][0] == 0.1 and isinstance(back["t"], tuple)
    np.testing.assert_array_equal(back["t"][1], np.ones(2))
    with pytest.raises(TypeError, match="nnk.save stores"):
        nnk.save({"f": lambda: 0}, tmp_path / "y.npz")
    with pytest.raises(TypeError, match="not of Python objects"):  # else saved, then unloadable
        nnk.save({"o": np.array([1, "x"], dtype=object)}, tmp_path / "o.npz")
    nnk.save({"b": np.bool_(True)}, tmp_path / "b.npz")  # a NumPy bool, as a comparison gives
    assert nnk.load(tmp_path / "b.npz") == {"b": True}
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="not an nnk checkpoint"):
        nnk.load(tmp_path / "plain.npz")


@pytest.mark.parametrize("kind", ["linear", "onecycle-sgd", "onecycle-adam", "onecycle-linear"])
def test_warmup_and_one_cycle_schedules_match_pytorch(kind):
    ours, theirs = pair()
    if kind == "onecycle-adam":
        opt, topt = nnk.optim.Adam(ours.parameters(), lr=0.1), torch.optim.Adam(theirs.parameters(), lr=0.1)
    else:
        opt = nnk.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
        topt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    if kind == "linear":
        s = nnk.optim.LinearLR(opt, start_factor=0.25, total_iters=4)
        ts = torch.optim.lr_scheduler.LinearLR(topt, start_factor=0.25, total_iters=4)
    else:
        extra = {"anneal_strategy": "linear"} if kind == "onecycle-linear" else {}
        s = nnk.optim.OneCycleLR(opt, max_lr=0.5, total_steps=12, **extra)
        ts = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.5, total_steps=12, **extra)
    key = "betas" if kind == "onecycle-adam" else "momentum"
    for _ in range(12):
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
        assert np.allclose(opt.param_groups[0][key], topt.param_groups[0][key], rtol=1e-12)
        opt.step(), topt.step()
        s.step(), ts.step()
    if kind != "linear":
        with pytest.raises(ValueError):
            ts.step()
        with pytest.raises(ValueError):
            s.step()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_options_match_pytorch(reduction, smoothing, dtype):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((9, 6)).astype(dtype)
    t = rng.integers(0, 6, 9)
    t[[1, 4]] = 3
    t[[2, 7]] = -1  # ignored
    ours = nn.CrossEntropyLoss(reduction=reduction, ignore_index=-1, label_smoothing=smoothing)
    tx = torch.from_numpy(x).requires_grad_()
    theirs = torch.nn.CrossEntropyLoss(reduction=reduction, ignore_index=-1, label_smoothing=smoothing)
    tl = theirs(tx, torch.from_numpy(t))
    g = rng.standard_normal(9).astype(dtype) if reduction == "none" else None
    tl.backward(torch.from_numpy(g) if g is not None else None)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours(x, t), tl.detach().numpy(), **tol)
    dx = ours.backward(g[:, None] if g is not None else None)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **tol)
    assert not dx[[2, 7]].any()  # ignored rows: no gradient
    # soft targets take the smoothing too
    p = rng.dirichlet(np.ones(6), 9).astype(dtype)
    sl = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(p), reduction=reduction,
                                           label_smoothing=smoothing)
    np.testing.assert_allclose(nnk.cross_entropy(x, p, reduction, label_smoothing=smoothing), sl.numpy(), **tol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_class_weights_match_pytorch(reduction, smoothing, dtype):
    """weight= as torch's: a row counts w[target] times and the mean divides by the counted
    rows' weights (class indices, NLLLoss), each class's term w_c times over the rows
    (probabilities); ignored rows and label smoothing with it."""
    rng = np.random.default_rng(15)
    x = rng.standard_normal((9, 6)).astype(dtype)
    t = rng.integers(0, 6, 9)
    t[[2, 7]] = -1  # ignored
    w = rng.uniform(0.1, 3.0, 6).astype(dtype)
    tw = torch.from_numpy(w)
    g = rng.standard_normal(9).astype(dtype) if reduction == "none" else None
    tg = None if g is None else torch.from_numpy(g)
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)

    tx = torch.from_numpy(x).requires_grad_()
    tl = torch.nn.CrossEntropyLoss(weight=tw, reduction=reduction, ignore_index=-1,
                                   label_smoothing=smoothing)(tx, torch.from_numpy(t))
    tl.backward(tg)
    ours = nn.CrossEntropyLoss(reduction=reduction, ignore_index=-1, label_smoothing=smoothing, weight=w)
    np.testing.assert_allclose(ours(x, t), tl.detach().numpy(), **tol)
    np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), **tol)

    p = rng.dirichlet(np.ones(6), 9).astype(dtype)
    tp = torch.from_numpy(x).requires_grad_()
    sl = torch.nn.functional.cross_entropy(tp, torch.from_numpy(p), weight=tw, reduction=reduction,
                                           label_smoothing=smoothing)
    sl.backward(tg)
    np.testing.assert_allclose(nnk.cross_entropy(x, p, reduction, weight=w, label_smoothing=smoothing),
                               sl.detach().numpy(), **tol)
    dp = nnk.losses.cross_entropy_grad(x, p, reduction, weight=w, label_smoothing=smoothing)
    np.testing.assert_allclose(dp if g is None else dp * g[:, None], tp.grad.numpy(), **tol)

    logp = nnk.log_softmax(x)
    logp[2, 0] = -np.inf  # an ignored row's -inf stays out of the loss (0 times -inf is NaN)
    tn = torch.from_numpy(logp).requires_grad_()
    nl = torch.nn.NLLLoss(weight=tw, reduction=reduction, ignore_index=-1)(tn, torch.from_numpy(t))
    nl.backward(tg)
    ours = nn.NLLLoss(reduction, ignore_index=-1, weight=w)
    np.testing.assert_allclose(ours(logp, t), nl.detach().numpy(), **tol)
    np.testing.assert_allclose(ours.backward(g), tn.grad.numpy(), **tol)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_over_positions_as_pytorch(reduction):
    """Logits (N, C, d1, d2) with class indices (N, d1, d2) or probabilities of the
    logits' shape, as torch's: the loss per position and the gradient in the logits'
    layout, with class weights and ignored positions."""
    rng = np.random.default_rng(17)
    x = rng.standard_normal((3, 5, 4, 2))
    t = rng.integers(0, 5, (3, 4, 2))
    t[0, 1, 1] = t[2, 3, 0] = -100
    w = rng.uniform(0.5, 2.0, 5)
    g = rng.standard_normal(t.shape) if reduction == "none" else None
    tx = torch.from_numpy(x).requires_grad_()
    tl = torch.nn.CrossEntropyLoss(weight=torch.from_numpy(w), reduction=reduction,
                                   label_smoothing=0.1)(tx, torch.from_numpy(t))
    tl.backward(None if g is None else torch.from_numpy(g))
    ours = nn.CrossEntropyLoss(reduction, label_smoothing=0.1, weight=w)
    np.testing.assert_allclose(ours(x, t), tl.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), rtol=1e-12, atol=1e-15)
    p = np.moveaxis(rng.dirichlet(np.ones(5), (3, 4, 2)), -1, 1)
    sl = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(p), reduction=reduction)
    np.testing.assert_allclose(nnk.cross_entropy(x, p, reduction), sl.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"\(3, 4, 2\)"):
        nnk.cross_entropy(x, t[:, :, 0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_over_positions_as_pytorch(reduction):
    """Log-probabilities (N, C, d1, d2) with class indices (N, d1, d2), as torch's NLLLoss:
    the loss per position and the gradient in the input's layout, with class weights and
    ignored positions (a ValueError before)."""
    rng = np.random.default_rng(18)
    logp = np.ascontiguousarray(nnk.log_softmax(rng.standard_normal((3, 5, 4, 2)), axis=1))
    t = rng.integers(0, 5, (3, 4, 2))
    t[1, 0, 1] = t[2, 2, 0] = 7
    w = rng.uniform(0.5, 2.0, 5)
    g = rng.standard_normal(t.shape) if reduction == "none" else None
    tx = torch.from_numpy(logp).requires_grad_()
    tl = torch.nn.NLLLoss(weight=torch.from_numpy(w), reduction=reduction, ignore_index=7)(
        tx, torch.from_numpy(t))
    tl.backward(None if g is None else torch.from_numpy(g))
    ours = nn.NLLLoss(reduction, ignore_index=7, weight=w)
    np.testing.assert_allclose(ours(logp, t), tl.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), rtol=1e-12, atol=1e-15)
    plain = torch.nn.functional.nll_loss(torch.from_numpy(logp), torch.from_numpy(t % 5), reduction=reduction)
    np.testing.assert_allclose(nnk.nll_loss(logp, t % 5, reduction), plain.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"nll_loss: .*\(3, 4, 2\)"):
        nnk.nll_loss(logp, t[:, :, 0])
    with pytest.raises(ValueError, match="class indices"):
        nnk.nll_loss(logp, np.exp(logp))


def test_shared_and_tied_weights_state_dict_as_pytorch():
    """A layer used twice and GPT's tied lm_head, under a prefix too: the state lists a
    shared parameter under each of its places, as torch's; torch loads nnk's state and
    nnk torch's (a KeyError before: '2.weight' unexpected, and under a prefix torch lacked
    '0.lm_head.weight'); a state naming a shared parameter once still loads, and one
    whose names disagree is a ValueError that changes nothing."""
    torch.manual_seed(3)
    tl = torch.nn.Linear(3, 3).double()
    theirs = torch.nn.Sequential(tl, torch.nn.Tanh(), tl)
    lin = nn.Linear(3, 3)
    ours = nn.Sequential(lin, nn.Tanh(), lin)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(4).standard_normal((5, 3))
    np.testing.assert_allclose(ours(x), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)
    lin.weight.data[...] = 0.5
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    assert (tl.weight.detach().numpy() == 0.5).all()
    ours.load_state_dict({"0.weight": np.eye(3), "0.bias": np.zeros(3)})  # named once
    np.testing.assert_allclose(ours(x), np.tanh(x), rtol=1e-15, atol=1e-300)
    bad = dict(ours.state_dict(), **{"2.bias": np.ones(3)})
    with pytest.raises(ValueError, match="2.bias differs from 0.bias"):
        ours.load_state_dict(bad)
    np.testing.assert_allclose(ours(x), np.tanh(x), rtol=1e-15, atol=1e-300)

    gpt = nn.Sequential(nn.GPT(20, 8, 1, 2, 8, dtype=np.float64))
    keys = list(gpt.state_dict())
    assert keys[-1] == "0.lm_head.weight" and keys.count("0.lm_head.weight") == 1
    assert keys[:-1] == ["0." + k for k in nn.GPT(20, 8, 1, 2, 8).state_dict() if k != "lm_head.weight"]
    np.testing.assert_array_equal(gpt.state_dict()["0.lm_head.weight"],
                                  gpt[0].transformer.wte.weight.data)


def test_class_weights_refused_when_they_do_not_fit():
    with pytest.raises(ValueError, match="one value per class"):
        nnk.cross_entropy(np.zeros((2, 3)), [0, 1], weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="one value per class"):
        nnk.nll_loss(np.zeros((2, 3)), [0, 1], weight=np.ones((3, 1)))
    with pytest.raises(ValueError, match="1-D"):
        nn.CrossEntropyLoss(weight=np.ones((3, 3)))
    with pytest.raises(ValueError, match="weight="):  # torch's positional weight, given as here
        nn.CrossEntropyLoss(np.ones(3))


FREEZE_OPTIMISERS = {
    "sgd": lambda lib, ps: lib.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "adam": lambda lib, ps: lib.Adam(ps, lr=0.01, weight_decay=0.01),
    "adamw": lambda lib, ps: lib.AdamW(ps, lr=0.01),
    "rmsprop": lambda lib, ps: lib.RMSprop(ps, lr=0.01, weight_decay=0.01, momentum=0.5),
    "adagrad": lambda lib, ps: lib.Adagrad(ps, lr=0.1, weight_decay=0.01),
    # torch's positional order (lr, momentum, dampening, weight_decay), and maximize
    "sgd_positional_maximize": lambda lib, ps: lib.SGD(ps, 0.1, 0.9, 0.3, 0.01, maximize=True),
    "adam_positional_amsgrad": lambda lib, ps: lib.Adam(ps, 0.01, (0.8, 0.9), 1e-6, 0.01, True),
    "rmsprop_centred_maximize": lambda lib, ps: lib.RMSprop(ps, 0.01, 0.9, 1e-8, 0.01, 0.5, True,
                                                            maximize=True),
    "adagrad_maximize": lambda lib, ps: lib.Adagrad(ps, 0.1, 0.01, 0.01, 0.1, 1e-10, maximize=True),
}


@pytest.mark.parametrize("kind", sorted(FREEZE_OPTIMISERS))
def test_frozen_parameters_as_pytorch(kind):
    """requires_grad_(False) on a layer and on one bias: torch's optimisers and
    clip_grad_norm_ pass them by (no gradient), nnk's as well (an AttributeError before);
    three clipped steps give torch's weights, the frozen ones unchanged (weight decay and
    momentum too)."""
    ours, theirs = pair()
    for lib_net in (ours, theirs):
        lib_net[0].requires_grad_(False)
        lib_net[3].bias.requires_grad_(False)
    assert [p.requires_grad for p in ours.parameters()] == [p.requires_grad for p in theirs.parameters()]
    before = {k: v.copy() for k, v in ours.state_dict().items()}
    opt = FREEZE_OPTIMISERS[kind](nnk.optim, ours.parameters())
    topt = FREEZE_OPTIMISERS[kind](torch.optim, theirs.parameters())
    x = np.random.default_rng(10).standard_normal((16, 3))
    y = np.random.default_rng(11).standard_normal((16, 2))
    loss_fn = nn.MSELoss()
    for _ in range(3):
        opt.zero_grad()
        loss_fn(ours(x), y)
        ours.backward(loss_fn.backward())
        norm = nn.utils.clip_grad_norm_(ours, 0.05)
        opt.step()
        topt.zero_grad()
        torch.nn.functional.mse_loss(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        tnorm = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.05)
        topt.step()
        np.testing.assert_allclose(norm, float(tnorm), rtol=1e-12)
        assert norm > 0.05  # the clipping acts
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value, theirs.state_dict()[name].numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
        if name.startswith("0.") or name == "3.bias":
            np.testing.assert_array_equal(value, before[name])
        else:
            assert not np.array_equal(value, before[name])
    assert "requires_grad=False" in repr(ours[3].bias) and ours.requires_grad_() is ours
    assert all(p.requires_grad for p in ours.parameters())


@pytest.mark.parametrize("kind", sorted(FREEZE_OPTIMISERS))
def test_fine_tuning_flow_as_pytorch(kind):
    """A pretrained body loaded with strict=False into a model with a new head (the
    missing and unexpected keys as torch reports them; strict=False and the report were
    a TypeError and None before), the body frozen while the head trains, then unfrozen
    (by parameter and by module) and given to the optimiser by add_param_group at its own
    lr (an AttributeError before), the gradients backward left while it was frozen not
    counted: every step's weights are torch's."""
    torch.manual_seed(5)
    body = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 4)).double()
    pretrained = dict(body.state_dict(), **{"extra.weight": torch.ones(2)})
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 4),
                                 torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2))
    ours[4].load_state_dict({k: v.detach().numpy() for k, v in theirs[4].state_dict().items()})
    got, want = ours.load_state_dict(pretrained, strict=False), theirs.load_state_dict(pretrained, strict=False)
    assert (got.missing_keys, got.unexpected_keys) == (want.missing_keys, want.unexpected_keys)
    assert got.missing_keys == ["4.weight", "4.bias"] and got.unexpected_keys == ["extra.weight"]
    assert repr(ours.load_state_dict(ours.state_dict())) == repr(theirs.load_state_dict(theirs.state_dict()))
    x = np.random.default_rng(14).standard_normal((16, 3))
    y = np.random.default_rng(15).standard_normal((16, 2))
    loss_fn = nn.MSELoss()
    for net in (ours, theirs):
        for layer in (net[0], net[2]):
            layer.requires_grad_(False)
    opt = FREEZE_OPTIMISERS[kind](nnk.optim, ours[4].parameters())
    topt = FREEZE_OPTIMISERS[kind](torch.optim, theirs[4].parameters())
    for step in range(4):
        opt.zero_grad()
        topt.zero_grad()
        if step == 2:  # unfreeze the body (its gradients not zeroed by the optimiser,
            # which did not hold it: what backward left while frozen must not count)
            for net, o in ((ours, opt), (theirs, topt)):
                body_params = list(net[0].parameters()) + list(net[2].parameters())
                for p in body_params[:2]:
                    p.requires_grad_(True)
                net[2].requires_grad_(True)
                # and train it at a tenth of the rate
                o.add_param_group({"params": body_params, "lr": o.param_groups[0]["lr"] / 10})
        loss_fn(ours(x), y)
        ours.backward(loss_fn.backward())
        opt.step()
        torch.nn.functional.mse_loss(theirs(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        topt.step()
        for name, value in ours.state_dict().items():
            np.testing.assert_allclose(value, theirs.state_dict()[name].numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name} after step {step}")
    assert [len(g["params"]) for g in opt.param_groups] == [2, 4]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": ours[0].parameters()})
    with pytest.raises(KeyError, match="4.weight"):
        ours.load_state_dict(pretrained)


def test_init_as_pytorch():
    """nnk.nn.init (a missing module before): torch's gains and fans, so each draw has
    torch's bounds and spread (checked on 120,000 values), in place on a Parameter or a
    float array, in its dtype, reproducible by nnk.manual_seed; torch's errors."""
    from nnk.nn import init
    for name, param in (("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)):
        assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)
    for shape in ((400, 300), (60, 50, 5, 8), (300, 40, 10)):
        fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
        tanh, leaky = torch.nn.init.calculate_gain("tanh"), torch.nn.init.calculate_gain("leaky_relu", 0.1)
        bounds = {  # (function, kwargs, uniform half-width or normal std, from torch's formulas)
            "xavier_uniform_": ({"gain": tanh}, tanh * math.sqrt(6 / (fan_in + fan_out)), True),
            "kaiming_uniform_": ({"a": 0.1}, leaky * math.sqrt(3 / fan_in), True),
            "xavier_normal_": ({"gain": tanh}, tanh * math.sqrt(2 / (fan_in + fan_out)), False),
            "kaiming_normal_": ({"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / fan_out), False),
        }
        for fn, (kwargs, scale, uniform) in bounds.items():
            p = nn.Parameter(np.full(shape, 7.0, np.float32))
            assert getattr(init, fn)(p, **kwargs) is p and p.data.dtype == np.float32
            w = p.data.astype(np.float64)
            if uniform:
                # (float64 draws rounded to float32 may pass the bound by its last place)
                assert scale * 0.999 < np.abs(w).max() <= scale * (1 + 2**-23), (fn, shape)
            else:
                assert abs(w.std() / scale - 1) < 0.02 and abs(w.mean()) < 0.02 * scale, (fn, shape)
    a = np.empty((3, 4))
    nnk.manual_seed(2)
    first = init.normal_(a, 1.0, 0.5).copy()
    nnk.manual_seed(2)
    np.testing.assert_array_equal(init.normal_(a, 1.0, 0.5), first)
    assert (init.uniform_(a, -2, -1) < -1).all() and (init.zeros_(a) == 0).all() and (init.ones_(a) == 1).all()
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(np.empty(3))
    with pytest.raises(ValueError, match="Mode fan_sum not supported"):
        init.kaiming_normal_(a, mode="fan_sum")
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("softsign")
    with pytest.raises(TypeError, match="float"):
        init.normal_(np.zeros(3, np.int64))


def test_module_list_and_dict_as_pytorch():
    """A custom module over ModuleDict and ModuleList, written as in torch (two missing
    containers before): torch's state-dict keys and module names, torch's state loaded,
    its outputs and every gradient; the containers' own operations and errors as
    torch's."""
    def build(lib):
        class Net(lib.Module):
            def __init__(self):
                super().__init__() if lib is torch.nn else None
                self.body = lib.ModuleDict(dict(inp=lib.Linear(3, 4)))
                self.body["h"] = lib.ModuleList([lib.Linear(4, 4), lib.Tanh()]).extend(
                    [lib.Linear(4, 4), lib.Tanh()])
                self.head = lib.Linear(4, 2)

            def forward(self, x):
                x = self.body.inp(x)
                for layer in self.body["h"]:
                    x = layer(x)
                return self.head(x)

            def backward(self, g):  # nnk's explicit backward: the members in reverse
                g = self.head.backward(g)
                for layer in reversed(list(self.body["h"])):
                    g = layer.backward(g)
                return self.body.inp.backward(g)
        return Net()

    torch.manual_seed(8)
    theirs, ours = build(torch.nn).double(), build(nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(18).standard_normal((5, 3))
    g = np.random.default_rng(19).standard_normal((5, 2))
    tx = torch.from_numpy(x).requires_grad_()
    y = theirs(tx)
    y.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours(x), y.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.backward(g), tx.grad.numpy(), rtol=1e-12, atol=1e-15)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=name)

    h, th = ours.body["h"], theirs.body["h"]
    assert len(h) == len(th) == 4 and isinstance(h[1:3], nn.ModuleList) and h[-1] is h[3]
    assert h.insert(0, nn.ReLU()) is th.insert(0, torch.nn.ReLU()) is None
    with pytest.raises(IndexError, match="out of range"):
        h[9]
    with pytest.raises(TypeError, match="Module"):
        h.append(3)
    d = ours.body
    assert d.keys() == list(theirs.body.keys()) and "h" in d and "x" not in d and len(d) == 2
    for key, error in (("keys", KeyError), ("training", KeyError), ("a.b", KeyError), ("", KeyError)):
        with pytest.raises(error):
            d[key] = nn.ReLU()
        with pytest.raises(error):
            theirs.body[key] = torch.nn.ReLU()
    with pytest.raises(KeyError):
        d["missing"]
    assert d.pop("h") is h and d.keys() == ["inp"]


def test_sequential_append_extend_insert_as_pytorch():
    """A Sequential grown by append, extend and insert (an AttributeError before) holds
    torch's layers in torch's order: its state loads, its output agrees; an index beyond
    -n..n is torch's IndexError and a non-module a TypeError."""
    torch.manual_seed(6)
    theirs = torch.nn.Sequential()
    theirs.append(torch.nn.Linear(3, 4)).extend([torch.nn.Tanh(), torch.nn.Linear(4, 2)])
    theirs.insert(-1, torch.nn.Linear(4, 4)).insert(0, torch.nn.Identity()).insert(5, torch.nn.ReLU())
    theirs = theirs.double()
    ours = nn.Sequential()
    assert ours.append(nn.Linear(3, 4)).extend([nn.Tanh(), nn.Linear(4, 2)]) is ours
    ours.insert(-1, nn.Linear(4, 4)).insert(0, nn.Identity()).insert(5, nn.ReLU())
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(17).standard_normal((5, 3))
    np.testing.assert_allclose(ours(x), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)
    for index in (-7, 7):
        with pytest.raises(IndexError, match="out of range"):
            ours.insert(index, nn.ReLU())
        with pytest.raises(IndexError, match="out of range"):
            theirs.insert(index, torch.nn.ReLU())
    with pytest.raises(TypeError, match="Modules"):
        ours.append(np.tanh)


def test_module_to_float_and_double_as_pytorch():
    """.float(), .double() and .to(dtype or device) as torch's (an AttributeError before):
    every parameter and its gradient converted in place (the same roundings as torch's),
    a LayerNorm without weights casting to the new dtype; the CPU is the one device."""
    ours, theirs = pair()
    x = np.random.default_rng(16).standard_normal((4, 3))
    loss_fn = nn.MSELoss()
    loss_fn(ours(x), np.zeros((4, 2)))
    ours.backward(loss_fn.backward())
    torch.nn.functional.mse_loss(theirs(torch.from_numpy(x)), torch.zeros(4, 2, dtype=torch.float64)).backward()
    assert ours.float() is ours and theirs.float() is theirs
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert p.data.dtype == p.grad.dtype == np.float32, name
        np.testing.assert_array_equal(p.data, q.detach().numpy(), err_msg=name)
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-6, err_msg=name)
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(ours(x32), theirs(torch.from_numpy(x32)).detach().numpy(), rtol=1e-5, atol=1e-6)
    for to in (lambda m: m.double(), lambda m: m.to(torch.float64), lambda m: m.to("cpu", dtype="float64"),
               lambda m: m.to(torch.device("cpu"), np.float64)):
        ours.float()
        assert to(ours) is ours and all(p.data.dtype == np.float64 for p in ours.parameters())
    norm = nn.LayerNorm(3, elementwise_affine=False).float()
    tnorm = torch.nn.LayerNorm(3, elementwise_affine=False).float()
    np.testing.assert_allclose(norm(x32), tnorm(torch.from_numpy(x32)).numpy(), rtol=1e-5, atol=1e-6)
    assert ours.to("cpu") is ours
    with pytest.raises(ValueError, match="CPU"):
        ours.to("cuda:0")
    with pytest.raises(TypeError, match="float32 or float64"):
        ours.to(torch.int64)


@pytest.mark.parametrize("freeze", [True, False])
def test_embedding_from_pretrained_as_pytorch(freeze):
    """Embedding.from_pretrained: the given rows (a copy, their dtype), frozen by default,
    the padding row kept and given no gradient, as torch's; the generator untouched."""
    w = np.random.default_rng(12).standard_normal((6, 3)).astype(np.float32)
    theirs = torch.nn.Embedding.from_pretrained(torch.from_numpy(w.copy()), freeze=freeze, padding_idx=2)
    nnk.manual_seed(1)
    ours = nn.Embedding.from_pretrained(w, freeze=freeze, padding_idx=2)
    after = nn.Linear(2, 2).weight.data
    nnk.manual_seed(1)
    np.testing.assert_array_equal(after, nn.Linear(2, 2).weight.data)
    w[0] = 7  # a copy
    assert ours.weight.data.dtype == np.float32 and ours.weight.requires_grad == theirs.weight.requires_grad
    assert repr(ours) == repr(theirs) and ours.padding_idx == 2
    ids = np.array([[2, 0, 5], [1, 2, 2]])
    g = np.random.default_rng(13).standard_normal((2, 3, 3)).astype(np.float32)
    out = theirs(torch.from_numpy(ids))
    np.testing.assert_array_equal(ours(ids), out.detach().numpy())
    opt, topt = nnk.optim.SGD(ours.parameters(), lr=0.5), torch.optim.SGD(theirs.parameters(), lr=0.5)
    ours.zero_grad()
    ours.backward(g)
    opt.step()
    if not freeze:
        out.backward(torch.from_numpy(g))
        topt.step()
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="2-D"):
        nn.Embedding.from_pretrained(np.ones(3))


@pytest.mark.parametrize("padding_idx", [0, 3, -1])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_embedding_padding_idx_as_pytorch(padding_idx, dtype):
    """The padding row starts at zero and no gradient reaches it (ids of every shape, the
    padding id repeated), with torch's weights and gradients."""
    theirs = torch.nn.Embedding(7, 4, padding_idx=padding_idx).to(torch.float64 if dtype == np.float64
                                                                    else torch.float32)
    ours = nn.Embedding(7, 4, dtype=dtype, padding_idx=padding_idx)
    row = padding_idx % 7
    assert ours.padding_idx == theirs.padding_idx == row and repr(ours) == repr(theirs)
    assert not ours.weight.data[row].any() and ours.weight.data[(row + 1) % 7].all()
    ours.load_state_dict(theirs.state_dict())
    ids = np.array([[row, 1, 2, row], [5, row, 2, 6]])
    g = np.random.default_rng(16).standard_normal((2, 4, 4)).astype(dtype)
    out = theirs(torch.from_numpy(ids))
    out.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(ours(ids), out.detach().numpy())
    ours.zero_grad()
    ours.backward(g)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-6)
    assert not ours.weight.grad[row].any() and ours.weight.grad[2].any()
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(7, 4, padding_idx=7)
    with pytest.raises(TypeError, match="padding_idx="):  # torch's positional padding_idx
        nn.Embedding(7, 4, 0)


@pytest.mark.parametrize("kw", [dict(max_norm=1.5), dict(max_norm=0.5, norm_type=float("inf")),
                                dict(max_norm=2, norm_type=1.0, scale_grad_by_freq=True, padding_idx=2),
                                dict(scale_grad_by_freq=True)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_embedding_max_norm_and_frequency_scaling_as_pytorch(kw, dtype):
    """max_norm: the rows a forward names rescaled in place to that norm where longer (the
    others untouched), the output and later gradients from the rescaled rows;
    scale_grad_by_freq: a row's gradient over its count in the batch; torch's values and
    repr."""
    theirs = torch.nn.Embedding(7, 4, **kw).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = nn.Embedding(7, 4, dtype=dtype, **kw)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict(theirs.state_dict())
    before = ours.weight.data.copy()
    ids = np.array([[2, 1, 2, 3], [5, 2, 1, 6]])  # 2 thrice, 1 twice; 0 and 4 not at all
    g = np.random.default_rng(17).standard_normal((2, 4, 4)).astype(dtype)
    out = theirs(torch.from_numpy(ids))
    out.backward(torch.from_numpy(g))
    y = ours(ids)
    ours.zero_grad()
    ours.backward(g)
    tol = dict(rtol=1e-12, atol=1e-15) if dtype == np.float64 else dict(rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(y, out.detach().numpy(), **tol)
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), **tol)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), **tol)
    np.testing.assert_array_equal(ours.weight.data[[0, 4]], before[[0, 4]])
    if "max_norm" in kw:
        norms = np.linalg.norm(ours.weight.data[np.unique(ids)], ord=kw.get("norm_type", 2), axis=1)
        assert norms.max() <= kw["max_norm"] * (1 + 1e-6) and not np.array_equal(ours.weight.data, before)


def test_all_ignored_mean_is_nan_as_pytorch():
    x = np.zeros((2, 3))
    t = np.array([-100, -100])
    assert np.isnan(nnk.cross_entropy(x, t)) and np.isnan(
        torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(t)).item())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_pytorch(reduction):
    rng = np.random.default_rng(14)
    logp = nnk.log_softmax(rng.standard_normal((7, 5)))
    t = rng.integers(0, 5, 7)
    t[3] = -100
    tx = torch.from_numpy(logp).requires_grad_()
    tl = torch.nn.NLLLoss(reduction=reduction)(tx, torch.from_numpy(t))
    tl.sum().backward()
    ours = nn.NLLLoss(reduction=reduction)
    np.testing.assert_allclose(ours(logp, t), tl.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(ours.backward(), tx.grad.numpy(), rtol=1e-14)
    # LogSoftmax + NLLLoss is CrossEntropyLoss
    x = rng.standard_normal((7, 5))
    np.testing.assert_allclose(nnk.nll_loss(nnk.log_softmax(x), t, reduction),
                               nnk.cross_entropy(x, t, reduction), rtol=1e-13)


ADAPTIVE = {
    "rmsprop": (lambda g: nnk.optim.RMSprop(g, lr=0.01), lambda g: torch.optim.RMSprop(g, lr=0.01)),
    "rmsprop-centred": (
        lambda g: nnk.optim.RMSprop(g, lr=0.01, centered=True, momentum=0.9, weight_decay=0.01),
        lambda g: torch.optim.RMSprop(g, lr=0.01, centered=True, momentum=0.9, weight_decay=0.01)),
    "adagrad": (lambda g: nnk.optim.Adagrad(g, lr=0.05), lambda g: torch.optim.Adagrad(g, lr=0.05)),
    "adagrad-decay": (
        lambda g: nnk.optim.Adagrad(g, lr=0.05, lr_decay=0.1, weight_decay=0.01,
                                    initial_accumulator_value=0.1),
        lambda g: torch.optim.Adagrad(g, lr=0.05, lr_decay=0.1, weight_decay=0.01,
                                      initial_accumulator_value=0.1)),
}


@pytest.mark.parametrize("name", sorted(ADAPTIVE))
def test_rmsprop_and_adagrad_trajectories_match_pytorch(name):
    ours, theirs, opt, topt = _trained(ADAPTIVE[name], steps=8)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)
    mine, torch_state = opt.state_dict(), topt.state_dict()
    for i, st in torch_state["state"].items():
        for key, value in st.items():
            np.testing.assert_allclose(np.asarray(mine["state"][i][key]), np.asarray(value), rtol=1e-9,
                                       atol=1e-12)


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("kind", sorted(FREEZE_OPTIMISERS))
def test_parameters_no_backward_reached_as_pytorch(kind, set_to_none):
    """A trunk and two heads, one head used a step (a task switch, an unused branch):
    torch's optimisers pass by a parameter whose gradient is None, so the unused head
    neither decays nor moves on its momentum, and clip_grad_norm_ leaves it out; nnk's
    stepped it with zeros before.  zero_grad(set_to_none=False) writes zeros into a
    gradient that exists, which both then step, and leaves a None as it is.  Every step's
    weights and norms are torch's."""
    def build(lib):
        class Net(lib.Module):
            def __init__(self):
                super().__init__() if lib is torch.nn else None
                self.trunk = lib.Sequential(lib.Linear(3, 5), lib.Tanh())
                self.heads = lib.ModuleDict(dict(a=lib.Linear(5, 2), b=lib.Linear(5, 2)))

            def forward(self, x, head):
                self.used = self.heads[head]
                return self.used(self.trunk(x))

            def backward(self, g):
                return self.trunk.backward(self.used.backward(g))
        return Net()

    torch.manual_seed(21)
    theirs, ours = build(torch.nn).double(), build(nn)
    ours.load_state_dict(theirs.state_dict())
    opt = FREEZE_OPTIMISERS[kind](nnk.optim, ours.parameters())
    topt = FREEZE_OPTIMISERS[kind](torch.optim, theirs.parameters())
    x = np.random.default_rng(22).standard_normal((8, 3))
    y = np.random.default_rng(23).standard_normal((8, 2))
    loss_fn = nn.MSELoss()
    before = ours.heads["b"].weight.data.copy()
    for step, head in enumerate("abaa"):
        opt.zero_grad(set_to_none=set_to_none)
        topt.zero_grad(set_to_none=set_to_none)
        loss_fn(ours(x, head), y)
        ours.backward(loss_fn.backward())
        norm = nn.utils.clip_grad_norm_(ours, 10.0)
        opt.step()
        torch.nn.functional.mse_loss(theirs(torch.from_numpy(x), head), torch.from_numpy(y)).backward()
        tnorm = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 10.0)
        topt.step()
        np.testing.assert_allclose(norm, float(tnorm), rtol=1e-12)
        for name, value in ours.state_dict().items():
            np.testing.assert_allclose(value, theirs.state_dict()[name].numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name} after step {step}")
        after = ours.heads["b"].weight.data
        if step == 0:  # head b has no gradient yet, whatever zero_grad was told
            assert np.array_equal(after, before)
        elif step > 1:  # head b's gradient from step 1: None, or zeros that step it
            assert np.array_equal(after, before) == set_to_none
        before = after.copy()
    # the optimiser's state holds what torch's does (Adam's step counts per parameter)
    tstate = topt.state_dict()["state"]
    assert sorted(opt.state_dict()["state"]) == sorted(tstate)
    if kind.startswith("adam"):
        assert [opt.state[i]["step"] for i in sorted(opt.state)] == [
            int(tstate[i]["step"]) for i in sorted(tstate)]


def test_schedules_and_optimisers_live_where_pytorch_keeps_them():
    """``from torch.optim.lr_scheduler import StepLR`` reads the same with nnk (a
    ModuleNotFoundError before: nnk.optim was one module): every schedule of nnk's is in
    nnk.optim.lr_scheduler under torch's name and is nnk.optim's own, and every optimiser
    and schedule nnk.optim offers is one torch.optim has, by name."""
    from nnk.optim.lr_scheduler import StepLR

    schedules = {name for name, obj in vars(nnk.optim.lr_scheduler).items()
                 if isinstance(obj, type) and obj.__module__ == nnk.optim.lr_scheduler.__name__
                 and not name.startswith("_")}
    assert StepLR is nnk.optim.StepLR and len(schedules) == 10
    for name in schedules:
        assert getattr(nnk.optim, name) is getattr(nnk.optim.lr_scheduler, name)
        assert hasattr(torch.optim.lr_scheduler, name), name
    optimisers = {n for n in nnk.optim.__all__ if n not in schedules and n != "lr_scheduler"}
    assert optimisers == {"Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}
    assert all(hasattr(torch.optim, n) for n in optimisers)


def test_layers_take_torch_dtypes():
    """dtype=torch.float32 in a layer's constructor, as a PyTorch user writes it (a
    TypeError before; only Module.to took it): the parameters are those of NumPy's dtype
    of that name, as torch's layer given the same dtype holds them; a dtype nnk does not
    compute in is still a TypeError naming it."""
    for tdtype, ndtype in ((torch.float32, np.float32), (torch.float64, np.float64)):
        pairs = [(nn.Linear(3, 4, dtype=tdtype), torch.nn.Linear(3, 4, dtype=tdtype)),
                 (nn.Embedding(5, 2, dtype=tdtype), torch.nn.Embedding(5, 2, dtype=tdtype)),
                 (nn.LayerNorm(4, dtype=tdtype), torch.nn.LayerNorm(4, dtype=tdtype)),
                 (nn.RNN(3, 4, dtype=tdtype), torch.nn.RNN(3, 4, dtype=tdtype))]
        for ours, theirs in pairs:
            assert [p.data.dtype for p in ours.parameters()] == [ndtype] * len(list(ours.parameters()))
            assert all(str(p.dtype) == f"torch.{np.dtype(ndtype)}" for p in theirs.parameters())
        assert nn.GPT(10, 4, 1, 1, 8, dtype=tdtype).transformer.wte.weight.data.dtype == ndtype
    with pytest.raises(TypeError, match="float16"):
        nn.Linear(3, 4, dtype=torch.float16)


def test_frozen_parameters_gradients_are_not_computed_as_pytorch():
    """A frozen parameter of Linear, LayerNorm or Embedding: backward leaves its .grad as
    it was (torch's stays None; nnk computed it and added it before, work a frozen body
    does not need), while the input's and the other parameters' gradients are torch's."""
    torch.manual_seed(40)
    t_emb, t_lin, t_ln = torch.nn.Embedding(6, 4).double(), torch.nn.Linear(4, 3).double(), \
        torch.nn.LayerNorm(3).double()
    emb, lin, ln = nn.Embedding(6, 4), nn.Linear(4, 3), nn.LayerNorm(3)
    for ours, theirs in ((emb, t_emb), (lin, t_lin), (ln, t_ln)):
        ours.load_state_dict(theirs.state_dict())
    frozen = [emb.weight, lin.weight, ln.weight]
    for p in frozen:
        p.grad = np.full(p.shape, 7.0)
        p.requires_grad_(False)
    for p in (t_emb.weight, t_lin.weight, t_ln.weight):
        p.requires_grad_(False)
    ids = np.array([[0, 5, 2], [2, 2, 1]])
    g = np.random.default_rng(41).standard_normal((2, 3, 3))
    y = ln(lin(emb(ids)))
    dx = lin.backward(ln.backward(g))
    emb.backward(dx)
    te = t_emb(torch.from_numpy(ids)).detach().requires_grad_()  # the frozen Linear's input
    ty = t_ln(t_lin(te))
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx, te.grad.numpy(), rtol=1e-12, atol=1e-15)
    for p in frozen:
        np.testing.assert_array_equal(p.grad, 7.0)
    for p, tp in ((lin.bias, t_lin.bias), (ln.bias, t_ln.bias)):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert t_lin.weight.grad is None and t_emb.weight.grad is None

