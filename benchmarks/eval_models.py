"""Backbones, random expert libraries and rank-classification batches for the eval benchmarks.

Random weights only (no download): ``t5_tiny`` is ``conf/model/t5_tiny.yaml``'s
architecture, ``t5_small`` a T5-small-sized model (d_model 512, d_ff 2048, 6 + 6
layers, 8 heads, gated-gelu like the project's backbones, 32128-token vocabulary).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import Tensor

from glider.backbone import build_tiny_t5
from glider.library.expert import Expert
from glider.moe.inject import module_shapes
from glider.moe.routed_model import RoutedSeq2Seq
from glider.routers import build_router
from glider.routers.base import ExpertSide, QueryBatch

ROOT = Path(__file__).resolve().parents[1]
EMBED_DIM = 384  # MiniLM's instruction embeddings


@dataclass(frozen=True)
class EvalShape:
    """One benchmark configuration: backbone, expert rank, and the eval batch's shape."""

    name: str
    config: dict[str, Any]
    vocab_size: int
    rank: int
    batch_size: int  # examples per batch (conf/config.yaml eval.batch_size)
    source_len: int  # encoder tokens per example
    choices: int  # answer choices per example (decoder rows per example)
    target_len: int  # decoder tokens per choice


def tiny_config() -> dict[str, Any]:
    """The architecture of conf/model/t5_tiny.yaml."""
    return dict(yaml.safe_load((ROOT / "conf/model/t5_tiny.yaml").read_text())["config"])


SMALL_CONFIG = {"d_model": 512, "d_kv": 64, "d_ff": 2048, "num_layers": 6, "num_decoder_layers": 6, "num_heads": 8,
                "feed_forward_proj": "gated-gelu", "dropout_rate": 0.0}
SHAPES = {
    "t5_tiny": EvalShape("t5_tiny", tiny_config(), vocab_size=2000, rank=8, batch_size=32, source_len=32,
                         choices=3, target_len=4),
    "t5_small": EvalShape("t5_small", SMALL_CONFIG, vocab_size=32128, rank=16, batch_size=32, source_len=128,
                          choices=3, target_len=6),
}


def build_backbone(shape: EvalShape, seed: int = 0) -> torch.nn.Module:
    """A randomly initialised T5 of this shape, in eval mode."""
    torch.manual_seed(seed)
    return build_tiny_t5(shape.config, vocab_size=shape.vocab_size).eval()


def random_experts(model: torch.nn.Module, n_experts: int, rank: int, seed: int = 0) -> list[Expert]:
    """N experts with random LoRA factors and Phatgoose gates on every targeted module."""
    gen = torch.Generator().manual_seed(seed)
    shapes = module_shapes(model)
    experts = []
    for i in range(n_experts):
        lora_A = {m: torch.randn(rank, d_in, generator=gen) * d_in**-0.5 for m, (_, d_in) in shapes.items()}
        lora_B = {m: torch.randn(d_out, rank, generator=gen) * 0.02 for m, (d_out, _) in shapes.items()}
        gates = {m: torch.randn(d_in, generator=gen) for m, (_, d_in) in shapes.items()}
        experts.append(Expert(f"e{i}", f"task{i}", rank, 2.0 * rank, lora_A, lora_B, gates=gates))
    return experts


def glider_model(model: torch.nn.Module, n_experts: int, rank: int, alpha: float = 3.0, top_k: int = 2,
                 candidates: int | None = None) -> RoutedSeq2Seq:
    """GLIDER (Phatgoose + alpha * instruction, top-k) over N random experts, on a copy of ``model``."""
    experts = random_experts(model, n_experts, rank)
    emb = torch.nn.functional.normalize(torch.randn(n_experts, EMBED_DIM, generator=torch.Generator().manual_seed(1)), dim=-1)
    side = ExpertSide(names=[e.name for e in experts], tasks=[e.task for e in experts], instruction_emb=emb)
    router = build_router("glider", local=["phatgoose"], global_scorers=["instruction"], alpha=alpha, top_k=top_k,
                          candidates=candidates)
    return RoutedSeq2Seq(copy.deepcopy(model), router, experts, side).eval()


def rank_batch(shape: EvalShape, seed: int = 0) -> tuple[dict[str, Tensor], QueryBatch]:
    """A rank-classification batch in the collate format of glider/data/collate.py, plus its queries."""
    gen = torch.Generator().manual_seed(seed)
    b, s, c, length = shape.batch_size, shape.source_len, shape.choices, shape.target_len
    input_ids = torch.randint(2, shape.vocab_size, (b, s), generator=gen)
    lengths = torch.randint(s // 2, s + 1, (b,), generator=gen)
    attention_mask = (torch.arange(s)[None, :] < lengths[:, None]).long()  # [B, S]
    input_ids = input_ids * attention_mask
    labels = torch.randint(2, shape.vocab_size, (b * c, length), generator=gen)
    labels[:, -1] = 1  # EOS
    batch = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "choice_labels": labels,  # [B*C, L]
        "choice_valid": torch.ones(b, c, dtype=torch.bool),
    }
    queries = QueryBatch(tasks=["heldout"] * b, instruction_emb=torch.nn.functional.normalize(
        torch.randn(b, EMBED_DIM, generator=gen), dim=-1))
    return batch, queries


def decoder_mask(batch: dict[str, Tensor]) -> Tensor:
    """The decoder-side token mask the evaluator registers (as in glider/lit/evaluation.py)."""
    labels = batch["choice_labels"]
    return torch.cat([torch.ones_like(labels[:, :1]), (labels[:, :-1] != -100).long()], dim=1)
