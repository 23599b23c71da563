"""The array pool (csrc/python/array_pool.c): NumPy's allocator while a layer runs, blocks
kept for reuse instead of fresh pages, NumPy's own allocator everywhere else."""
import os
import resource
import threading

import numpy as np
import pytest

import nnk
from nnk import _C, nn, optim

handler_name = np._core.multiarray.get_handler_name
BIG = 1 << 17  # float64 values: 1 MiB, above the pool's smallest kept block (64 KiB)


def test_layers_draw_from_the_pool_and_leave_numpy_its_allocator():
    made = {}

    class Probe(nn.Module):
        def forward(self, x):
            made["forward"] = np.empty(BIG)
            return x

        def backward(self, g):
            made["backward"] = np.empty(BIG)
            return g

    p = Probe()
    p(np.ones(BIG))
    p.backward(np.ones(3))  # a backward's arrays (weight gradients) need not scale with g
    assert handler_name(made["forward"]) == handler_name(made["backward"]) == "nnk_pool"
    assert handler_name(np.empty(BIG)) == handler_name() == "default_allocator"


def test_a_forward_of_small_float_inputs_keeps_numpy_allocator_unless_nested():
    """Module calls whose inputs are all float arrays below the pool's smallest kept block
    (64 KiB) or plain scalars do not set the pool (their arrays are of the inputs' order:
    malloc's either way); index arrays, lists and large arrays do, and so does a module
    with large inputs called inside a small call."""
    seen = []

    class Probe(nn.Module):
        def __init__(self, inner=None):
            self.inner = inner

        def forward(self, x, *rest):
            seen.append(handler_name(np.empty(BIG)))
            if self.inner is not None:
                self.inner(np.ones(BIG))
            return x

    p = Probe()
    small = np.ones(8191)  # 8191 float64: one value short of 64 KiB
    p(small), p(np.ones(4, np.float32), 2.0, 3, None, True)
    assert seen == ["default_allocator"] * 2
    seen.clear()
    for args in [(np.ones(8192),), (np.arange(4),), ([1.0, 2.0],), (small, np.ones(8192)),
                 (np.ones(2, np.complex128),)]:
        p(*args)
    assert seen == ["nnk_pool"] * 5
    seen.clear()
    Probe(inner=Probe())(small)  # the inner call's large input: the pool for it alone
    assert seen == ["default_allocator", "nnk_pool"]
    with nnk.no_grad():
        seen.clear()
        p(np.ones(BIG)), p(small)
        assert seen == ["nnk_pool", "default_allocator"]
    assert handler_name() == "default_allocator"


def test_an_exception_inside_a_layer_puts_numpy_allocator_back():
    class Failing(nn.Module):
        def forward(self, x):
            np.empty(BIG)
            raise ValueError("inside forward")

    with pytest.raises(ValueError, match="inside forward"):
        Failing()(np.ones(2))
    assert handler_name() == "default_allocator"


def test_pooled_passes_arguments_and_results_and_nests():
    def f(a, b=0, *, c=0):
        return a + b + c, handler_name(np.empty(4))

    g = _C.pooled(f)
    assert g(1, 2, c=3) == (6, "nnk_pool")
    assert _C.pooled(lambda: g(1))() == (1, "nnk_pool")  # nested: the outer call's pool
    h = _C.pooled(lambda self, a=None: handler_name(np.empty(4)), unless_small=True)
    assert h(None, a=np.ones(2)) == h(None, 1.5) == "default_allocator"  # past the instance
    assert h(None, a=np.ones(BIG)) == h(np.ones(2), "text") == "nnk_pool"
    assert handler_name() == "default_allocator"


def test_a_call_that_raises_leaves_the_next_one_pooled():
    """Pooled calls count their nesting on the thread: one that raises must still end its
    count, or the next outermost call would take itself for nested and not set the pool."""
    def failing():
        np.empty(BIG)
        raise ValueError("inside")

    for _ in range(2):
        with pytest.raises(ValueError, match="inside"):
            _C.pooled(failing)()
        assert handler_name() == "default_allocator"
        assert _C.pooled(lambda: handler_name(np.empty(4)))() == "nnk_pool"


def test_a_pooled_method_gets_its_instance_however_it_is_called():
    class Layer:
        @_C.pooled
        def run(self, a, *, b=0):
            return self, a + b, handler_name(np.empty(4))

    layer = Layer()
    assert layer.run(1, b=2) == (layer, 3, "nnk_pool")
    assert Layer.run(layer, 1) == (layer, 1, "nnk_pool")
    assert layer.run.__self__ is layer
    assert handler_name() == "default_allocator"


def test_a_freed_block_is_handed_out_again_and_zeroed_when_asked():
    def make(fill):
        a = np.empty(BIG)
        a[:] = fill
        return a.__array_interface__["data"][0]

    def zeros():
        z = np.zeros(BIG)
        return z.__array_interface__["data"][0], bool((z == 0).all())

    # From an empty pool: a block freed is kept only while the pool holds no more than
    # its peak, which blocks of other sizes kept from earlier tests could fill.
    nnk.empty_cache()
    first = _C.pooled(make)(7.0)  # freed when make returns
    again, zero = _C.pooled(zeros)()  # the same class: the same block, dirty, zeroed
    assert again == first and zero


def test_arrays_still_held_are_never_handed_out():
    net = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 256))
    x = np.random.default_rng(0).standard_normal((256, 256))
    y1 = net(x)  # 512 KiB, held here
    before = y1.copy()
    for _ in range(3):
        net(x + 1)
        net.backward(np.ones((256, 256)))
    np.testing.assert_array_equal(y1, before)
    assert handler_name(y1) == "nnk_pool"


def test_resizing_a_pooled_array_keeps_its_values():
    def grow():
        a = np.arange(BIG, dtype=np.float64)
        a.resize(2 * BIG, refcheck=False)  # realloc through the pool
        return a

    a = _C.pooled(grow)()
    np.testing.assert_array_equal(a[:BIG], np.arange(BIG))
    assert (a[BIG:] == 0).all()


def test_the_pool_keeps_at_most_its_peak_and_empty_cache_returns_it():
    _C.pooled(lambda: [np.empty(BIG) for _ in range(4)])()
    stats = nnk.memory_stats()
    assert 0 < stats["kept"] <= stats["peak"]
    nnk.empty_cache()
    assert nnk.memory_stats()["kept"] == 0


def test_another_thread_keeps_numpy_allocator_while_a_layer_runs():
    seen = []
    started, release = threading.Event(), threading.Event()

    def other():
        started.wait()
        seen.append(handler_name(np.empty(BIG)))
        release.set()

    def layer_work():
        started.set()
        release.wait(10)
        return handler_name(np.empty(BIG))

    t = threading.Thread(target=other)
    t.start()
    inside = _C.pooled(layer_work)()
    t.join()
    assert inside == "nnk_pool" and seen == ["default_allocator"]


@pytest.mark.skipif("NNK_SANITIZED" in os.environ,
                    reason="AddressSanitizer's allocator holds freed memory back (its quarantine)")
def test_steady_training_steps_fault_in_no_fresh_pages():
    """The reason for the pool: a GPT step whose arrays are 0.5-2 MiB took 5,400 page
    faults a step without it (the same arrays freed and faulted in again)."""
    nnk.manual_seed(0)
    model = nn.GPT(vocab_size=512, block_size=64, n_layer=2, n_head=4, n_embd=128)
    idx = np.random.default_rng(0).integers(0, 512, (16, 64))
    opt, loss = optim.AdamW(model.parameters(), lr=1e-3), nn.NextTokenLoss()

    def step():
        loss(model(idx[:, :-1]), idx[:, 1:])
        model.zero_grad()
        model.backward(loss.backward())
        opt.step()

    for _ in range(3):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(3):
        step()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    assert faults < 100, f"{faults} page faults in three steps"
