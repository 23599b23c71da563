"""nnk.no_grad() and its kin, as torch's: the mode's semantics side by side with torch,
what a forward inside it keeps (nothing past the call), and backward's error after it."""
import pathlib
import re
import threading

import numpy as np
import pytest

import nnk
from nnk import nn
from nnk.nn import module as module_py

torch = pytest.importorskip("torch")


def _mode_trace(lib):
    """is_grad_enabled() at each point of one sequence of the mode's uses, run on lib."""
    seen = [lib.is_grad_enabled()]
    with lib.no_grad():
        seen.append(lib.is_grad_enabled())
        with lib.enable_grad():
            seen.append(lib.is_grad_enabled())
            with lib.no_grad():
                seen.append(lib.is_grad_enabled())
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())
    seen.append(lib.is_grad_enabled())
    with lib.set_grad_enabled(False):
        seen.append(lib.is_grad_enabled())
        with lib.set_grad_enabled(True):
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())
    seen.append(lib.is_grad_enabled())
    lib.set_grad_enabled(False)  # a plain call sets the mode
    seen.append(lib.is_grad_enabled())
    lib.set_grad_enabled(True)
    seen.append(lib.is_grad_enabled())

    @lib.no_grad()
    def inside():
        return lib.is_grad_enabled()

    @lib.set_grad_enabled(False)
    def inside_set():
        return lib.is_grad_enabled()

    seen.append(lib.is_grad_enabled())  # decorating changes nothing by itself
    seen += [inside(), lib.is_grad_enabled(), inside_set(), lib.is_grad_enabled()]
    try:
        with lib.no_grad():
            raise KeyError
    except KeyError:
        pass
    seen.append(lib.is_grad_enabled())  # put back when the block raises
    with lib.inference_mode():
        seen.append(lib.is_grad_enabled())
        with lib.inference_mode(False):
            seen.append(lib.is_grad_enabled())
        with lib.enable_grad():
            seen.append(lib.is_grad_enabled())
    seen.append(lib.is_grad_enabled())
    with lib.inference_mode(False):
        seen.append(lib.is_grad_enabled())

    @lib.inference_mode()
    def inside_inference():
        return lib.is_grad_enabled()

    seen += [inside_inference(), lib.is_grad_enabled()]
    other = []
    with lib.no_grad():
        thread = threading.Thread(target=lambda: other.append(lib.is_grad_enabled()))
        thread.start()
        thread.join()
    seen += other  # per thread
    return seen


def test_the_mode_follows_torch_step_by_step():
    assert _mode_trace(nnk) == _mode_trace(torch)


def _mlp(dtype=np.float32):
    nnk.manual_seed(3)
    return nn.Sequential(nn.Linear(5, 8, dtype=dtype), nn.GELU(), nn.LayerNorm(8, dtype=dtype),
                         nn.Tanh(), nn.Linear(8, 3, dtype=dtype))


def test_a_forward_inside_no_grad_gives_the_same_output_and_keeps_nothing():
    net, loss = _mlp(), nn.CrossEntropyLoss()
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    t = np.array([0, 2, 1, 2])
    want, want_loss = net(x), loss(net(x), t)
    with nnk.no_grad():
        got, got_loss = net(x), loss(net(x), t)
    np.testing.assert_array_equal(got, want)
    assert got_loss == want_loss
    for m in [*net.modules(), loss]:
        kept = {name: getattr(m, name) for name in module_py._SAVED_FOR_BACKWARD if getattr(m, name, None) is not None}
        assert not kept, f"{type(m).__name__} still holds {sorted(kept)}"
    with pytest.raises(RuntimeError, match="no_grad"):
        loss.backward()
    with pytest.raises(RuntimeError, match="no_grad"):
        net.backward(np.ones((4, 3), np.float32))


def test_a_forward_with_gradients_after_no_grad_backpropagates_as_torch():
    net = _mlp(np.float64)
    x = np.random.default_rng(1).standard_normal((4, 5))
    with nnk.no_grad():
        net(x + 1)
    y = net(x)
    g = np.random.default_rng(2).standard_normal(y.shape)
    dx = net.backward(g)
    tnet = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.GELU(), torch.nn.LayerNorm(8),
                               torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    tnet.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in net.state_dict().items()})
    tx = torch.from_numpy(x.copy()).requires_grad_()
    with torch.no_grad():
        tnet(tx + 1)
    tnet(tx).backward(torch.from_numpy(g))
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), tp in zip(net.named_parameters(), tnet.parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_gpt_and_rnn_inside_no_grad():
    """The Transformer's and the RNN's forwards inside no_grad give the same values and
    keep nothing; generate inside it gives the same tokens."""
    gpt = nn.GPT(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8, dtype=np.float32)
    rnn = nn.RNN(3, 4, dtype=np.float64)
    idx = np.random.default_rng(3).integers(0, 11, (2, 8))
    xs = np.random.default_rng(4).standard_normal((2, 5, 3))
    want, want_rnn = gpt(idx), rnn(xs)[0]
    tokens = gpt.generate(idx[:1, :2], 5, seed=7)
    with nnk.no_grad():
        np.testing.assert_array_equal(gpt(idx), want)
        np.testing.assert_array_equal(rnn(xs)[0], want_rnn)
        np.testing.assert_array_equal(gpt.generate(idx[:1, :2], 5, seed=7), tokens)
    for model, g in ((gpt, np.ones_like(want)), (rnn, np.ones_like(want_rnn))):
        with pytest.raises(RuntimeError, match="no_grad"):
            model.backward(g)


def test_every_name_backward_asks_for_is_dropped_inside_no_grad():
    """The names the layers' backwards read (self._needs("...")) are those a forward
    inside no_grad lets go of: a new one missing from _SAVED_FOR_BACKWARD would keep its
    arrays and let backward run on them."""
    source = pathlib.Path(nnk.__file__).parent / "nn"
    asked = {name for path in source.glob("*.py") for name in re.findall(r'_needs\("(\w+)"\)', path.read_text())}
    assert asked and asked <= set(module_py._SAVED_FOR_BACKWARD), asked - set(module_py._SAVED_FOR_BACKWARD)


def test_set_grad_enabled_refuses_what_is_not_a_mode():
    with pytest.raises(TypeError, match="bool"):
        nnk.set_grad_enabled("no")
    assert nnk.is_grad_enabled()


def test_the_layers_thread_flags_are_per_thread_and_start_at_their_defaults():
    """Grad mode and owned inputs (C thread-locals): a thread started inside no_grad and
    _owned_inputs sees neither, and both are back when the blocks end."""
    from nnk.nn.module import _owned_inputs
    flags, seen = nnk._C.thread_flags, []
    with nnk.no_grad(), _owned_inputs():
        assert (flags.grad_enabled, flags.inputs_owned) == (False, True)
        thread = threading.Thread(target=lambda: seen.append((flags.grad_enabled, flags.inputs_owned)))
        thread.start()
        thread.join()
    assert seen == [(True, False)]
    assert (flags.grad_enabled, flags.inputs_owned) == (True, False)
    with pytest.raises(AttributeError, match="cannot be deleted"):
        del flags.grad_enabled
