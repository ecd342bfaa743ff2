"""Read and write experts as PEFT LoRA adapter directories (adapter_config.json + adapter_model.safetensors)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from peft import LoraConfig
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import Tensor

from glider.errors import LibraryError
from glider.io import atomic_save_tensors, atomic_write_json

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.default)?\.weight$")


def write_peft_adapter(
    directory: Path,
    lora_A: dict[str, Tensor],
    lora_B: dict[str, Tensor],
    rank: int,
    lora_alpha: float,
    base_model: str | None,
) -> None:
    """Write a PEFT LoRA adapter that ``PeftModel.from_pretrained`` loads on its own."""
    targets = sorted({m.rsplit(".", 1)[-1] for m in lora_A})
    config = LoraConfig(
        r=rank,
        lora_alpha=lora_alpha,
        target_modules=targets,
        lora_dropout=0.0,
        bias="none",
        task_type="SEQ_2_SEQ_LM",
        base_model_name_or_path=base_model,
        inference_mode=True,
    )
    config_dict = config.to_dict()
    config_dict = {k: (sorted(v) if isinstance(v, set) else v) for k, v in config_dict.items()}
    atomic_write_json(directory / ADAPTER_CONFIG, config_dict)
    tensors = {}
    for module in lora_A:
        tensors[f"base_model.model.{module}.lora_A.weight"] = lora_A[module]
        tensors[f"base_model.model.{module}.lora_B.weight"] = lora_B[module]
    atomic_save_tensors(directory / ADAPTER_WEIGHTS, tensors, metadata={"format": "pt"})


REBUILD_EXPERT = "Delete the expert's directory and rerun the stage that builds it (or re-import the expert)."


def load_tensors(path: Path, fix: str = REBUILD_EXPERT) -> dict[str, Tensor]:
    """Load a safetensors file; a truncated or corrupted file, or NaN/inf in it, gives one clear LibraryError."""
    if not path.is_file():
        raise LibraryError(f"Missing file {path}: the expert is incomplete; rebuild or re-import it.")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise LibraryError(f"Cannot read {path} ({err}): the file is truncated or corrupted. {fix}") from None
    for key, value in tensors.items():
        if value.is_floating_point() and not torch.isfinite(value).all():
            bad = "NaN" if torch.isnan(value).any() else "inf"
            raise LibraryError(
                f"{path} holds {bad} in '{key}' ({int((~torch.isfinite(value)).sum())} of {value.numel()} values): "
                f"the file is corrupted or its training diverged; glider never routes on it. {fix}"
            )
    return tensors


def read_peft_adapter(directory: Path) -> tuple[dict[str, Tensor], dict[str, Tensor], int, float]:
    """(lora_A, lora_B, rank, lora_alpha) from a PEFT LoRA adapter directory."""
    config_path = directory / ADAPTER_CONFIG
    if not config_path.is_file():
        raise LibraryError(f"{directory} is not a PEFT adapter: {ADAPTER_CONFIG} is missing.")
    try:
        config = json.loads(config_path.read_text())
    except json.JSONDecodeError as err:
        raise LibraryError(f"Cannot parse {config_path}: {err}. Re-import or rebuild this expert.") from None
    if config.get("peft_type", "LORA") != "LORA":
        raise LibraryError(f"{directory} holds a {config.get('peft_type')} adapter; glider experts must be LoRA.")
    if config.get("use_dora") or config.get("use_rslora"):
        raise LibraryError(f"{directory}: DoRA / rsLoRA adapters are not supported; use plain LoRA.")
    tensors = load_tensors(directory / ADAPTER_WEIGHTS)
    lora_A: dict[str, Tensor] = {}
    lora_B: dict[str, Tensor] = {}
    for key, value in tensors.items():
        match = _KEY.match(key)
        if match is None:
            continue
        (lora_A if match["ab"] == "A" else lora_B)[match["module"]] = value
    if not lora_A or set(lora_A) != set(lora_B):
        raise LibraryError(
            f"{directory / ADAPTER_WEIGHTS} has no matching lora_A/lora_B pairs "
            "(expected keys 'base_model.model.<module>.lora_A.weight' and '.lora_B.weight')."
        )
    rank = int(config.get("r", next(iter(lora_A.values())).shape[0]))
    alpha = float(config.get("lora_alpha", rank))
    ranks = {m: a.shape[0] for m, a in lora_A.items()}
    pattern = config.get("rank_pattern") or {}
    if len(set(ranks.values())) > 1 and not pattern:
        raise LibraryError(f"{directory}: modules have different ranks {sorted(set(ranks.values()))} without a rank_pattern.")
    return {m: a.float() for m, a in lora_A.items()}, {m: b.float() for m, b in lora_B.items()}, rank, alpha
