"""Released-expert files (GLIDER ``{task}_best.pt``, Phatgoose concatenated, PEFT folders) for a backbone config."""

from __future__ import annotations

from pathlib import Path

import torch

from glider.backbone import build_tiny_t5
from glider.moe.inject import module_shapes

BYTE_VOCAB = 384  # ByT5's tokenizer (model.tokenizer=byte)


def tiny_shapes(config: dict) -> dict[str, tuple[int, int]]:
    """Layer shapes of the tiny T5 a ``model=`` config builds (``model.config``)."""
    return module_shapes(build_tiny_t5(dict(config), vocab_size=BYTE_VOCAB))


def write_glider_release(directory: Path, shapes: dict[str, tuple[int, int]], tasks: list[str], rank: int = 4, scale: float = 0.05) -> Path:
    """One ``{task}_best.pt`` per task with PEFT-style LoRA keys and a Phatgoose gate."""
    directory.mkdir(parents=True, exist_ok=True)
    for n, task in enumerate(tasks):
        g = torch.Generator().manual_seed(n)
        state = {}
        for m, (d_out, d_in) in shapes.items():
            state[f"base_model.model.{m}.lora_A.default.weight"] = torch.randn(rank, d_in, generator=g) * scale
            state[f"base_model.model.{m}.lora_B.default.weight"] = torch.randn(d_out, rank, generator=g) * scale
            state[f"base_model.model.{m}.lora_gate.default"] = torch.randn(d_in, generator=g)
        torch.save(state, directory / f"{task}_best.pt")
    return directory


def write_phatgoose_release(path: Path, shapes: dict[str, tuple[int, int]], n: int, rank: int = 4, scale: float = 0.05) -> Path:
    """All n experts concatenated in one state dict with Phatgoose's ``_addons`` keys."""
    g = torch.Generator().manual_seed(11)
    state = {}
    for m, (d_out, d_in) in shapes.items():
        for i in range(n):
            state[f"{m}._addons.expert_lora.layer1__{i}"] = torch.randn(d_in, rank, generator=g) * scale
            state[f"{m}._addons.expert_lora.layer2__{i}"] = torch.randn(rank, d_out, generator=g) * scale
            state[f"{m}._addons.router.expert_embeddings__{i}"] = torch.randn(d_in, generator=g)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path
