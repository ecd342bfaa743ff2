"""Shared fixtures: a tiny random T5 (gated-gelu like t5-xl-lm-adapt) and random LoRA experts."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tests.shared import shared_instructions_dir  # noqa: E402

# the published instruction files: the product's paths.instructions_dir, pointed at the shared copy
os.environ.setdefault("GLIDER_INSTRUCTIONS_DIR", str(shared_instructions_dir()))

import pytest
import torch
from transformers import T5Config, T5ForConditionalGeneration

from glider.library.expert import Expert
from glider.moe.inject import module_shapes


def tiny_t5_config(vocab_size: int = 64) -> T5Config:
    return T5Config(
        vocab_size=vocab_size,
        d_model=16,
        d_kv=4,
        d_ff=24,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        feed_forward_proj="gated-gelu",
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        dropout_rate=0.0,
    )


@pytest.fixture
def tiny_t5() -> T5ForConditionalGeneration:
    torch.manual_seed(0)
    return T5ForConditionalGeneration(tiny_t5_config()).eval()


def random_expert(model: torch.nn.Module, name: str, task: str, rank: int = 4, alpha: float = 8.0, seed: int = 0, with_keys: bool = True) -> Expert:
    """An expert with random non-zero LoRA weights on every targeted module of ``model``."""
    g = torch.Generator().manual_seed(seed)
    shapes = module_shapes(model)
    lora_A = {m: torch.randn(rank, d_in, generator=g) * 0.3 for m, (_, d_in) in shapes.items()}
    lora_B = {m: torch.randn(d_out, rank, generator=g) * 0.3 for m, (d_out, _) in shapes.items()}
    expert = Expert(name=name, task=task, rank=rank, lora_alpha=alpha, lora_A=lora_A, lora_B=lora_B)
    if with_keys:
        from glider.routers.arrow import arrow_prototype

        expert.gates = {m: torch.randn(d_in, generator=g) for m, (_, d_in) in shapes.items()}
        expert.prototypes = {m: arrow_prototype(lora_A[m], lora_B[m]) for m in shapes}
    return expert
