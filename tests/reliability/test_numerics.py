"""NaN / inf never get routed on: routing fails naming the module; damaged files fail naming file and tensor."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from glider.errors import GliderError, InstructionError, LibraryError, RoutingError
from glider.instruct.queries import cached_encode
from glider.library.library import ExpertLibrary
from glider.moe.routed_model import RoutedSeq2Seq
from glider.routers import build_router
from glider.routers.base import ExpertSide, QueryBatch
from glider.routers.router import check_finite
from tests.conftest import random_expert

INPUT = torch.tensor([[5, 6, 7, 8, 1], [9, 10, 11, 1, 0]])
LABELS = torch.tensor([[12, 13, 1], [14, 1, 0]])
MODULE = "decoder.block.1.layer.2.DenseReluDense.wo"


def _forward(routed: RoutedSeq2Seq, queries: QueryBatch | None = None) -> torch.Tensor:
    with torch.no_grad(), routed.batch(queries, batch_size=2):
        return routed(input_ids=INPUT, attention_mask=(INPUT != 0).long(), labels=LABELS).logits


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_gate_fails_naming_the_module(tiny_t5, bad: float) -> None:
    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i) for i in range(3)]
    experts[1].gates[MODULE] = torch.full_like(experts[1].gates[MODULE], bad)
    routed = RoutedSeq2Seq(copy.deepcopy(tiny_t5), build_router("phatgoose", local=["phatgoose"], top_k=2), experts).eval()
    with pytest.raises(RoutingError, match=rf"Routing scores contain NaN in module {MODULE}:") as err:
        _forward(routed)
    assert isinstance(err.value, FloatingPointError) and isinstance(err.value, GliderError)


def test_non_finite_global_score_fails_naming_the_first_module(tiny_t5) -> None:
    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i) for i in range(3)]
    side = ExpertSide(names=["e0", "e1", "e2"], tasks=["t0", "t1", "t2"], instruction_emb=torch.eye(3, 8))
    router = build_router("glider", local=["phatgoose"], global_scorers=["instruction"], alpha=100.0)
    routed = RoutedSeq2Seq(copy.deepcopy(tiny_t5), router, experts, side).eval()
    queries = QueryBatch(tasks=["t0", "t1"], instruction_emb=torch.tensor([[float("nan")] * 8, [1.0] + [0.0] * 7]))
    with pytest.raises(RoutingError, match="in module encoder.block.0.layer.0.SelfAttention.q:"):
        _forward(routed, queries)


def test_check_finite_on_logits() -> None:
    check_finite(torch.randn(4, 3), "m")
    with pytest.raises(RoutingError, match="contain inf in module m"):
        check_finite(torch.tensor([[0.0, float("inf")]]), "m")
    with pytest.raises(RoutingError, match="Every expert scored -inf for some token in module m"):
        check_finite(torch.tensor([[0.0, 1.0], [float("-inf"), float("-inf")]]), "m")


@pytest.mark.parametrize("file, key_prefix", [("glider.safetensors", "gate."), ("adapter_model.safetensors", "base_model.model.")])
def test_non_finite_values_on_disk_name_file_and_tensor(tmp_path: Path, tiny_t5, file: str, key_prefix: str) -> None:
    library = ExpertLibrary.open_or_create(tmp_path / "lib", {"id": "tiny", "fingerprint": "x"}, ["q"])
    library.add(random_expert(tiny_t5, "e0", "t0"))
    path = library.expert_dir("e0") / file
    tensors = load_file(str(path))
    key = sorted(k for k in tensors if k.startswith(key_prefix))[0]
    tensors[key].view(-1)[0] = float("nan")
    save_file(tensors, str(path))
    with pytest.raises(LibraryError, match=rf"{re.escape(str(path))} holds NaN in '{re.escape(key)}' \(1 of .*glider never routes on it\. Delete the expert's directory"):
        library.load("e0")


class NaNEmbedder:
    """An embedder that has gone wrong (e.g. a broken half-precision kernel)."""

    name, dim, model_name_or_path = "broken", 4, None

    def encode(self, texts: list[str], kind: str = "document") -> torch.Tensor:
        out = torch.ones(len(texts), self.dim)
        out[0, 0] = float("nan")
        return out


def test_nan_query_embeddings_are_an_error_and_never_cached(tmp_path: Path) -> None:
    with pytest.raises(InstructionError, match="embedder 'broken' returned NaN/inf for 1 of 2 query texts; nothing was cached"):
        cached_encode(NaNEmbedder(), ["a", "b"], "query", tmp_path)
    assert not list(tmp_path.rglob("*.safetensors"))


def test_a_diverged_expert_is_never_written(tmp_path: Path, tiny_t5) -> None:
    library = ExpertLibrary.open_or_create(tmp_path / "lib", {"id": "tiny", "fingerprint": "x"}, ["q"])
    library.add(random_expert(tiny_t5, "e0", "t0"))
    diverged = random_expert(tiny_t5, "e1", "t1", seed=1)
    diverged.lora_B[MODULE] = diverged.lora_B[MODULE] * float("nan")
    with pytest.raises(LibraryError, match=rf"Expert 'e1' has NaN/inf in its lora_B of module '{MODULE}', so it is not written"):
        library.add(diverged)
    assert library.names == ["e0"] and not library.expert_dir("e1").exists()
    assert ExpertLibrary.open(tmp_path / "lib").names == ["e0"]
    kept = library.load("e0")
    kept.gates[MODULE] = torch.full_like(kept.gates[MODULE], float("inf"))
    before = (library.expert_dir("e0") / "glider.safetensors").read_bytes()
    with pytest.raises(LibraryError, match="has NaN/inf in its gate of module"):
        library.save_routing_keys(kept)
    assert (library.expert_dir("e0") / "glider.safetensors").read_bytes() == before
