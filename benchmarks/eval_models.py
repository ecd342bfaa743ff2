"""Backbones, random expert libraries and rank-classification batches for the eval benchmarks.

Random weights only (no download): ``t5_tiny`` is ``conf/model/t5_tiny.yaml``'s
architecture, ``t5_small`` a T5-small-sized model (d_model 512, d_ff 2048, 6 + 6 layers,
8 heads), ``t5_xl`` has google/t5-xl-lm-adapt's shapes (d_model 2048, d_kv 64, d_ff 5120,
24 + 24 layers, 32 heads); all gated-gelu like the project's backbones.
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
from glider.library.stack import ModuleStack
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
XL_CONFIG = {"d_model": 2048, "d_kv": 64, "d_ff": 5120, "num_layers": 24, "num_decoder_layers": 24, "num_heads": 32,
             "feed_forward_proj": "gated-gelu", "dropout_rate": 0.0}
SHAPES = {
    "t5_tiny": EvalShape("t5_tiny", tiny_config(), vocab_size=2000, rank=8, batch_size=32, source_len=32,
                         choices=3, target_len=4),
    "t5_small": EvalShape("t5_small", SMALL_CONFIG, vocab_size=32128, rank=16, batch_size=32, source_len=128,
                          choices=3, target_len=6),
    "t5_xl": EvalShape("t5_xl", XL_CONFIG, vocab_size=32128, rank=16, batch_size=32, source_len=128, choices=3, target_len=6),
}


def build_backbone(shape: EvalShape, seed: int = 0, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    """A randomly initialised T5 of this shape, in eval mode, on ``device`` in ``dtype``."""
    torch.manual_seed(seed)
    with torch.device(device):
        return build_tiny_t5(shape.config, vocab_size=shape.vocab_size).to(dtype).eval()


def random_stacks(model: torch.nn.Module, n_experts: int, rank: int, seed: int = 0) -> dict[str, ModuleStack]:
    """N random experts stacked per targeted module on the model's device and dtype (what ``stack_experts``
    makes of a library): A ~ N(0, 1/d_in), B ~ N(0, 0.02^2), scale 2 (alpha = 2 r), Phatgoose gates ~ N(0, 1)."""
    weight = next(model.parameters())
    gen = torch.Generator(weight.device).manual_seed(seed)

    def randn(*shape: int, std: float = 1.0) -> Tensor:
        return (torch.randn(*shape, generator=gen, device=weight.device) * std).to(weight.dtype)

    stacks = {}
    for name, (d_out, d_in) in module_shapes(model).items():
        lora_Bt = randn(n_experts, rank, d_out, std=0.02)  # [N, r, d_out]: the bank's layout
        stacks[name] = ModuleStack(randn(n_experts, rank, d_in, std=d_in**-0.5), lora_Bt.transpose(1, 2),
                                   torch.full((n_experts,), 2.0, device=weight.device), {"gate": randn(n_experts, d_in).float()})
    return stacks


def glider_model(model: torch.nn.Module, n_experts: int, rank: int, alpha: float = 3.0, top_k: int = 2,
                 candidates: int | None = None) -> RoutedSeq2Seq:
    """GLIDER (Phatgoose + alpha * instruction, top-k) over N random experts, on a copy of ``model``."""
    emb = torch.nn.functional.normalize(torch.randn(n_experts, EMBED_DIM, generator=torch.Generator().manual_seed(1)), dim=-1)
    side = ExpertSide(names=[f"e{i}" for i in range(n_experts)], tasks=[f"task{i}" for i in range(n_experts)], instruction_emb=emb)
    router = build_router("glider", local=["phatgoose"], global_scorers=["instruction"], alpha=alpha, top_k=top_k,
                          candidates=candidates)
    return RoutedSeq2Seq.from_stacks(copy.deepcopy(model), router, random_stacks(model, n_experts, rank), side).eval()


def rank_batch(shape: EvalShape, seed: int = 0, device: str | torch.device = "cpu") -> tuple[dict[str, Tensor], QueryBatch]:
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
        "input_ids": input_ids.to(device),
        "attention_mask": attention_mask.to(device),
        "choice_labels": labels.to(device),  # [B*C, L]
        "choice_valid": torch.ones(b, c, dtype=torch.bool, device=device),
    }
    queries = QueryBatch(tasks=["heldout"] * b, instruction_emb=torch.nn.functional.normalize(
        torch.randn(b, EMBED_DIM, generator=gen), dim=-1).to(device))
    return batch, queries


def decoder_mask(batch: dict[str, Tensor]) -> Tensor:
    """The decoder-side token mask the evaluator registers (as in glider/lit/evaluation.py)."""
    labels = batch["choice_labels"]
    return torch.cat([torch.ones_like(labels[:, :1]), (labels[:, :-1] != -100).long()], dim=1)
