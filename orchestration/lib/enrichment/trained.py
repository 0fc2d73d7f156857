"""The trained built-in model: tf-idf + VADER features, logistic-regression heads.

`TrainedModel.load()` reads the shipped `model/builtin-v2.npz` (numpy arrays only, loaded with
`allow_pickle=False`) and checks its sha256 against `model/manifest.json`. Inference is numpy
only (no scikit-learn), deterministic and fast (thousands of texts per second).

`TrainedSentimentScorer` plugs it into `BuiltinEnricher` through the `SentimentScorer` seam;
`TrainedModel.action_proba` is the action-needed head (trained on the Enron intent set) that
`BuiltinEnricher` uses as an urgency signal. `python -m orchestration.lib.enrichment.training`
retrains both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from orchestration.lib.enrichment.features import SparseVocab, dense_features

MODEL_DIR = Path(__file__).parent / "model"
ARTIFACT_NAME = "builtin-v2.npz"
CLASSES = ("negative", "neutral", "positive")
V1_DOMAIN_PRIOR = 1.2  # the hand-set prior of builtin-v1 artifacts, which do not hold one


class ArtifactError(RuntimeError):
    """The model artifact is missing, altered, or does not match its manifest."""


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class TrainedModel:
    def __init__(
        self, arrays: dict[str, np.ndarray], sha256: str, path: Path | None = None
    ) -> None:
        self.sha256 = sha256
        self.path = path  # the artifact it was loaded from (worker processes reload it)
        self.word = SparseVocab(arrays["word_vocab"].tolist(), arrays["word_idf"], "word")
        self.char = SparseVocab(arrays["char_vocab"].tolist(), arrays["char_idf"], "char")
        self.dense_scale = float(arrays["dense_scale"][0])
        # Logit shift per unit of the domain-phrase valence features (selected on dev data at
        # training time; see TrainedSentimentScorer). v1 artifacts had it hand-set in code.
        self.domain_prior = float(arrays.get("domain_prior", [V1_DOMAIN_PRIOR])[0])
        nw, nc = len(self.word.index), len(self.char.index)
        # Both heads share the features, so their weights are stacked: columns 0-2 sentiment
        # (negative, neutral, positive), column 3 action-needed. One pass scores both.
        coef = np.vstack([arrays["sentiment_coef"], arrays["action_coef"]]).astype(np.float64)
        self._w_word = np.ascontiguousarray(coef[:, :nw].T)  # (n_word, 4): row gather is cheap
        self._w_char = np.ascontiguousarray(coef[:, nw : nw + nc].T)
        self._w_dense = np.ascontiguousarray(coef[:, nw + nc :].T)
        self._bias = np.concatenate(
            [arrays["sentiment_intercept"], arrays["action_intercept"]]
        ).astype(np.float64)

    @classmethod
    def load(cls, path: str | Path | None = None, *, verify: bool = True) -> TrainedModel:
        path = Path(path) if path else MODEL_DIR / ARTIFACT_NAME
        if not path.is_file():
            raise ArtifactError(f"model artifact {path} is missing; retrain with "
                                "`python -m orchestration.lib.enrichment.training`")  # fmt: skip
        sha = file_sha256(path)
        if verify:
            manifest_path = path.parent / "manifest.json"
            try:
                expected = json.loads(manifest_path.read_text())["sha256"]
            except (OSError, ValueError, KeyError) as exc:
                raise ArtifactError(f"cannot read {manifest_path}: {exc}") from exc
            if sha != expected:
                raise ArtifactError(f"{path.name} sha256 {sha[:12]} does not match the "
                                    f"manifest ({expected[:12]})")  # fmt: skip
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        return cls(arrays, sha, path)

    def logits(
        self,
        texts: Sequence[str],
        dense: np.ndarray | None = None,
        parts: Sequence[Sequence[int] | None] | None = None,
    ) -> np.ndarray:
        """(n, 4) raw scores: sentiment negative, neutral, positive; action-needed.

        `parts` marks texts that join earlier texts of the batch (`SparseVocab.transform`).
        """
        if dense is None:
            dense = dense_features(texts)
        out = (dense * self.dense_scale) @ self._w_dense + self._bias
        for vocab, weights in ((self.word, self._w_word), (self.char, self._w_char)):
            rows, cols, vals = vocab.transform(texts, parts)
            if len(rows):
                # rows ascend: sum each text's terms in order (so a text's scores never
                # depend on the rest of the batch)
                starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
                out[rows[starts]] += np.add.reduceat(weights[cols] * vals[:, None], starts, axis=0)
        return out

    def predict(
        self,
        texts: Sequence[str],
        *,
        dense: np.ndarray | None = None,
        shift: np.ndarray | None = None,
        parts: Sequence[Sequence[int] | None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """((n, 3) sentiment probabilities, (n,) action-needed probabilities), one pass.

        `dense` reuses already computed `dense_features(texts)`; `shift` (n, 3) is added to
        the sentiment logits before the softmax (the built-in scorer's domain prior); `parts`
        marks texts that join earlier texts of the batch (see `SparseVocab.transform`).
        """
        if not texts:
            return np.zeros((0, 3)), np.zeros(0)
        z = self.logits(texts, dense, parts)
        s = z[:, :3] if shift is None else z[:, :3] + shift
        s = s - s.max(axis=1, keepdims=True)
        e = np.exp(s)
        return e / e.sum(axis=1, keepdims=True), 1.0 / (1.0 + np.exp(-z[:, 3]))

    def sentiment_proba(self, texts: Sequence[str], **kwargs) -> np.ndarray:
        """(n, 3) probabilities for negative, neutral, positive."""
        return self.predict(texts, **kwargs)[0]

    def action_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n,) probability that the text asks the reader to act or reply."""
        return self.predict(texts)[1]


@lru_cache(maxsize=4)
def load_default(path: str | None = None) -> TrainedModel:
    return TrainedModel.load(path)


def macro_f1(gold: Sequence, pred: Sequence, labels: Sequence | None = None) -> float:
    labels = list(labels) if labels is not None else sorted(set(gold) | set(pred), key=str)
    f1s = []
    for c in labels:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / len(f1s) if f1s else 0.0
