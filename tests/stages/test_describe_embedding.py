"""How an expert's instruction is embedded: llm=none averages its samples, a real LLM's text is embedded once."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from glider.instruct.none_writer import NoneWriter
from glider.stages.describe_stage import embed_instruction, run_describe


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


class _MemoryLibrary:
    """The parts of ExpertLibrary that describe uses, in memory."""

    def __init__(self, cards: dict[str, dict]) -> None:
        self.cards = cards
        self.names = list(cards)
        self.saved: dict[str, dict[str, torch.Tensor]] = {}

    def embedding_metadata(self, embedder: str, name: str) -> None:
        return None

    def card(self, name: str) -> dict:
        return self.cards[name]

    def update_card(self, name: str, **fields: object) -> None:
        self.cards[name].update(fields)

    def save_embeddings(self, embedder: str, name: str, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> None:
        self.saved[name] = tensors


class _PhrasingEmbedder(_TableEmbedder):
    """A text's vector is the one-hot of its phrasing (its first letter)."""

    name, dim = "phrasing", 3

    def __init__(self) -> None:
        super().__init__({})

    def encode(self, texts: list[str], kind: str = "document") -> torch.Tensor:
        self.calls.append(list(texts))
        return torch.stack([F.one_hot(torch.tensor("abc".index(t[0])), 3).float() for t in texts])


@pytest.mark.parametrize("choice, expected", [("diverse", {"a", "b", "c"}), ("first", {"a"})])
def test_describe_writes_the_instruction_from_the_chosen_samples(choice: str, expected: set[str]) -> None:
    samples = ["a1", "a2", "a3", "a4", "b1", "c1", "a5"]  # K=3, R=3: pool a1..b1 + c1; probe a5
    library = _MemoryLibrary({"e": {"task": "t", "samples": samples}})
    cfg = OmegaConf.create({"llm": {"name": "none"}, "embedder": {"name": "phrasing"},
                            "library": {"describe": {"k": 3, "sample_choice": choice, "retrieval_inputs": 3, "probe_queries": 1}}})
    ctx = SimpleNamespace(cfg=cfg, open_library=lambda: library)
    run_describe(ctx, writer=NoneWriter(), embedder=_PhrasingEmbedder())  # type: ignore[arg-type]
    chosen = library.cards["e"]["instruction"].split("\n")
    assert len(chosen) == 3 and {s[0] for s in chosen} == expected
    assert library.saved["e"]["inputs"].shape == (3, 3)  # retrieval store: samples[K : K+R] = a4, b1, c1
    assert torch.equal(library.saved["e"]["inputs"].argmax(-1), torch.tensor([0, 1, 2]))
    # llm=none keeps the K unit sample embeddings whose mean is the instruction (alpha=auto's calibration)
    kept = library.saved["e"]["instruction_samples"]
    assert kept.shape == (3, 3)
    assert torch.allclose(kept.mean(dim=0, keepdim=True), library.saved["e"]["instruction"])
