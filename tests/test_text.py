"""nnk.text.BPE against a plain-Python byte-pair encoder written here, round trips of any
string, and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nnk
from nnk import _C
from nnk.text import BPE
from nnk.textdata import CORPUS


def reference_train(text, vocab_size):
    """BPE training as the textbook states it: count adjacent pairs, merge the most
    frequent (ties: the smallest pair), left to right, until the vocabulary is full."""
    ids, merges = list(text.encode("utf-8")), []
    while 256 + len(merges) < vocab_size and len(ids) >= 2:
        counts = {}
        for pair in zip(ids, ids[1:]):
            counts[pair] = counts.get(pair, 0) + 1
        top = max(counts.values())
        pair = min(p for p, c in counts.items() if c == top)
        new, out, i = 256 + len(merges), [], 0
        while i < len(ids):
            if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                out.append(new)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        ids = out
        merges.append(pair)
    return merges, ids


TEXTS = {"corpus": CORPUS.read_text(), "repeats": "aaaaaaabababab aaab " * 7,
         "unicode": "Grüße aus Köln — 世界 🙂🙂 naïve café " * 5}


@pytest.mark.parametrize("name", sorted(TEXTS))
@pytest.mark.parametrize("vocab_size", [256, 260, 300, 512])
def test_training_equals_the_plain_python_encoder(name, vocab_size):
    text = TEXTS[name]
    merges, final = reference_train(text, vocab_size)
    bpe = BPE.train(text, vocab_size)
    assert bpe.merges.tolist() == [list(p) for p in merges]
    assert bpe.vocab_size == 256 + len(merges)
    assert bpe.encode(text).tolist() == final  # encoding the training text retraces training
    assert bpe.decode(bpe.encode(text)) == text


def test_training_stops_when_one_token_is_left():
    bpe = BPE.train("ab", 300)
    assert bpe.vocab_size == 257 and bpe.encode("ab").tolist() == [256]
    assert BPE.train("", 300).vocab_size == 256
    # a vocabulary far beyond what the text can merge asks for no room it cannot use
    assert BPE.train("abab", 10**15).vocab_size == 258  # ab -> 256, then 256 256 -> 257


_TRAINED = BPE.train(TEXTS["corpus"] + TEXTS["unicode"], 400)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_string_round_trips(s):
    ids = _TRAINED.encode(s)
    assert ids.dtype == np.int64 and (ids >= 0).all() and (ids < _TRAINED.vocab_size).all()
    assert _TRAINED.decode(ids) == s
    assert len(ids) <= len(s.encode("utf-8"))


def test_a_lone_surrogate_is_refused_not_mangled():
    """'\ud800' has no UTF-8 form: a clear error from encode and train, never other text."""
    for call in (lambda: _TRAINED.encode("ab\ud800c"), lambda: BPE.train("x\udfff", 300)):
        with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
            call()


def test_save_and_load(tmp_path):
    path = tmp_path / "tok.json"
    _TRAINED.save(path)
    again = BPE.load(path)
    assert again.merges.tolist() == _TRAINED.merges.tolist()
    assert again.encode("neural networks").tolist() == _TRAINED.encode("neural networks").tolist()
    path.write_text('{"merges": [[1, 2]]}')
    with pytest.raises(ValueError, match="not an nnk BPE file"):
        BPE.load(path)


def test_bad_input():
    with pytest.raises(TypeError, match="takes a str"):
        BPE.train(b"bytes", 300)
    with pytest.raises(ValueError, match="at least 256"):
        BPE.train("abc", 100)
    with pytest.raises(TypeError):  # 300.5 tokens is no size, as in range(300.5)
        BPE.train("abc", 300.5)
    with pytest.raises(ValueError, match=r"lie in \[0, 400\)"):
        _TRAINED.decode([1, 400])
    with pytest.raises(TypeError, match="takes a str"):
        _TRAINED.encode(b"bytes")
    for ids in ([1.5], [True], np.array([65.0])):  # 1.5 is no token, nor True a number of one
        with pytest.raises(TypeError, match="integer token ids"):
            _TRAINED.decode(ids)
    with pytest.raises(ValueError, match="row by row"):  # a batch is not one text
        _TRAINED.decode(np.array([[65, 66], [67, 68]]))
    assert _TRAINED.decode([]) == "" and _TRAINED.decode(65) == "A"
    assert _TRAINED.decode(np.array([65, 66], np.uint8)) == "AB"
    with pytest.raises(ValueError, match="below 256"):
        BPE([[256, 1]])  # merge 0 cannot use a token not made yet
    with pytest.raises(TypeError, match="ids must be int32"):
        _C.bpe_train(np.zeros(4, np.int64), np.empty((2, 2), np.int32))
    with pytest.raises(ValueError, match=r"shape \(k, 2\)"):
        _C.bpe_encode(np.zeros(4, np.int32), np.empty((2, 3), np.int32))
    ro = np.zeros(4, np.int32)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        _C.bpe_encode(ro, np.empty((0, 2), np.int32))
    assert nnk.text.BPE is BPE
