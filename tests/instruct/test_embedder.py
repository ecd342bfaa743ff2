"""SentenceEmbedder: packaged MiniLM works offline; nomic offline gives one clear error."""

from __future__ import annotations

import pytest
import torch

from glider.errors import ConfigError, InstructionError
from glider.instruct.embedder import SentenceEmbedder


def test_minilm_shape_norm_and_meaning(minilm):
    assert minilm.name == "minilm" and minilm.dim == 384
    texts = [
        "Classify the sentiment of a movie review as positive or negative.",
        "Decide whether a film review expresses a favourable or unfavourable opinion.",
        "Translate the given English sentence into German.",
    ]
    emb = minilm.encode(texts, kind="query")
    assert emb.shape == (3, 384) and emb.dtype == torch.float32
    assert torch.allclose(emb.norm(dim=1), torch.ones(3), atol=1e-5)
    sims = emb @ emb.T
    assert sims[0, 1] > sims[0, 2] + 0.2
    assert minilm.encode([], kind="document").shape == (0, 384)


def test_prefixes_change_the_text(minilm):
    prefixed = SentenceEmbedder("minilm", query_prefix="search_query: ")
    prefixed._model = minilm.model  # share the loaded weights
    plain = minilm.encode(["sort numbers"], kind="query")
    assert not torch.allclose(prefixed.encode(["sort numbers"], kind="query"), plain)
    assert torch.allclose(prefixed.encode(["sort numbers"], kind="document"), plain, atol=1e-6)
    with pytest.raises(ValueError):
        minilm.encode(["x"], kind="passage")  # type: ignore[arg-type]


def test_nomic_offline_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = SentenceEmbedder(
        "nomic", "nomic-ai/nomic-embed-text-v1.5", query_prefix="search_query: ",
        document_prefix="search_document: ", trust_remote_code=True,
    )
    assert embedder._model is None  # the constructor loads nothing
    with pytest.raises(InstructionError) as err:
        embedder.encode(["x"], kind="query")
    message = str(err.value)
    assert "nomic-ai/nomic-embed-text-v1.5" in message and "not available offline" in message
    assert "embedder.model_name_or_path=" in message


def test_no_default_model_for_other_names():
    with pytest.raises(ConfigError, match="embedder.model_name_or_path"):
        SentenceEmbedder("nomic")
