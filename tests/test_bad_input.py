"""Bad input, all of it: each gives a Python exception naming the problem, or the right
answer; never a crash, a silent wrong value, or a change to an input."""
import numpy as np
import pytest

import nnk

X = np.linspace(-2, 2, 12).reshape(3, 4)
UNARY = [nnk.exp, nnk.log, nnk.tanh, nnk.sigmoid, nnk.relu, nnk.leaky_relu, nnk.gelu,
         nnk.identity, nnk.softmax, nnk.log_softmax, nnk.logsumexp]
BAD_DTYPES = [np.ones(3, complex), np.array(["a", "b"]), np.array([object(), None]),
              np.array([1, 2], dtype="datetime64[D]")]


@pytest.mark.parametrize("f", UNARY, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", BAD_DTYPES, ids=["complex", "str", "object", "datetime"])
def test_unary_rejects_bad_dtypes(f, bad):
    with pytest.raises(TypeError, match="float32 or float64"):
        f(bad)


@pytest.mark.parametrize("f", UNARY, ids=lambda f: f.__name__)
def test_unary_ints_bools_lists_and_views(f):
    for x in ([[1, 2], [3, 4]], np.array([[True, False], [True, True]]), X[::2, ::-1], X.T):
        ref = f(np.array(x, dtype=np.float64))
        got = f(x)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("f", [f for f in UNARY if f is not nnk.logsumexp], ids=lambda f: f.__name__)
def test_out_errors(f):
    with pytest.raises(ValueError, match="shape"):
        f(X, out=np.empty((4, 3)))
    with pytest.raises(ValueError, match="dtype"):
        f(X, out=np.empty((3, 4), np.float32))
    ro = np.empty((3, 4))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        f(X, out=ro)
    with pytest.raises(TypeError, match="ndarray"):
        f(X, out=[[0] * 4] * 3)


@pytest.mark.parametrize("f", UNARY, ids=lambda f: f.__name__)
def test_inputs_never_modified_and_nan_inf_flow(f):
    x = np.array([[np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0]])
    before = x.copy()
    with np.errstate(all="ignore"):
        f(x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("f", UNARY, ids=lambda f: f.__name__)
def test_zero_size(f):
    # logsumexp reduces the last axis: of (0,) a 0-d -inf (log 0), of (3, 0) three of them
    reduced = {(0,): 1, (0, 3): 0, (3, 0): 3}
    for shape in [(0,), (0, 3), (3, 0)]:
        out = f(np.ones(shape))
        assert out.size == (reduced[shape] if f is nnk.logsumexp else 0)
        if f is nnk.logsumexp:
            assert np.all(out == -np.inf)


def test_gemm_family_bad_inputs():
    a = np.ones((2, 3))
    with pytest.raises(TypeError):
        nnk.matmul(np.ones((2, 2), complex), np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least 1-D"):
        nnk.matmul(np.float64(1), a)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 3\)"):
        nnk.matmul(a, a)
    with pytest.raises(ValueError, match="broadcast"):
        nnk.matmul(np.ones((2, 2, 3)), np.ones((3, 3, 4)))
    with pytest.raises(ValueError, match="2-D"):
        nnk.gemm(np.ones((2, 2, 2)), a)
    with pytest.raises(ValueError, match="c has shape"):
        nnk.gemm(a, a.T, c=np.ones((3, 3)), beta=1.0)
    with pytest.raises(TypeError):
        nnk.gemm(a, a.T, alpha="two")
    with pytest.raises(ValueError, match="bias"):
        nnk.linear(a, np.ones((4, 3)), bias=np.ones(5))


def test_binding_rechecks_what_python_checks():
    """The binding alone refuses what could make a kernel go out of bounds."""
    from nnk import _C

    with pytest.raises(ValueError, match=r"x has shape \(5,\) but out has shape \(4,\)"):
        _C.map(0, np.ones(5), np.empty(4))
    with pytest.raises(ValueError, match=r"x has shape \(2, 3\) but grad has shape \(3, 2\)"):
        _C.grad(0, np.ones((2, 3)), np.ones((3, 2)), np.empty((2, 3)))  # one size, two shapes
    with pytest.raises(ValueError, match="unknown kernel"):
        _C.map(99, np.ones(5), np.empty(5))
    with pytest.raises(ValueError, match="writable"):
        ro = np.empty(5)
        ro.flags.writeable = False
        _C.map(0, np.ones(5), ro)
    with pytest.raises(TypeError, match="float32 or float64"):
        _C.map(0, np.ones(5, np.int32), np.empty(5, np.int32))
    with pytest.raises(TypeError, match="one dtype"):
        _C.map(0, np.ones(5), np.empty(5, np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        _C.map(0, np.ones(10)[::2], np.empty(5))
    with pytest.raises(ValueError, match="gemm shapes"):
        _C.gemm(np.ones((2, 3)), np.ones((4, 2)), np.empty((2, 2)), 1.0, 0.0, False, False)
    with pytest.raises(ValueError, match="a must be 2-D, got 3-D"):
        _C.gemm(np.ones((1, 3, 1)), np.ones((3, 2)), np.empty((1, 2)), 1.0, 0.0, False, False)
    with pytest.raises(ValueError, match="c must be 1-D, got 2-D"):  # (3,) @ (3, 2) is (2,)
        _C.gemm(np.ones(3), np.ones((3, 2)), np.empty((1, 2)), 1.0, 0.0, False, False)
    # arrays the binding does not read directly go through the buffer protocol, which
    # still refuses them (byte-swapped) or takes them (unaligned data, as before)
    with pytest.raises(TypeError, match="float32 or float64"):
        _C.map(0, np.ones(5, ">f8"), np.empty(5, ">f8"))
    raw = np.zeros(8 * 6 + 1, np.uint8)[1:].view(np.float64)  # 6 doubles at an odd address
    assert not raw.flags.aligned
    raw[:] = np.arange(-3.0, 3.0)
    out = np.empty(6)
    _C.map(nnk._dispatch.kernel_ops("map")["relu"], raw, out)
    np.testing.assert_array_equal(out, [0, 0, 0, 0, 1, 2])
    with pytest.raises(ValueError, match="rows of"):
        _C.rows(0, np.ones(10), np.empty(10), 3)
    with pytest.raises(ValueError, match="rows of"):
        _C.rows(0, np.ones(10), np.empty(10), -1)
    with pytest.raises(TypeError):
        _C.gemm(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError):
        _C.sgd_step(np.ones(4), np.ones(3), None, 0.1, 0.0, 0.0, False)
    w = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"x has shape \(5,\) but weight has shape \(3, 2\)"):
        _C.linear_forward(np.ones(5), w, None, np.empty(9))
    with pytest.raises(ValueError, match="out holds"):
        _C.linear_forward(np.ones((2, 2)), w, None, np.empty(5))
    with pytest.raises(ValueError, match="bias holds"):
        _C.linear_forward(np.ones((2, 2)), w, np.ones(2), np.empty(6))
    with pytest.raises(ValueError, match="weight must be 2-D"):
        _C.linear_forward(np.ones(4), np.ones(6), None, np.empty(6))
    with pytest.raises(TypeError, match="one dtype"):
        _C.linear_forward(np.ones((2, 2), np.float32), w, None, np.empty(6))
    with pytest.raises(ValueError, match="dx holds"):
        _C.linear_backward(np.ones((2, 2)), w, np.ones(6), np.zeros((3, 2)), None, np.empty(3), True)
    with pytest.raises(ValueError, match="writable"):
        ro = np.zeros((3, 2))
        ro.flags.writeable = False
        _C.linear_backward(np.ones((2, 2)), w, np.ones(6), ro, None, None, True)
    with pytest.raises(TypeError):
        _C.linear_backward(np.ones((2, 2)), w, np.ones(6))
    # the layers' row kernels: labels, sizes and aliasing are the binding's to check
    x, loss = np.zeros((2, 3)), np.empty(2)
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        _C.cross_entropy(x, np.array([0, 3]), -100, 1.0, loss, None)
    with pytest.raises(IndexError, match="target -1"):
        _C.cross_entropy(x, np.array([-1, 0]), -100, 1.0, loss, None)
    _C.cross_entropy(x, np.array([-100, 0]), -100, 1.0, loss, None)  # the ignored label
    assert loss[0] == 0 and loss[1] == pytest.approx(np.log(3))
    with pytest.raises(TypeError, match="target must be int64"):
        _C.cross_entropy(x, np.array([0.0, 1.0]), -100, 1.0, loss, None)
    with pytest.raises(ValueError, match="target holds 3 labels for 2 rows"):
        _C.cross_entropy(x, np.array([0, 1, 2]), -100, 1.0, loss, None)
    with pytest.raises(ValueError, match="grad holds"):
        _C.cross_entropy(x, np.array([0, 1]), -100, 1.0, loss, np.empty(5))
    with pytest.raises(ValueError, match="weight holds 2 elements, expected 3"):
        _C.layernorm_forward(x, np.ones(2), None, 1e-5, np.empty((2, 3)), None, None)
    with pytest.raises(ValueError, match="mean holds"):
        _C.layernorm_backward(x, None, np.zeros(3), np.ones(2), x, np.empty((2, 3)), None, None)
    with pytest.raises(ValueError, match="non-empty last axis"):
        _C.layernorm_forward(np.zeros((2, 0)), None, None, 1e-5, np.empty((2, 0)), None, None)
    shared = np.zeros(4)
    with pytest.raises(ValueError):  # two outputs in one buffer
        _C.layernorm_forward(x, None, None, 1e-5, np.empty((2, 3)), shared[:2], shared[1:3])


def test_absurd_sizes_never_allocate_wildly():
    with pytest.raises((MemoryError, ValueError)):
        nnk.relu(np.broadcast_to(np.float64(1), (1 << 40,)))
    big = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(1 << 20, 1 << 20), strides=(0, 0))
    with pytest.raises((MemoryError, ValueError)):
        nnk.matmul(big, big)


def test_losses_bad_inputs():
    with pytest.raises(ValueError, match="shape"):
        nnk.mse_loss(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="reduction"):
        nnk.mse_loss(np.ones(3), np.ones(3), reduction="avg")
    with pytest.raises(ValueError, match="labels"):
        nnk.cross_entropy(np.ones((2, 3)), np.array([0, 5]))
    with pytest.raises(ValueError):
        nnk.cross_entropy(np.ones((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(TypeError):
        nnk.bce_loss(np.ones(2, complex), np.ones(2))


def test_nn_bad_inputs():
    with pytest.raises(TypeError):
        nnk.nn.Linear(2, 3, dtype=np.int32)
    with pytest.raises(ValueError):
        nnk.nn.Linear(0, 3)
    layer = nnk.nn.Linear(2, 3)
    with pytest.raises(ValueError, match="in_features"):
        layer(np.ones((4, 5)))
    with pytest.raises(ValueError):
        nnk.optim.SGD([], lr=0.1)
    for stray in (np.ones(3), 3.0):  # no .grad to step from: refused when built, not at step()
        with pytest.raises(TypeError, match="steps nnk Parameters"):
            nnk.optim.SGD([layer.weight, stray], lr=0.1)
        with pytest.raises(TypeError, match="steps nnk Parameters"):
            nnk.optim.Adam([{"params": [stray]}])
    with pytest.raises(ValueError):
        nnk.optim.Adam(layer.parameters(), betas=(1.0, 0.9))
    with pytest.raises(TypeError):
        nnk.nn.Sequential(layer, "relu")


def test_keyword_types():
    with pytest.raises(TypeError, match="negative_slope"):
        nnk.leaky_relu(X, negative_slope="0.1")
    with pytest.raises(TypeError, match="beta"):
        nnk.gemm(X, X.T, X @ X.T, beta=1j)
    with pytest.raises(TypeError, match="alpha"):
        nnk.gemm(X, X.T, alpha=None)
    with pytest.raises(ValueError, match="axis"):
        nnk.softmax(X, axis=5)
    with pytest.raises(TypeError):
        nnk.softmax(X, axis="last")
    with pytest.raises(ValueError, match="approximate"):
        nnk.gelu(X, approximate=True)


# ---- messages that name the real problem (PyTorch's and NumPy's behaviour as reference) ----

def test_cross_entropy_float_labels_are_named_as_such():
    with pytest.raises(TypeError, match="class indices must be integers"):
        nnk.cross_entropy(np.zeros((8, 5)), np.zeros(8))


def test_cross_entropy_empty_batch_like_pytorch():
    assert np.isnan(nnk.cross_entropy(np.zeros((0, 5)), np.zeros(0, np.int64)))
    assert nnk.cross_entropy(np.zeros((0, 5)), np.zeros(0, np.int64), reduction="sum") == 0.0
    assert nnk.cross_entropy(np.zeros((0, 5)), np.zeros(0, np.int64), reduction="none").shape == (0,)
    assert np.isnan(nnk.nn.CrossEntropyLoss()(np.zeros((0, 5)), np.zeros(0, np.int64)))


def test_cross_entropy_integer_one_hot_and_multi_target():
    logits = np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]])
    onehot = np.array([[0, 1, 0], [0, 0, 1]])
    # an integer one-hot matrix is a probability target: the same as the float one or labels
    expect = float(np.mean(np.log(np.exp(logits).sum(1)) - logits[[0, 1], [1, 2]]))
    assert nnk.cross_entropy(logits, onehot) == pytest.approx(expect, rel=1e-14)
    assert nnk.cross_entropy(logits, onehot.astype(float)) == pytest.approx(expect, rel=1e-14)
    with pytest.raises(ValueError, match="multi-target"):
        nnk.cross_entropy(logits, np.array([[1], [2]]))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        nnk.cross_entropy(logits, np.array([1, 2, 0]))


def test_bce_refuses_probabilities_outside_0_1():
    for bad in ([1.5], [-0.1], [0.2, 1.0000001]):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            nnk.bce_loss(bad, np.ones(len(bad)))
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            nnk.nn.BCELoss()(np.array(bad), np.ones(len(bad)))
    assert np.isnan(nnk.bce_loss([np.nan], [1.0]))  # NaN still flows through
    assert nnk.bce_loss([0.0, 1.0], [0.0, 1.0]) == 0.0


@pytest.mark.parametrize("order", [">", "<"])
def test_byte_swapped_floats_convert_like_numpy(order):
    for code in ("f4", "f8"):
        x = np.array([-1.0, 0.5, 2.0], order + code)
        native = x.astype(x.dtype.newbyteorder("="))
        np.testing.assert_array_equal(nnk.relu(x), nnk.relu(native))
        assert nnk.exp(x).dtype == native.dtype
        np.testing.assert_array_equal(nnk.softmax(x), nnk.softmax(native))
        np.testing.assert_array_equal(nnk.matmul(x[None], x[:, None]), nnk.matmul(native[None], native[:, None]))
        assert nnk.mse_loss(x, native) == 0.0
    assert nnk.nn.Linear(3, 1)(np.ones(3, ">f8")).shape == (1,)


# ---- 0-d inputs keep their shape; axes are checked -----------------------------------

def test_zero_d_inputs_keep_their_shape():
    for f in (nnk.softmax, nnk.log_softmax, nnk.logsumexp):
        assert f(np.array(2.0)).shape == ()
    assert nnk.softmax(3.0) == 1.0 and nnk.softmax(np.array(2.0)).shape == ()
    assert nnk.log_softmax(np.array(2.0)) == 0.0 and nnk.logsumexp(np.array(2.0)) == 2.0
    assert nnk.logsumexp(np.array(2.0), keepdims=True).shape == ()
    for axis in (0, -1):
        assert nnk.softmax(np.array(2.0), axis=axis) == 1.0
    for axis in (1, 5, -2):
        with pytest.raises(np.exceptions.AxisError):
            nnk.logsumexp(np.array(2.0), axis=axis)
        with pytest.raises(np.exceptions.AxisError):
            nnk.softmax(np.array(2.0), axis=axis)
    assert nnk.mse_loss(np.array(1.0), np.array(3.0), reduction="none").shape == ()
    assert nnk.mse_loss(np.array(1.0), np.array(3.0), reduction="none") == 4.0
    assert nnk.nn.MSELoss(reduction="none")(np.array(1.0), np.array(3.0)).shape == ()
    assert nnk.nn.Embedding(5, 2)(np.array(3)).shape == (2,)
    with pytest.raises(ValueError, match=r"shape \(\)"):
        nnk.nn.Linear(1, 2)(np.float64(3))
    with pytest.raises(ValueError, match=r"shape \(\)"):
        nnk.nn.Linear(1, 2)(3.0)


# ---- constructor and hyper-parameter checks -------------------------------------------

def test_layer_sizes_checked_like_pytorch():
    for make in (lambda: nnk.nn.RNN(3, 0), lambda: nnk.nn.RNN(0, 3), lambda: nnk.nn.Embedding(0, 2),
                 lambda: nnk.nn.SelfAttention(0)):
        with pytest.raises(ValueError, match="must be >= 1"):
            make()


def test_optimiser_hyper_parameters_checked():
    p = [nnk.nn.Parameter(np.zeros(3))]
    for make, what in ((lambda: nnk.optim.Adam(p, eps=-1), "eps"),
                       (lambda: nnk.optim.Adam(p, weight_decay=-1), "weight_decay"),
                       (lambda: nnk.optim.Adam(p, lr=-0.1), "learning rate"),
                       (lambda: nnk.optim.SGD(p, lr=-0.1), "learning rate"),
                       (lambda: nnk.optim.SGD(p, lr=0.1, momentum=-0.5), "momentum"),
                       (lambda: nnk.optim.SGD(p, lr=0.1, weight_decay=-1), "weight_decay"),
                       (lambda: nnk.optim.SGD(p, lr=float("nan")), "learning rate"),
                       (lambda: nnk.optim.SGD(p, 0.1, nesterov=True), "Nesterov"),
                       (lambda: nnk.optim.SGD(p, 0.1, 0.9, 0.1, nesterov=True), "zero dampening")):
        with pytest.raises(ValueError, match=what):
            make()
    with pytest.raises(TypeError):
        nnk.optim.SGD(p, lr="0.1")
    with pytest.raises(TypeError, match="dampening"):
        nnk.optim.SGD(p, 0.1, 0.9, "0.1")


def test_sample_rng_forms():
    logits = np.array([0.0, 1.0, 2.0, 0.5])
    a = nnk.sample(logits, rng=0)
    assert a == nnk.sample(logits, rng=0)  # an int is a seed, 0 included
    draws = {nnk.sample(logits, rng=seed) for seed in range(40)}
    assert len(draws) > 1 and draws <= {0, 1, 2, 3}
    assert nnk.sample(logits, rng=np.random.default_rng(3)) == nnk.sample(logits, rng=np.random.default_rng(3))
    for bad in ("seed", 1.5, True):
        with pytest.raises(TypeError, match="rng"):
            nnk.sample(logits, rng=bad)


def test_gpt_generate_refuses_what_it_cannot_mean():
    """A prompt that is no token ids, a negative count, a top_k below one or a temperature
    that is not positive: each a clear error, never a silent guess (1.7 read as token 1,
    top_k = -1 keeping all but the smallest logit, an empty prompt an IndexError)."""
    m = nnk.nn.GPT(11, 6, 1, 2, 8, dtype=np.float64)
    with pytest.raises(TypeError, match="integer token ids"):
        m.generate([[1.7]], 2)
    with pytest.raises(TypeError, match="integer token ids"):
        m.generate([[True]], 2)
    for prompt in (np.zeros((1, 0), np.int64), 3, np.zeros((1, 1, 1), np.int64)):
        with pytest.raises(ValueError, match="prompt of shape"):
            m.generate(prompt, 2)
    with pytest.raises(ValueError, match="max_new_tokens"):
        m.generate([[1]], -1)
    for k in (0, -1):
        with pytest.raises(ValueError, match="top_k"):
            m.generate([[1]], 2, top_k=k)
    for t in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="temperature"):
            m.generate([[1]], 2, temperature=t)
    with pytest.raises(IndexError, match=r"\[0, 11\)"):
        m.generate([[11]], 2)
    # what it can mean: no new tokens, a top_k past the vocabulary (all of it), a 1-D prompt
    np.testing.assert_array_equal(m.generate([[4, 2]], 0), [[4, 2]])
    np.testing.assert_array_equal(m.generate([[1, 2]], 3, top_k=100, seed=1),
                                  m.generate([[1, 2]], 3, seed=1))
    np.testing.assert_array_equal(m.generate(np.array([1, 2], np.uint8), 3, seed=2),
                                  m.generate([[1, 2]], 3, seed=2))


def test_sample_refuses_logits_with_no_answer():
    """NaN or +inf logits, or a row whose every logit is -inf: an error (as
    torch.multinomial's), where the draw had been token 0 whatever the row said; -inf
    elsewhere is a token never drawn."""
    for logits in ([0.0, np.nan, 1.0], [0.0, np.inf, 1.0], [[0.0, 1.0], [-np.inf, -np.inf]]):
        for temperature in (1.0, 0.0):
            with pytest.raises(ValueError, match="logit"):
                nnk.sample(np.array(logits), temperature=temperature, rng=0)
    for seed in range(5):
        assert nnk.sample(np.array([-np.inf, 0.0, -np.inf]), rng=seed) == 1


def test_nll_loss_errors_name_nll_loss():
    """nll_loss shares cross_entropy's checks of the target; its errors name nll_loss."""
    log_p = np.log(np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"^nll_loss: class labels must lie in \[0, 3\)"):
        nnk.nll_loss(log_p, np.array([0, 3]))
    with pytest.raises(TypeError, match="^nll_loss: class indices must be integers"):
        nnk.nll_loss(log_p, np.array([0.0, 1.0]))


def test_load_names_a_file_that_is_no_checkpoint(tmp_path):
    """Anything nnk.save did not write is a ValueError that says so: an empty or text file
    (NumPy's own error suggests unpickling it), a pickle, a lone .npy array, an .npz of
    other arrays; a missing file stays FileNotFoundError."""
    import pickle
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "text").write_bytes(b"hello world")
    (tmp_path / "pickle").write_bytes(pickle.dumps({"weight": [1.0]}))
    np.save(tmp_path / "one.npy", np.ones(3))
    np.savez(tmp_path / "other.npz", a=np.ones(2))
    for name in ("empty", "text", "pickle", "one.npy", "other.npz"):
        with pytest.raises(ValueError, match="is not an nnk checkpoint"):
            nnk.load(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        nnk.load(tmp_path / "missing")


def test_backward_refuses_a_gradient_of_another_shape():
    """A gradient of the output's size in another shape (a transposed (T, B, H) for
    (B, T, H)) was reshaped by the RNN, SelfAttention and Flatten, and broadcast by
    Dropout, into a wrong answer; it is a ValueError in every layer, as autograd's."""
    rng = np.random.default_rng(0)
    nn = nnk.nn
    cases = [(nn.RNN(3, 4), (2, 5, 3)), (nn.SelfAttention(4), (2, 3, 4)), (nn.Flatten(), (2, 3, 4)),
             (nn.Dropout(0.5), (2, 3)), (nn.Dropout(0.5).eval(), (2, 3)), (nn.Identity(), (2, 3)),
             (nn.Linear(3, 3), (2, 3)), (nn.LayerNorm(3), (2, 3)), (nn.Tanh(), (2, 3)),
             (nn.CausalSelfAttention(4, 2), (2, 3, 4))]
    for layer, shape in cases:
        y = layer(rng.standard_normal(shape))
        for wrong in (y.shape[::-1], (1,) + y.shape[1:], (y.size,)):
            if wrong != y.shape:
                with pytest.raises(ValueError, match="shape"):
                    layer.backward(np.ones(wrong))
        layer.backward(np.ones(y.shape))  # the right one still goes through
    for layer, shape in ((nn.RNN(3, 4), (5, 3)), (nn.SelfAttention(4), (5, 4))):  # one sequence
        y = layer(rng.standard_normal(shape))
        assert layer.backward(np.ones(y.shape)).shape == shape
        with pytest.raises(ValueError, match="for one sequence"):
            layer.backward(np.ones(y.shape[::-1]))


def test_loss_backward_takes_the_gradient_of_its_own_shape():
    """backward(grad): one number for reduction mean or sum, the loss's shape for 'none'
    (cross-entropy's per row, also as a column); an (N,) grad for an (N, 1) input had
    broadcast to an (N, N) gradient."""
    nn = nnk.nn
    mse = nn.MSELoss(reduction="none")
    mse(np.ones((4, 1)), np.zeros((4, 1)))
    for bad in ((4,), (1,), ()):
        with pytest.raises(ValueError, match="loss of shape"):
            mse.backward(np.full(bad, 2.0))
    np.testing.assert_array_equal(mse.backward(np.arange(4.0)[:, None]), 2 * np.arange(4.0)[:, None])
    mean = nn.MSELoss()
    mean(np.ones((4, 1)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="one number"):
        mean.backward(np.ones(4))
    np.testing.assert_array_equal(mean.backward(3.0), np.full((4, 1), 1.5))
    x, labels = np.zeros((4, 3)), np.array([0, 1, 2, 0])
    for grad in (np.arange(4.0), np.arange(4.0)[:, None]):  # per row, or as a column
        ce = nn.CrossEntropyLoss(reduction="none")
        ce(x, labels)
        g = ce.backward(grad)
        np.testing.assert_allclose(g, (np.full((4, 3), 1 / 3) - np.eye(3)[labels]) * np.arange(4.0)[:, None])
    ce = nn.CrossEntropyLoss(reduction="none")
    ce(x, labels)
    with pytest.raises(ValueError, match="loss of shape"):
        ce.backward(np.ones(3))  # as many as the classes, not the rows


def test_schedules_training_and_clipping_refuse_counts_and_norms_they_cannot_use():
    """Lengths are integers >= 1 (a step_size or T_max of 0 divided by zero at the first
    step; 2.5 epochs ran two), a decay factor is >= 0 (a negative one made the learning
    rate negative), a norm's order is > 0 and max_norm >= 0 (order 0 divided by zero)."""
    nn, optim = nnk.nn, nnk.optim
    net = nn.Linear(2, 1)
    opt = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="step_size must be >= 1"):
        optim.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be >= 1"):
        optim.CosineAnnealingLR(opt, T_max=0)
    for make in (lambda: optim.ExponentialLR(opt, gamma=-0.5), lambda: optim.StepLR(opt, 2, gamma=-1)):
        with pytest.raises(ValueError, match="invalid gamma"):
            make()
    with pytest.raises(TypeError):
        optim.StepLR(opt, step_size=2.5)
    X, Y = np.ones((5, 2)), np.ones((5, 1))
    for kw in ({"epochs": 2.5}, {"epochs": 1, "batch_size": 2.5}):
        with pytest.raises(TypeError):
            nnk.train(net, nn.MSELoss(), opt, X, Y, progress=False, **kw)
    assert len(nnk.train(net, nn.MSELoss(), opt, X, Y, epochs=np.int64(2), progress=False).loss) == 2
    for kw in ({"max_norm": 1.0, "norm_type": 0}, {"max_norm": 1.0, "norm_type": -2},
               {"max_norm": float("nan")}, {"max_norm": -1.0}):
        with pytest.raises(ValueError, match="norm"):
            nn.utils.clip_grad_norm_(net.parameters(), **kw)
