"""Text to tokens: a byte-level byte-pair encoder (BPE), as GPT-2's tokenizer works.

``BPE.train(text, vocab_size)`` starts from the 256 byte values and merges the most
frequent adjacent pair into a new token until the vocabulary has ``vocab_size`` tokens
(the merge loop runs in C); ``encode`` applies the learned merges in order, ``decode``
joins the tokens' bytes.  Any string round-trips: ``decode(encode(s)) == s``; a string
holding a lone surrogate (half of a UTF-16 pair, which has no UTF-8 form) is refused with
UnicodeEncodeError, as ``s.encode("utf-8")`` refuses it.  Writing surrogates as bytes
instead would let decode give them back, and then generated text could hold them and
fail where it is printed; GPT-2's tokenizers make the same choice.
"""
import json
import operator

import numpy as np

from . import _C

_FORMAT = "nnk-bpe-1"


class BPE:
    """A byte-level BPE tokenizer: ``merges`` (k, 2) int32, merge r making token 256 + r."""

    def __init__(self, merges=()):
        self.merges = np.ascontiguousarray(np.asarray(merges, dtype=np.int32).reshape(-1, 2))
        k = len(self.merges)
        if k and (self.merges.min() < 0 or (self.merges >= 256 + np.arange(k)[:, None]).any()):
            raise ValueError("merge r may only join tokens below 256 + r")
        vocab = [bytes([i]) for i in range(256)]
        for a, b in self.merges:
            vocab.append(vocab[a] + vocab[b])
        self._vocab = vocab

    @classmethod
    def train(cls, text, vocab_size):
        """Learns vocab_size - 256 merges from ``text`` (fewer if it runs out of pairs)."""
        if not isinstance(text, str):
            raise TypeError(f"BPE.train takes a str, got {type(text).__name__}")
        vocab_size = operator.index(vocab_size)
        if vocab_size < 256:
            raise ValueError(f"vocab_size must be at least 256 (the bytes), got {vocab_size}")
        ids = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int32)
        # Each merge shortens the text by a token at least: no more than len - 1 can happen,
        # so a vocab_size beyond that asks for no more room than the text can use.
        merges = np.empty((min(vocab_size - 256, max(ids.size - 1, 0)), 2), np.int32)
        learned, _ = _C.bpe_train(ids, merges)
        return cls(merges[:learned])

    @property
    def vocab_size(self):
        """256 byte tokens plus one per merge."""
        return 256 + len(self.merges)

    def encode(self, text):
        """The token ids of ``text`` (an int64 array)."""
        if not isinstance(text, str):
            raise TypeError(f"encode takes a str, got {type(text).__name__}")
        ids = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int32)
        n = _C.bpe_encode(ids, self.merges)
        return ids[:n].astype(np.int64)

    def decode(self, ids):
        """The text of token ids, one id or a sequence of them (bytes that are not whole
        UTF-8 characters become U+FFFD).  A batch (B, T) is decoded row by row, as
        ``[tok.decode(row) for row in batch]``: decode refuses it rather than join the rows."""
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu" and not (ids.size == 0 and ids.dtype.kind == "f"):
            raise TypeError(f"decode takes integer token ids, got dtype {ids.dtype}")
        if ids.ndim > 1:
            raise ValueError(f"decode takes one sequence of token ids, got shape {ids.shape}: "
                             f"decode a batch row by row")
        ids = ids.reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"token ids must lie in [0, {self.vocab_size}), got "
                             f"{ids.min()}..{ids.max()}")
        return b"".join(self._vocab[i] for i in ids.tolist()).decode("utf-8", errors="replace")

    def save(self, path):
        """Writes the merges as JSON (no code, no pickle)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"format": _FORMAT, "merges": self.merges.tolist()}, f)

    @classmethod
    def load(cls, path):
        """The tokenizer ``save`` wrote to ``path`` (JSON)."""
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("format") != _FORMAT:
            raise ValueError(f"{path} is not an nnk BPE file")
        return cls(data["merges"])

    def __repr__(self):
        return f"BPE(vocab_size={self.vocab_size})"
