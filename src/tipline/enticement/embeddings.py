"""Static token embeddings: a message's meaning as one small dense vector, read with numpy only.

The vectors (`models/en-embeddings.npz`) were distilled at build time from the all-MiniLM-L6-v2 sentence encoder
(see `data/enticement/build_embeddings.py`): one int8 vector per WordPiece token. A message's vector is the mean of
its tokens' vectors, normalised to unit length, so "send me a pic", "snap me a selfie" and "show me what you look
like" land near each other although they share few words. No transformer, torch or download at run time.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np

MODEL_DIR = Path(__file__).resolve().parent / "models"
MAX_WORD = 100  # BERT's limit: a longer word is one unknown token
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class StaticEmbeddings:
    """WordPiece tokenisation (BERT uncased) and a mean of int8 token vectors."""

    def __init__(self, tokens: list[str], vectors: np.ndarray, scales: np.ndarray) -> None:
        self.index = {token: i for i, token in enumerate(tokens)}
        self.vectors = vectors.astype(np.float32) * scales.astype(np.float32)[:, None]
        self.dims = int(self.vectors.shape[1])
        self.unknown = self.index.get("[UNK]")
        self._pieces: dict[str, tuple[int, ...]] = {}
        self._token_ids: dict[str, tuple[int, ...]] = {}

    @classmethod
    def load(cls, path: Path) -> StaticEmbeddings:
        with np.load(path) as data:
            tokens = bytes(data["tokens"]).decode("utf-8").split("\n")
            return cls(tokens, data["vectors"], data["scales"])

    def pieces(self, word: str) -> tuple[int, ...]:
        """The token ids of one lower-cased word: greedy longest-match-first WordPiece, as BERT does."""
        cached = self._pieces.get(word)
        if cached is not None:
            return cached
        ids: list[int] = []
        if len(word) <= MAX_WORD:
            start = 0
            while start < len(word):
                end = len(word)
                found = None
                while start < end:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    found = self.index.get(piece)
                    if found is not None:
                        break
                    end -= 1
                if found is None:
                    ids = []
                    break
                ids.append(found)
                start = end
        result = tuple(ids)
        if len(self._pieces) < 200_000:
            self._pieces[word] = result
        return result

    def token_ids(self, text: str) -> list[int]:
        text = text.lower()
        if not text.isascii():
            text = unicodedata.normalize("NFD", text)
            text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        ids: list[int] = []
        for word in _WORD.findall(text):
            ids += self.pieces(word)
        return ids

    def embed_tokens(self, tokens: list[str]) -> np.ndarray:
        """`embed` of the tokens joined by spaces, faster: each distinct token is split into WordPieces once."""
        cache = self._token_ids
        ids: list[int] = []
        for token in tokens:
            found = cache.get(token)
            if found is None:
                found = tuple(self.token_ids(token))
                if len(cache) < 200_000:
                    cache[token] = found
            ids += found
        return self._mean(ids)

    def embed(self, text: str) -> np.ndarray:
        """The unit-length mean vector of the text's tokens (zeros for a text with no known token)."""
        return self._mean(self.token_ids(text))

    def _mean(self, ids: list[int]) -> np.ndarray:
        if not ids:
            return np.zeros(self.dims, dtype=np.float32)
        vector: np.ndarray = np.add.reduce(self.vectors[ids], axis=0)  # the mean's direction: normalised below
        # float32 arithmetic: dividing by the float64 root rounds it to float32 first, which is the float32 root
        norm = math.sqrt(vector @ vector)
        return vector / norm if norm > 0 else vector


def embeddings_path(language: str) -> Path:
    return MODEL_DIR / f"{language}-embeddings.npz"


@cache
def default_embeddings(language: str = "en") -> StaticEmbeddings:
    """The shipped embeddings of a language, loaded once per process."""
    path = embeddings_path(language)
    if not path.exists():
        raise FileNotFoundError(f"no embeddings for {language!r} at {path}; run data/enticement/build_embeddings.py")
    return StaticEmbeddings.load(path)
