"""A tiny character-level corpus for next-token training: the course text itself."""
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).resolve().parent / "data" / "corpus.txt"  # shipped as package data


class CharVocab:
    """Characters <-> ids."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in ids)


def load_corpus(path=None):
    text = " ".join(Path(path or CORPUS).read_text().split())
    return text, CharVocab(text)


def windows(ids, n):
    """(contexts of the previous n ids, next id) pairs for a fixed-window LM."""
    idx = np.arange(len(ids) - n)[:, None] + np.arange(n)
    return ids[idx], ids[n:]
