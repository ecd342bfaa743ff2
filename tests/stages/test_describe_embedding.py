"""How an expert's instruction is embedded: llm=none averages its samples, a real LLM's text is embedded once."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from glider.instruct.none_writer import NoneWriter
from glider.stages.describe_stage import embed_instruction


class _TableEmbedder:
    """Each known text maps to a fixed (unnormalised) vector."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str], kind: str = "document") -> torch.Tensor:
        self.calls.append(list(texts))
        return torch.tensor([self.table[t] for t in texts])


class _LLMWriter:
    name = "llm"


def test_none_writer_embeds_the_mean_of_its_unit_normalised_samples() -> None:
    embedder = _TableEmbedder({"a": [3.0, 0.0], "b": [0.0, 0.5]})
    writer = NoneWriter()
    got = embed_instruction(writer, embedder, writer.write(["a", "b"]), ["a", "b"])
    assert torch.allclose(got, torch.tensor([[0.5, 0.5]]))  # not the embedding of "a\nb"
    assert embedder.calls == [["a", "b"]]


def test_an_llm_instruction_is_embedded_as_one_text() -> None:
    embedder = _TableEmbedder({"Classify the sentiment.": [1.0, 2.0], "a": [3.0, 0.0]})
    got = embed_instruction(_LLMWriter(), embedder, "Classify the sentiment.", ["a"])
    assert torch.equal(got, torch.tensor([[1.0, 2.0]]))
    assert F.normalize(got, dim=-1).shape == (1, 2)
