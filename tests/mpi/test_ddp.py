"""nnk.distributed on two ranks: the collectives, DistributedDataParallel's averaged
gradients, and nnk.train over ranks against one process on the whole batch.

The oracles are independent of what they check: mpi4py's own allgather (not nnk's
all_reduce) collects every rank's values, and the one-process runs are plain nnk
models trained without nnk.distributed."""
import numpy as np
import pytest
from mpi4py import MPI

import nnk
import nnk.distributed as dist
from nnk import nn, optim
from nnk.nn.module import Parameter

COMM = MPI.COMM_WORLD


def everyone(value):
    """Every rank's ``value``, in rank order (mpi4py's allgather: the test's own channel)."""
    return COMM.allgather(value)


# ---- collectives ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
def test_all_reduce_combines_every_ranks_array(world, dtype, op):
    if op == "mean" and dtype is np.int64:
        pytest.skip("a mean of integers is refused (tests/test_distributed.py)")
    rank, _ = world
    a = (np.random.default_rng(10 + rank).standard_normal((3, 5)) * 100).astype(dtype)
    arrays = np.stack(everyone(a))
    expected = {"sum": arrays.sum(0), "mean": arrays.mean(0), "max": arrays.max(0),
                "min": arrays.min(0)}[op].astype(dtype)
    got = dist.all_reduce(a, op=op)
    assert got is a
    np.testing.assert_array_equal(a, expected)
    assert all(np.array_equal(x, a) for x in everyone(a))


def test_broadcast_copies_the_source_ranks_array(world):
    rank, size = world
    a = np.arange(7, dtype=np.float64) + 10 * rank
    assert dist.broadcast(a, src=size - 1) is a
    np.testing.assert_array_equal(a, np.arange(7) + 10 * (size - 1))


def test_barrier_and_the_world(world):
    rank, size = world
    dist.barrier()
    assert everyone(rank) == list(range(size))
    assert dist.is_initialized() and size == COMM.Get_size()


# ---- DistributedDataParallel ---------------------------------------------------------


def _mlp(seed, dtype=np.float64):
    nnk.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16, dtype=dtype), nn.Tanh(), nn.Linear(16, 16, dtype=dtype),
                         nn.ReLU(), nn.Linear(16, 3, dtype=dtype))


def test_construction_copies_rank_0s_parameters(world):
    net = _mlp(seed=world[0])  # each rank its own initialisation
    ddp = dist.DistributedDataParallel(net)
    assert ddp.module is net
    for p, q in zip(net.parameters(), _mlp(seed=0).parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_construction_refuses_ranks_with_different_models(world):
    net = _mlp(0) if world[0] == 0 else nn.Linear(6, 3, dtype=np.float64)
    with pytest.raises(ValueError, match="different"):
        dist.DistributedDataParallel(net)


def _layers_with_parameters(net):
    return sum(1 for m in net.modules() if any(isinstance(v, Parameter) for v in vars(m).values()))


@pytest.mark.parametrize("bucket_cap_mb", [1e-5, 1.0])
def test_backward_averages_every_gradient(world, bucket_cap_mb):
    """A GPT (its lm_head tied to the token embedding: two layers write that gradient)
    over three steps: the first reduces at the end, the later ones bucket by bucket."""
    rank, size = world
    nnk.manual_seed(1)
    net = nn.GPT(30, 8, 2, 2, 8, dtype=np.float64)
    ddp = dist.DistributedDataParallel(net, bucket_cap_mb=bucket_cap_mb)
    plain = nn.GPT(30, 8, 2, 2, 8, dtype=np.float64)  # this rank's own gradients, the oracle
    loss_fn, rng = nn.NextTokenLoss(), np.random.default_rng(100 + rank)
    for _ in range(3):
        plain.load_state_dict(net.state_dict())
        idx, tgt = rng.integers(0, 30, (2, 8)), rng.integers(0, 30, (2, 8))
        loss_fn(plain(idx), tgt)
        plain.zero_grad()
        plain.backward(loss_fn.backward())
        mine = {name: p.grad.copy() for name, p in plain.named_parameters()}
        loss_fn(ddp(idx), tgt)
        ddp.zero_grad()
        ddp.backward(loss_fn.backward())
        ranks = everyone(mine)
        for name, p in net.named_parameters():
            mean = sum(r[name] for r in ranks) / size
            np.testing.assert_allclose(p.grad, mean, rtol=1e-12, atol=1e-15, err_msg=name)
    if bucket_cap_mb < 1e-3:
        layers = _layers_with_parameters(net)
        starts = ddp._started_after
        assert len(starts) > 2 and starts == sorted(starts)
        assert starts[0] < layers  # sent while backward still had layers to go


def test_a_layer_run_more_often_than_the_schedule_is_refused(world):
    """After the first step fixed which backward call completes a gradient, a gradient
    written after it was sent would be lost: refused, on every rank alike."""
    nnk.manual_seed(2)
    lin = nn.Linear(4, 4, dtype=np.float64)
    ddp = dist.DistributedDataParallel(nn.Sequential(lin, nn.Tanh()), bucket_cap_mb=1e-6)
    x = np.ones((2, 4))
    ddp(x)
    ddp.backward(np.ones((2, 4)))
    ddp.module.layers.append(lin)  # the same layer twice from now on
    ddp(x)
    with pytest.raises(RuntimeError, match="changed after it was sent"):
        ddp.backward(np.ones((2, 4)))


class _TwoHeads(nn.Module):
    """A trunk and two heads, one of them used a step."""

    def __init__(self):
        nnk.manual_seed(12)
        self.trunk = nn.Sequential(nn.Linear(6, 8, dtype=np.float64), nn.Tanh())
        self.heads = nn.ModuleDict(dict(a=nn.Linear(8, 3, dtype=np.float64), b=nn.Linear(8, 3, dtype=np.float64)))

    def forward(self, x, head):
        self.used = self.heads[head]
        return self.used(self.trunk(x))

    def backward(self, g, input_grad=True):
        return self.trunk.backward(self.used.backward(g), input_grad)


@pytest.mark.parametrize("bucket_cap_mb", [1e-5, 1.0])
def test_a_head_no_rank_reached_is_passed_by_as_in_one_process(world, bucket_cap_mb):
    """Heads used in turns (b never at first, then left again): where no rank's backward
    reached a parameter, its gradient stays None after the reduction, so AdamW's decay
    passes it by on every rank, as in one process on the whole batch (where the
    optimiser passes it by); it was reduced as zeros and decayed before."""
    rank, size = world
    rng = np.random.default_rng(13)
    X, Y = rng.standard_normal((8, 6)), rng.standard_normal((8, 3))
    mine = slice(rank * 8 // size, (rank + 1) * 8 // size)
    net, ref = _TwoHeads(), _TwoHeads()
    ddp = dist.DistributedDataParallel(net, bucket_cap_mb=bucket_cap_mb)
    opt = optim.AdamW(net.parameters(), lr=0.05, weight_decay=0.5)
    ref_opt = optim.AdamW(ref.parameters(), lr=0.05, weight_decay=0.5)
    loss_fn, ref_loss = nn.MSELoss(reduction="sum"), nn.MSELoss(reduction="sum")
    b_before = net.heads["b"].weight.data.copy()
    for step, head in enumerate("aabaa"):
        opt.zero_grad()
        loss_fn(ddp(X[mine], head), Y[mine])
        ddp.backward(loss_fn.backward() * size)  # the mean over ranks of size x each part: the sum
        opt.step()
        ref_opt.zero_grad()
        ref_loss(ref(X, head), Y)
        ref.backward(ref_loss.backward())
        ref_opt.step()
        for (name, p), q in zip(net.named_parameters(), ref.parameters()):
            np.testing.assert_allclose(p.data, q.data, rtol=1e-12, atol=1e-14,
                                       err_msg=f"{name} after step {step}")
        if step < 2:  # head b not reached yet: not a bit moved
            np.testing.assert_array_equal(net.heads["b"].weight.data, b_before)
    assert all(np.array_equal(w, net.heads["b"].weight.data) for w in everyone(net.heads["b"].weight.data))


# ---- nnk.train over ranks --------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("batch_size", [None, 15, 4, 7])
def test_train_walks_the_batches_of_one_process(world, batch_size, reduction):
    """15 samples: one batch (8 + 7), batches of 4 (the last 2 + 1), of 7 (the last one
    sample: rank 1 has none).  Ranks seeded differently still walk rank 0's batches."""
    rank, _ = world
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((15, 6)), rng.integers(0, 3, 15)
    net = _mlp(seed=7 + rank)
    ddp = dist.DistributedDataParallel(net, bucket_cap_mb=1e-4)
    loss_fn = nn.CrossEntropyLoss(reduction=reduction)
    lr = 0.1 if reduction == "mean" else 0.01
    opt = optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    nnk.manual_seed(3 + rank)
    hist = nnk.train(ddp, loss_fn, opt, X, Y, epochs=3, batch_size=batch_size, progress=False)

    ref = _mlp(seed=7)
    ref_opt = optim.SGD(ref.parameters(), lr=lr, momentum=0.9)
    nnk.manual_seed(3)
    ref_hist = nnk.train(ref, nn.CrossEntropyLoss(reduction=reduction), ref_opt, X, Y, epochs=3,
                         batch_size=batch_size, progress=False)
    np.testing.assert_allclose(hist.loss, ref_hist.loss, rtol=1e-12)
    for p, q in zip(net.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-11, atol=1e-13)
    assert all(h == hist.loss for h in everyone(hist.loss))


def test_train_refuses_ranks_with_datasets_of_different_sizes(world):
    net = _mlp(seed=0)
    n = 10 + world[0]
    with pytest.raises(ValueError, match="different sizes"):
        nnk.train(dist.DistributedDataParallel(net), nn.CrossEntropyLoss(),
                  optim.SGD(net.parameters(), lr=0.1), np.ones((n, 6)), np.zeros(n, np.int64),
                  epochs=1, progress=False)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_gpt_under_ddp_equals_one_process_on_the_whole_batch(world, dtype, rtol):
    """Ten AdamW steps on a global batch of 16 sequences, 8 per rank."""
    ids = np.random.default_rng(0).integers(0, 40, (16, 9))
    X, Y = ids[:, :-1], ids[:, 1:]

    def run(wrap):
        nnk.manual_seed(0)
        net = nn.GPT(40, 8, 2, 2, 16, dtype=dtype)
        model = dist.DistributedDataParallel(net) if wrap else net
        opt = optim.AdamW(net.parameters(), lr=1e-2, weight_decay=0.1)
        hist = nnk.train(model, nn.NextTokenLoss(), opt, X, Y, epochs=10, progress=False)
        return hist.loss, net.state_dict()

    (loss, weights), (ref_loss, ref_weights) = run(True), run(False)
    np.testing.assert_allclose(loss, ref_loss, rtol=rtol)
    for name, w in weights.items():
        ref = ref_weights[name]
        if name.endswith("c_attn.bias"):
            # Not the keys' bias (entries C..2C-1): it adds q.b to every score of a row,
            # which softmax ignores, so its exact gradient is 0 and the computed one is
            # rounding noise that AdamW scales up to steps of up to lr (in float32 they
            # reach 1e-3 relative between any two summation orders, one process or two).
            keep = np.r_[0:16, 32:48]
            w, ref = w[keep], ref[keep]
        assert np.abs(w - ref).max() <= rtol * np.abs(ref).max(), name


def test_only_rank_0_draws_the_progress_bar(world, capsys):
    pytest.importorskip("tqdm")
    rank, size = world
    net = _mlp(seed=0)
    X, Y = np.ones((4, 6)), np.zeros(4, dtype=np.int64)
    nnk.train(dist.DistributedDataParallel(net), nn.CrossEntropyLoss(),
              optim.SGD(net.parameters(), lr=0.1), X, Y, epochs=2, progress=True)
    drew = "training" in capsys.readouterr().err
    assert everyone(drew) == [True] + [False] * (size - 1)


# ---- DistributedSampler ------------------------------------------------------------------

def test_the_samplers_of_all_ranks_cover_the_dataset(world):
    rank, size = world
    s = dist.DistributedSampler(11, shuffle=True, seed=4)
    s.set_epoch(2)
    parts = everyone(list(s))
    assert sorted(sum(parts, [])[:11]) != [] and set(sum(parts, [])) == set(range(11))
    assert all(len(p) == 6 for p in parts)  # ceil(11 / 2), padded
