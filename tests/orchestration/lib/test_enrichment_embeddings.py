"""The built-in model's static embeddings: committed, offline, deterministic, meaningful.

Uses only the committed embeddings (orchestration/lib/enrichment/model/static-minilm-128/).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from orchestration.lib.enrichment.embeddings import (
    EMBEDDINGS_DIR,
    EmbeddingsError,
    StaticEmbeddings,
    embeddings_sha256,
)
from orchestration.lib.enrichment.features import negation_split
from orchestration.lib.enrichment.trained import MODEL_DIR, load_embeddings


@pytest.fixture(scope="module")
def embedder() -> StaticEmbeddings:
    return load_embeddings()


def test_the_committed_embeddings_are_the_ones_the_manifest_names() -> None:
    manifest = json.loads((MODEL_DIR / "manifest.json").read_text())
    assert embeddings_sha256() == manifest["embeddings"]["weights_sha256"]
    assert "Apache 2.0" in manifest["embeddings"]["licence"]
    assert "Apache" in (EMBEDDINGS_DIR / "NOTICE.md").read_text()


def test_texts_become_deterministic_unit_vectors_independent_of_the_batch(
    embedder: StaticEmbeddings,
) -> None:
    texts = ["The conference was great.", "I was charged twice!", "caf\u00e9 \U0001f600", "ok"]
    batch = embedder.encode(texts)
    assert batch.shape == (4, embedder.dim) == (4, 128) and batch.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-3)  # float16 weights
    for i, text in enumerate(texts):
        np.testing.assert_array_equal(embedder.encode([text])[0], batch[i])
    assert embedder.encode([]).shape == (0, 128)
    assert not embedder.encode([""]).any()  # no token, no direction


def test_redaction_placeholders_do_not_move_the_embedding(embedder: StaticEmbeddings) -> None:
    plain, redacted, other = embedder.encode(
        ["thanks for the help", "thanks <PERSON_1> for the help [REDACTED]", "thanks person 1"]
    )
    np.testing.assert_allclose(redacted, plain, atol=1e-6)
    assert not np.allclose(other, plain, atol=1e-3)


def test_texts_of_like_meaning_land_closer_than_unrelated_ones(embedder: StaticEmbeddings) -> None:
    # words no rule lists: what the n-gram features cannot see, the embedding relates
    refund, waiting, praise = embedder.encode([
        "my refund has not arrived yet",
        "still waiting for my money back",
        "the keynote speakers were inspiring",
    ])  # fmt: skip
    assert refund @ waiting > refund @ praise + 0.2


def test_missing_embeddings_are_a_clear_error_not_a_download(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingsError, match="make distill-embeddings"):
        StaticEmbeddings(tmp_path / "static-minilm-128")
    partial = tmp_path / "partial"
    shutil.copytree(EMBEDDINGS_DIR, partial)
    (partial / "tokenizer.json").unlink()
    with pytest.raises(EmbeddingsError, match="missing"):
        StaticEmbeddings(partial)


def test_negated_words_are_embedded_apart_from_the_rest(embedder: StaticEmbeddings) -> None:
    assert negation_split("I would never recommend this conference.") == (
        "i would never .", "recommend this conference"
    )  # fmt: skip
    # the scope ends at punctuation; stand-ins for placeholders and numbers are dropped
    assert negation_split("It isn't working, <PERSON_1> said. Call 555 1234") == (
        "it isn't , said . call", "working"
    )  # fmt: skip
    negated, plain = embedder.encode_scoped(["I would not recommend it", "I would recommend it"])
    dim = embedder.dim
    assert negated.shape == plain.shape == (2 * dim,)
    assert not plain[dim:].any()  # nothing negated: the second half is zero
    np.testing.assert_allclose(negated[dim:], embedder.encode(["recommend it"])[0])
    assert embedder.encode_scoped([]).shape == (0, 2 * dim)
