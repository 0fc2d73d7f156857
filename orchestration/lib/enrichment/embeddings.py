"""Static sentence embeddings for the built-in model (model2vec, distilled from all-MiniLM-L6-v2).

A static model holds one vector per (sub)word token; a text's embedding is the mean of its
tokens' vectors, L2-normalised: a Rust tokenizer and numpy, thousands of texts per second on one
core, no torch. The vectors were distilled once from all-MiniLM-L6-v2
(`distill_embeddings.py`), so words the training sentences never contained still land near
words of like meaning, which the n-gram features alone cannot do.

The committed model (`model/static-minilm-128/`, 7.6 MB) is loaded from the package only: a
missing folder is an error, never a download. The trained heads record the weights' sha256
(`embeddings_sha256` in the artifact) and refuse other embeddings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from orchestration.lib.enrichment.features import negation_split
from orchestration.lib.enrichment.text import PLACEHOLDER_RE

MODEL_DIR = Path(__file__).parent / "model"
EMBEDDINGS_DIR = MODEL_DIR / "static-minilm-128"
SOURCE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHTS_FILE = "model.safetensors"


class EmbeddingsError(RuntimeError):
    """The static embedding model is missing or is not the one the heads were trained with."""


def embeddings_sha256(path: Path = EMBEDDINGS_DIR) -> str:
    return hashlib.sha256((Path(path) / WEIGHTS_FILE).read_bytes()).hexdigest()


class StaticEmbeddings:
    def __init__(self, path: Path = EMBEDDINGS_DIR) -> None:
        path = Path(path)
        if not (path / WEIGHTS_FILE).is_file() or not (path / "tokenizer.json").is_file():
            raise EmbeddingsError(f"static embeddings missing at {path}; rebuild them with "
                                  "`make distill-embeddings`")  # fmt: skip
        from model2vec import StaticModel

        self.sha256 = embeddings_sha256(path)
        # force_download only matters for hub ids; a local folder is read as it is.
        self._model = StaticModel.from_pretrained(path, normalize=True, force_download=False)
        self.dim = int(self._model.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float64, unit length (zero for a text with no known token).

        Redaction placeholders are dropped first: `<PERSON_1>` would otherwise tokenize into
        "person", "_", "1" and pull every redacted sentence towards the same point.
        """
        if not texts:
            return np.zeros((0, self.dim))
        cleaned = [PLACEHOLDER_RE.sub(" ", t) for t in texts]
        # one process: the enricher already runs one worker per core
        out = self._model.encode(cleaned, use_multiprocessing=False)
        return np.asarray(out, dtype=np.float64)

    def encode_scoped(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 2 x dim): the embedding of the words outside a negation's scope, then of the
        words inside it (zero when nothing is negated); see `features.negation_split`.
        This is the model's feature block."""
        split = [negation_split(t) for t in texts]
        if not split:
            return np.zeros((0, 2 * self.dim))
        both = self.encode([p for p, _ in split] + [n for _, n in split])
        return np.hstack([both[: len(split)], both[len(split) :]])
