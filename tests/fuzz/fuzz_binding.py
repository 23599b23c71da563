"""atheris fuzz target over nnk._C's entry points: any bytes become a call with arbitrary
dtypes, shapes, strides, sizes and scalars.  A Python exception is fine; a crash, a
sanitizer report or a hang is a finding.  Run by `make fuzz` (FUZZ_SECONDS)."""
import sys

import atheris

with atheris.instrument_imports():
    import numpy as np
    from nnk import _C

DTYPES = [np.float32, np.float64, np.int32, np.int64, np.complex64, np.bool_]


def array(fdp):
    dt = DTYPES[fdp.ConsumeIntInRange(0, len(DTYPES) - 1)]
    ndim = fdp.ConsumeIntInRange(0, 3)
    shape = tuple(fdp.ConsumeIntInRange(0, 9) for _ in range(ndim))
    a = np.asarray(fdp.ConsumeFloatListInRange(int(np.prod(shape)), -1e3, 1e3) or [0.0])
    a = np.resize(a, shape).astype(dt)
    kind = fdp.ConsumeIntInRange(0, 3)
    if kind == 1 and a.ndim:
        a = a[::-1]
    elif kind == 2 and a.ndim == 2:
        a = a.T
    elif kind == 3:
        a.flags.writeable = False
    return a


def scalar(fdp):
    return [fdp.ConsumeFloat(), fdp.ConsumeInt(4), None, "x", 1e308][fdp.ConsumeIntInRange(0, 4)]


def one_input(data):
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, 21)
    try:
        if which == 0:
            _C.map(fdp.ConsumeIntInRange(-2, 9), array(fdp), array(fdp))
        elif which == 1:
            _C.grad(fdp.ConsumeIntInRange(-2, 7), array(fdp), array(fdp), array(fdp))
        elif which == 2:
            _C.gemm(array(fdp), array(fdp), array(fdp), scalar(fdp), scalar(fdp),
                    fdp.ConsumeBool(), fdp.ConsumeBool())
        elif which == 3:
            _C.rows(fdp.ConsumeIntInRange(-1, 3), array(fdp), array(fdp), fdp.ConsumeIntInRange(-3, 20))
        elif which == 4:
            _C.loss(fdp.ConsumeIntInRange(-1, 5), array(fdp), array(fdp),
                    array(fdp) if fdp.ConsumeBool() else None)
        elif which == 5:
            _C.loss_grad(fdp.ConsumeIntInRange(-1, 5), array(fdp), array(fdp), array(fdp), scalar(fdp))
        elif which == 6:
            _C.sgd_step(array(fdp), array(fdp), array(fdp) if fdp.ConsumeBool() else None,
                        scalar(fdp), scalar(fdp), scalar(fdp), fdp.ConsumeBool())
        elif which == 7:
            _C.adam_step(*(array(fdp) for _ in range(4)), *(scalar(fdp) for _ in range(7)),
                         fdp.ConsumeBool())
        elif which == 8:
            dims = [fdp.ConsumeIntInRange(-1, 5) for _ in range(4)]
            _C.rnn_forward(*dims, *(array(fdp) for _ in range(3)),
                           *(array(fdp) if fdp.ConsumeBool() else None for _ in range(2)), array(fdp))
        elif which == 9:
            _C.linear_forward(array(fdp), array(fdp), array(fdp) if fdp.ConsumeBool() else None,
                              array(fdp))
        elif which == 10:
            _C.linear_backward(*(array(fdp) for _ in range(4)),
                               *(array(fdp) if fdp.ConsumeBool() else None for _ in range(2)),
                               fdp.ConsumeBool())
        elif which == 11:
            _C.layernorm_forward(array(fdp), *(array(fdp) if fdp.ConsumeBool() else None for _ in range(2)),
                                 scalar(fdp), array(fdp),
                                 *(array(fdp) if fdp.ConsumeBool() else None for _ in range(2)))
        elif which == 12:
            _C.layernorm_backward(array(fdp), array(fdp) if fdp.ConsumeBool() else None,
                                  *(array(fdp) for _ in range(4)),
                                  *(array(fdp) if fdp.ConsumeBool() else None for _ in range(2)))
        elif which == 13:
            labels = np.asarray(fdp.ConsumeIntListInRange(fdp.ConsumeIntInRange(0, 6), -101, 12), dtype=np.int64)
            _C.cross_entropy(array(fdp), labels, fdp.ConsumeIntInRange(-101, 3), scalar(fdp), array(fdp),
                             array(fdp) if fdp.ConsumeBool() else None)
        elif which == 14:
            _C.attention_forward(array(fdp), fdp.ConsumeIntInRange(-1, 4), scalar(fdp), array(fdp),
                                 array(fdp))
        elif which == 15:
            _C.attention_backward(array(fdp), fdp.ConsumeIntInRange(-1, 4), scalar(fdp),
                                  *(array(fdp) for _ in range(4)))
        elif which == 18:
            _C.attention_step(array(fdp), fdp.ConsumeIntInRange(-2, 9), fdp.ConsumeIntInRange(-1, 4),
                              scalar(fdp), array(fdp))
        elif which == 19:
            _C.rmsprop_step(*(array(fdp) for _ in range(3)),
                            *(array(fdp) if fdp.ConsumeBool() else None for _ in range(2)),
                            *(scalar(fdp) for _ in range(5)))
        elif which == 20:
            _C.adagrad_step(*(array(fdp) for _ in range(3)), *(scalar(fdp) for _ in range(3)))
        elif which in (16, 17):
            ids = np.asarray(fdp.ConsumeIntListInRange(fdp.ConsumeIntInRange(0, 9), -3, 300), dtype=np.int32)
            k = fdp.ConsumeIntInRange(0, 4)
            merges = np.asarray(fdp.ConsumeIntListInRange(2 * k, -3, 300), dtype=np.int32).reshape(-1, 2)
            (_C.bpe_train if which == 16 else _C.bpe_encode)(ids, merges)
        else:
            ids = np.asarray(fdp.ConsumeIntListInRange(fdp.ConsumeIntInRange(0, 6), -3, 12), dtype=np.int64)
            _C.embedding_backward(ids, array(fdp), array(fdp))
    except (TypeError, ValueError, IndexError, OverflowError, MemoryError):
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
