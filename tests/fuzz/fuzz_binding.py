"""atheris fuzz target over nnk._C's entry points: any bytes become a call with arbitrary
dtypes, shapes, strides, sizes and scalars.  A Python exception is fine; a crash, a
sanitizer report or a hang is a finding.  Run by `make fuzz` (FUZZ_SECONDS)."""
import sys

import atheris

with atheris.instrument_imports():
    import numpy as np
    from nnk import _C

DTYPES = [np.float32, np.float64, np.int32, np.int64, np.complex64, np.bool_]


def values(fdp, shape, dt):
    a = np.asarray(fdp.ConsumeFloatListInRange(int(np.prod(shape)), -1e3, 1e3) or [0.0])
    return np.resize(a, shape).astype(dt)


def layout(fdp, a):
    """a as it is, reversed along its first axis, transposed, or read-only."""
    kind = fdp.ConsumeIntInRange(0, 3)
    if kind == 1 and a.ndim:
        return a[::-1]
    if kind == 2 and a.ndim == 2:
        return a.T
    if kind == 3:
        a.flags.writeable = False
    return a


class Operands:
    """The arrays of one call.  Independent random arrays almost never fit together (two
    float arrays of one shape and dtype are a few in a thousand), so past the first each
    is, as the input chooses, built on an earlier one: its shape and dtype with new values
    (the input's default, so that short inputs make fitting calls), the same object (one
    operand aliasing another), its shape reversed, its last axis or first axis alone (a
    bias, a row's statistics), or a fresh array of any dtype and shape.  Each but an
    alias then takes a layout of its own."""

    def __init__(self, fdp):
        self.fdp, self.made = fdp, []

    def __call__(self):
        fdp = self.fdp
        how = fdp.ConsumeIntInRange(0, 5) if self.made else 5
        base = self.made[fdp.ConsumeIntInRange(0, len(self.made) - 1)] if how < 5 else None
        if how == 1:
            a = base
        elif how == 5:
            ndim = fdp.ConsumeIntInRange(0, 3)
            dt = DTYPES[fdp.ConsumeIntInRange(0, len(DTYPES) - 1)]
            a = layout(fdp, values(fdp, tuple(fdp.ConsumeIntInRange(0, 9) for _ in range(ndim)), dt))
        else:
            shape = {0: base.shape, 2: base.shape[::-1], 3: base.shape[-1:], 4: base.shape[:1]}[how]
            a = layout(fdp, values(fdp, shape, base.dtype))
        self.made.append(a)
        return a


def scalar(fdp):
    return [fdp.ConsumeFloat(), fdp.ConsumeInt(4), None, "x", 1e308][fdp.ConsumeIntInRange(0, 4)]


def one_input(data):
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, 28)
    array = Operands(fdp)
    try:
        if which == 0:
            _C.map(fdp.ConsumeIntInRange(-2, 9), array(), array())
        elif which == 1:
            _C.grad(fdp.ConsumeIntInRange(-2, 7), array(), array(), array())
        elif which == 2:
            _C.gemm(array(), array(), array(), scalar(fdp), scalar(fdp),
                    fdp.ConsumeBool(), fdp.ConsumeBool())
        elif which == 3:
            _C.rows(fdp.ConsumeIntInRange(-1, 3), array(), array(), fdp.ConsumeIntInRange(-3, 20))
        elif which == 4:
            _C.loss(fdp.ConsumeIntInRange(-1, 5), array(), array(),
                    array() if fdp.ConsumeBool() else None)
        elif which == 5:
            _C.loss_grad(fdp.ConsumeIntInRange(-1, 5), array(), array(), array(), scalar(fdp))
        elif which == 6:
            _C.sgd_step(array(), array(), array() if fdp.ConsumeBool() else None,
                        scalar(fdp), scalar(fdp), scalar(fdp), fdp.ConsumeBool())
        elif which == 7:
            _C.adam_step(*(array() for _ in range(4)), *(scalar(fdp) for _ in range(7)),
                         fdp.ConsumeBool())
        elif which == 8:
            dims = [fdp.ConsumeIntInRange(-1, 5) for _ in range(4)]
            _C.rnn_forward(*dims, fdp.ConsumeBool(), *(array() for _ in range(3)),
                           *(array() if fdp.ConsumeBool() else None for _ in range(2)), array())
        elif which == 9:
            _C.linear_forward(array(), array(), array() if fdp.ConsumeBool() else None,
                              array())
        elif which == 10:
            _C.linear_backward(*(array() for _ in range(4)),
                               *(array() if fdp.ConsumeBool() else None for _ in range(2)),
                               fdp.ConsumeBool())
        elif which == 11:
            _C.layernorm_forward(array(), *(array() if fdp.ConsumeBool() else None for _ in range(2)),
                                 scalar(fdp), array(),
                                 *(array() if fdp.ConsumeBool() else None for _ in range(2)))
        elif which == 12:
            _C.layernorm_backward(array(), array() if fdp.ConsumeBool() else None,
                                  *(array() for _ in range(4)),
                                  *(array() if fdp.ConsumeBool() else None for _ in range(2)))
        elif which == 13:
            labels = np.asarray(fdp.ConsumeIntListInRange(fdp.ConsumeIntInRange(0, 6), -101, 12), dtype=np.int64)
            _C.cross_entropy(array(), labels, fdp.ConsumeIntInRange(-101, 3), scalar(fdp), array(),
                             array() if fdp.ConsumeBool() else None)
        elif which == 14:
            _C.attention_forward(array(), fdp.ConsumeIntInRange(-1, 4), scalar(fdp), array(),
                                 array())
        elif which == 15:
            _C.attention_backward(array(), fdp.ConsumeIntInRange(-1, 4), scalar(fdp),
                                  *(array() for _ in range(4)))
        elif which == 18:
            _C.attention_step(array(), fdp.ConsumeIntInRange(-2, 9), fdp.ConsumeIntInRange(-1, 4),
                              scalar(fdp), array())
        elif which == 19:
            _C.rmsprop_step(*(array() for _ in range(3)),
                            *(array() if fdp.ConsumeBool() else None for _ in range(2)),
                            *(scalar(fdp) for _ in range(5)))
        elif which == 20:
            _C.adagrad_step(*(array() for _ in range(3)), *(scalar(fdp) for _ in range(3)))
        elif which == 22:
            (_C.map_into if fdp.ConsumeBool() else _C.pmap)(fdp.ConsumeIntInRange(-2, 9), array(), array(),
                                                           *([scalar(fdp)] if fdp.ConsumeBool() else []))
        elif which == 23:
            (_C.grad_into if fdp.ConsumeBool() else _C.pgrad)(fdp.ConsumeIntInRange(-2, 7), array(), array(),
                                                             array(), *([scalar(fdp)] if fdp.ConsumeBool() else []))
        elif which == 24:
            _C.rows_grad(fdp.ConsumeIntInRange(-1, 3), array(), array(), array() if fdp.ConsumeBool() else None,
                         fdp.ConsumeIntInRange(-3, 20))
        elif which == 25:
            _C.axpy(scalar(fdp), array(), array())
        elif which == 26:  # lists of parameters, their lengths and members as the input says
            lists = [[array() for _ in range(fdp.ConsumeIntInRange(0, 3))] for _ in range(4)]
            if fdp.ConsumeBool():
                lists[fdp.ConsumeIntInRange(0, 3)] = tuple(lists[0])
            _C.adam_steps(*lists, *(scalar(fdp) for _ in range(7)), fdp.ConsumeBool())
        elif which == 27:
            dims = [fdp.ConsumeIntInRange(-1, 5) for _ in range(4)]
            _C.rnn_backward(*dims, fdp.ConsumeBool(), *(array() for _ in range(3)),
                            array() if fdp.ConsumeBool() else None,
                            array(), array(), array() if fdp.ConsumeBool() else None, array(), array(),
                            *(array() if fdp.ConsumeBool() else None for _ in range(2)))
        elif which == 28:  # a kernel's output from the array pool, then the pool emptied
            previous = _C.pool_enter()
            try:
                _C.map(fdp.ConsumeIntInRange(0, 9), array(), None)
            finally:
                _C.pool_exit(previous)
            if fdp.ConsumeBool():
                _C.empty_cache()
        elif which in (16, 17):
            ids = np.asarray(fdp.ConsumeIntListInRange(fdp.ConsumeIntInRange(0, 9), -3, 300), dtype=np.int32)
            k = fdp.ConsumeIntInRange(0, 4)
            merges = np.asarray(fdp.ConsumeIntListInRange(2 * k, -3, 300), dtype=np.int32).reshape(-1, 2)
            (_C.bpe_train if which == 16 else _C.bpe_encode)(ids, merges)
        else:
            ids = np.asarray(fdp.ConsumeIntListInRange(fdp.ConsumeIntInRange(0, 6), -3, 12), dtype=np.int64)
            _C.embedding_backward(ids, array(), array())
    except (TypeError, ValueError, IndexError, OverflowError, MemoryError):
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
