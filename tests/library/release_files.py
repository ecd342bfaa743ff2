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


def write_arrow_release(directory: Path, shapes: dict[str, tuple[int, int]], tasks: list[str], rank: int = 4, scale: float = 0.05) -> Path:
    """``MoE-UNC/p3-lora-checkpoints-arrow``: the same keys, each ``lora_gate`` an Arrow prototype as released
    (here deliberately neither unit-norm nor centred, so any layer norm or renormalisation would show)."""
    directory.mkdir(parents=True, exist_ok=True)
    for n, task in enumerate(tasks):
        g = torch.Generator().manual_seed(100 + n)
        state = {}
        for m, (d_out, d_in) in shapes.items():
            state[f"base_model.model.{m}.lora_A.default.weight"] = torch.randn(rank, d_in, generator=g) * scale
            state[f"base_model.model.{m}.lora_B.default.weight"] = torch.randn(d_out, rank, generator=g) * scale
            state[f"base_model.model.{m}.lora_gate.default"] = 3.0 * torch.randn(d_in, generator=g) + 0.5
        torch.save(state, directory / f"{task}_best.pt")
    return directory


def write_merged_release(directory: Path, shapes: dict[str, tuple[int, int]], rank: int = 8, scale: float = 0.05) -> Path:
    """Phatgoose's ``*_MergedExperts/best.pt``: one expert ``__0`` in the concatenated layout, zero router embedding."""
    g = torch.Generator().manual_seed(21)
    state = {}
    for m, (d_out, d_in) in shapes.items():
        state[f"{m}._addons.expert_lora.layer1__0"] = torch.randn(d_in, rank, generator=g) * scale
        state[f"{m}._addons.expert_lora.layer2__0"] = torch.randn(rank, d_out, generator=g) * scale
        state[f"{m}._addons.router.expert_embeddings__0"] = torch.zeros(d_in)
    directory.mkdir(parents=True, exist_ok=True)
    torch.save(state, directory / "best.pt")
    return directory


EMBEDDINGS = "gpt-generated-instruction-nomic-embeddings"
# the released folders and where each keeps its file (the original's paths in paper-eval.sh)
EMBEDDING_FOLDERS = {"t0-v3": True, "t0-v4": True, "bigbench": True, "bigbench-v2": False, "flan-v2": False}


def write_embedding_release(released: Path, vectors: dict[str, dict[str, torch.Tensor]]) -> Path:
    """``released/gpt-generated-instruction-nomic-embeddings/<folder>[/checkpoints]/nomic_instruction_embedding.pt``,
    each a ``torch.save``d dict task -> 1-D tensor (``vectors``: folder -> that dict)."""
    for folder, table in vectors.items():
        where = released / EMBEDDINGS / folder / ("checkpoints" if EMBEDDING_FOLDERS.get(folder, True) else "")
        where.mkdir(parents=True, exist_ok=True)
        torch.save(dict(table), where / "nomic_instruction_embedding.pt")
    return released / EMBEDDINGS


def random_embeddings(tasks: list[str], dim: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {t: torch.randn(dim, generator=g) for t in tasks}
