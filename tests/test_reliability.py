"""No process-wide side effects, no leaks, thread safety, fork safety, determinism."""
import gc
import os
import sys
import threading

import numpy as np
import pytest

import nnk

RNG = np.random.default_rng(42)


def test_floating_point_environment_untouched():
    """No flush-to-zero / denormals-are-zero after importing and running nnk."""
    nnk.matmul(RNG.standard_normal((64, 64)), RNG.standard_normal((64, 64)))
    nnk.tanh(RNG.standard_normal(1000).astype(np.float32))
    for dt in (np.float32, np.float64):
        tiny = np.finfo(dt).smallest_subnormal
        assert tiny > 0
        x = np.array([tiny, 4 * tiny], dt)
        assert np.all(x * dt(1) == x)          # FTZ would flush the products
        assert np.all((x + dt(0)) > 0)         # DAZ would read the inputs as zero
        assert nnk.relu(x)[0] == tiny          # and nnk itself keeps them


CALLS = {
    "relu": lambda x: nnk.relu(x),
    "tanh_out": lambda x: nnk.tanh(x, out=np.empty_like(x)),
    "sigmoid_grad": lambda x: nnk.sigmoid_grad(x, x),
    "softmax": lambda x: nnk.softmax(x),
    "logsumexp": lambda x: nnk.logsumexp(x),
    "matmul": lambda x: nnk.matmul(x.reshape(4, 4), x.reshape(4, 4)),
    "gemm_c": lambda x: nnk.gemm(x.reshape(4, 4), x.reshape(4, 4), x.reshape(4, 4), beta=1.0),
    "mse": lambda x: nnk.mse_loss(x, x),
    "error_path": lambda x: pytest.raises(ValueError, nnk.relu, x, out=np.empty(3)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_many_calls_leave_refcounts_and_memory_flat(name):
    import tracemalloc

    call = CALLS[name]
    x = RNG.standard_normal(16)
    for _ in range(1000):
        call(x)
    gc.collect()
    refs = sys.getrefcount(x)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(100_000 if not os.environ.get("NNK_SANITIZED") else 5_000):
        call(x)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert sys.getrefcount(x) == refs
    assert grown < 64 * 1024, f"{name}: {grown} bytes kept after 100k calls"


def test_four_threads_at_once_get_right_answers():
    a = RNG.standard_normal((200, 150))
    b = RNG.standard_normal((150, 120))
    x = RNG.standard_normal(50_000)
    ref_mm, ref_tanh, ref_sm = nnk.matmul(a, b), nnk.tanh(x), nnk.softmax(x.reshape(50, -1))
    # Blocked products (packed panels in each calling thread's GEMM workspace), of sizes
    # that make each thread's workspace grow and be reused while the others run.
    big = [(RNG.standard_normal((m, k)), RNG.standard_normal((k, n)))
           for m, k, n in ((300, 700, 250), (520, 300, 90), (96, 1100, 333))]
    ref_big = [nnk.matmul(p, q) for p, q in big]
    errors = []

    def worker(first):
        try:
            for i in range(20):
                np.testing.assert_array_equal(nnk.matmul(a, b), ref_mm)
                np.testing.assert_array_equal(nnk.tanh(x), ref_tanh)
                np.testing.assert_array_equal(nnk.softmax(x.reshape(50, -1)), ref_sm)
                j = (first + i) % len(big)
                np.testing.assert_array_equal(nnk.matmul(*big[j]), ref_big[j])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[0]


def _longest_pause_during(call):
    """(longest stretch in which this thread ran no Python while another thread was
    inside ``call``, the call's duration), in seconds.  With the GIL held through the
    call the pause is about the whole call (less the 5 ms switch interval at its start);
    with the GIL released it is well under a millisecond."""
    import time

    window = []

    def work():
        t0 = time.perf_counter()
        call()
        window.extend((t0, time.perf_counter()))

    t = threading.Thread(target=work)
    stamps = []
    t.start()
    while t.is_alive():
        stamps.append(time.perf_counter())
    t.join()
    t0, t1 = window
    stamps = np.array(stamps)
    inside = np.concatenate([[t0], stamps[(stamps > t0) & (stamps < t1)], [t1]])
    return float(np.diff(inside).max()), t1 - t0


BIG = 1 << 23  # 8M elements: tens of milliseconds per call


def _gil_cases():
    from nnk import _C

    p, g, m, v = (np.full(BIG, 0.5) for _ in range(4))
    ids = np.arange(BIG // 8, dtype=np.int64) % 1000
    emb_g, emb_w = np.ones((BIG // 8, 8)), np.zeros((1000, 8))
    a = RNG.standard_normal((900, 900))
    return {
        "matmul": lambda: nnk.matmul(a, a),
        "tanh": lambda: nnk.tanh(p),
        "sgd_step": lambda: _C.sgd_step(p, g, v, 0.1, 0.9, 0.01, True),
        "adam_step": lambda: _C.adam_step(p, g, m, v, 0.1, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.01, False),
        "axpy": lambda: _C.axpy(0.5, g, p),
        "embedding_backward": lambda: _C.embedding_backward(ids, emb_g, emb_w),
    }


@pytest.mark.parametrize("name", ["matmul", "tanh", "sgd_step", "adam_step", "axpy",
                                  "embedding_backward"])
def test_long_kernels_release_the_gil(name):
    """While one thread runs a long kernel, another keeps running Python."""
    call = _gil_cases()[name]
    call()  # warm: page in the arrays
    pause, seconds = min(_longest_pause_during(call) for _ in range(3))
    assert pause < 0.3 * seconds, f"{name}: no Python ran for {pause * 1e3:.1f} of {seconds * 1e3:.1f} ms"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_after_threaded_call_does_not_deadlock():
    a = RNG.standard_normal((400, 400))
    nnk.matmul(a, a)  # the thread pool now exists in the parent
    pid = os.fork()
    if pid == 0:  # child: one more (threaded-size) call, then leave at once
        try:
            ok = np.allclose(nnk.matmul(a, a), a @ a)
            os._exit(0 if ok else 3)
        except BaseException:
            os._exit(4)
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked child hung in its nnk call")


def test_bitwise_deterministic_run_after_run():
    a = RNG.standard_normal((300, 257)).astype(np.float32)
    b = RNG.standard_normal((257, 301)).astype(np.float32)
    x = RNG.standard_normal(10_001).astype(np.float32)
    first = nnk.matmul(a, b), nnk.gelu(x), nnk.softmax(x[:10000].reshape(100, 100))
    for _ in range(3):
        again = nnk.matmul(a, b), nnk.gelu(x), nnk.softmax(x[:10000].reshape(100, 100))
        for f, g in zip(first, again):
            assert np.array_equal(f, g)


# ---- sizes in the binding cannot wrap around ---------------------------------------

def test_rnn_entry_size_products_are_overflow_checked():
    from nnk import _C

    e = np.empty(0)
    for B, T, I, H in ((2**32, 2**32, 1, 1), (0, 0, 2**32, 2**32), (1, 2**62, 4, 4),
                       (2**40, 1, 1, 2**30)):
        with pytest.raises(OverflowError):
            _C.rnn_forward(B, T, I, H, False, e, e, e, None, None, e)
        with pytest.raises(OverflowError):
            _C.rnn_backward(B, T, I, H, True, e, e, e, None, e, e, e, e, e, None, None)

