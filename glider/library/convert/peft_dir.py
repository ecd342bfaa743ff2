"""PEFT LoRA adapter directories (adapter_config.json + adapter_model.safetensors|.bin) for any T5.

``path`` is one adapter directory or a folder of them (one expert per sub-directory, named
after it; a single adapter takes its name from ``tasks=[name]`` when given). Keys:
``base_model.model.<module>.lora_A[.<adapter>].weight`` [r, d_in] and ``lora_B`` [d_out, r];
gated-gelu FFNs (wi_0 / wi_1) are plain modules. Scales follow the config: lora_alpha / r
(alpha_pattern / rank_pattern per module; alpha / sqrt(r) with rsLoRA). Options the routed
layer cannot reproduce are refused (``peft_options.py``), and so is any other key in the weights.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from glider.errors import LibraryError
from glider.library.convert.common import (
    BackboneLayout,
    ExpertParts,
    check_shape,
    checkpoint_fingerprint,
    keep_requested,
    load_checkpoint,
    resolve_module,
    unexpected_key,
    unknown_module,
)
from glider.library.convert.peft_options import check_peft_options
from glider.library.convert.plan import ImportItem
from glider.library.expert import Expert

CONFIG = "adapter_config.json"
WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
_KEY = re.compile(r"^(?P<module>.+)\.lora_(?P<kind>A|B)(?:\.[^.]+)?\.weight$")
EXPECTED = "'<module>.lora_A.weight' or '<module>.lora_B.weight'"


def _pattern_value(patterns: dict[str, Any], module: str, default: float) -> float:
    """PEFT's per-module override: a pattern matches when the module name ends with it (as a regex)."""
    for pattern, value in patterns.items():
        if re.match(rf"(.*\.)?({pattern})$", module):
            return float(value)
    return float(default)


class PeftAdapters:
    """One or more PEFT LoRA adapter directories."""

    format = "peft"

    def __init__(self, path: Path, layout: BackboneLayout, tasks: list[str] | None = None, lora_alpha: float | None = None) -> None:
        self.path, self.layout = Path(path), layout
        self.tasks = list(tasks) if tasks else None
        self.lora_alpha = lora_alpha
        self.skipped: list[str] = []

    def _dirs(self) -> dict[str, Path]:
        if (self.path / CONFIG).is_file():
            if self.tasks and len(self.tasks) == 1:
                return {self.tasks[0]: self.path}  # one adapter, named by the user
            if self.tasks:
                raise LibraryError(f"{self.path} is one adapter but library.import_.tasks names {len(self.tasks)} tasks: "
                                   "give one name for it, or point library.import_.path at a folder of adapters.")
            return {self.path.name: self.path}
        if not self.path.is_dir():
            raise LibraryError(f"library.import_.path={self.path} does not exist (expected a PEFT adapter folder or a folder of them).")
        found = {d.name: d for d in sorted(self.path.iterdir()) if (d / CONFIG).is_file()}
        if not found:
            raise LibraryError(f"{self.path} holds no PEFT adapter (no {CONFIG} in it or in its sub-folders).")
        kept = keep_requested(found, self.tasks, lambda t: f"{self.path} has no adapter folder '{t}' (library.import_.tasks asks for it).")
        self.skipped = [t for t in found if t not in kept]
        return kept

    @staticmethod
    def _weights(directory: Path) -> Path:
        for name in WEIGHTS:
            if (directory / name).is_file():
                return directory / name
        raise LibraryError(f"{directory} has {CONFIG} but no {' or '.join(WEIGHTS)}.")

    def plan(self) -> list[ImportItem]:
        items = []
        for name, directory in self._dirs().items():
            weights = self._weights(directory)
            fp = checkpoint_fingerprint(weights, format=self.format, config=(directory / CONFIG).read_text(), lora_alpha=self.lora_alpha)
            items.append(ImportItem(name, name, weights, fp))
        return items

    @staticmethod
    def _config(directory: Path) -> dict[str, Any]:
        try:
            config = json.loads((directory / CONFIG).read_text())
        except (OSError, ValueError) as err:
            raise LibraryError(f"Cannot parse {directory / CONFIG}: {err}.") from None
        if not isinstance(config, dict):
            raise LibraryError(f"{directory / CONFIG} must hold a JSON object (a PEFT adapter config).")
        check_peft_options(directory, config)
        return config

    def parse(self, item: ImportItem) -> ExpertParts:
        self._config(item.path.parent)
        parts = ExpertParts()
        shapes = self.layout.shapes
        for key, tensor in load_checkpoint(item.path).items():
            match = _KEY.match(key)
            if match is None:
                raise unexpected_key(item.path, key, "PEFT LoRA adapter", EXPECTED)
            module = resolve_module(match["module"], shapes)
            if module is None:
                raise unknown_module(item.path, key, match["module"])
            d_out, d_in = shapes[module]
            parts.keys.setdefault(module, key)
            if match["kind"] == "A":
                check_shape(item.path, key, tensor, (tensor.shape[0], d_in), "r x d_in", module, shapes)
                parts.lora_A[module] = tensor
            else:
                check_shape(item.path, key, tensor, (d_out, tensor.shape[-1]), "d_out x r", module, shapes)
                parts.lora_B[module] = tensor
        return parts

    def load(self, item: ImportItem) -> Expert:
        config = self._config(item.path.parent)
        parts = self.parse(item)
        alpha = float(self.lora_alpha if self.lora_alpha is not None else config.get("lora_alpha", config.get("r", 8)))
        patterns = config.get("alpha_pattern") or {}
        rslora = bool(config.get("use_rslora"))

        def scale_of(module: str, r: int) -> float:
            a = _pattern_value(patterns, module, alpha) if self.lora_alpha is None else alpha
            return a / math.sqrt(r) if rslora else a / r

        return parts.to_expert(item.name, item.task, item.path, scale_of)
