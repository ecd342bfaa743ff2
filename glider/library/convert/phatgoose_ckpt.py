"""Released Phatgoose checkpoints: experts concatenated in one state dict (``best.pt``; LoRA scale 1/r).

    <module>._addons.expert_lora.layer1__{i}            [d_in, r]   (A transposed)
    <module>._addons.expert_lora.layer2__{i}            [r, d_out]  (B transposed)
    <module>._addons.router.expert_embeddings__{i}      [d_in]      (the Phatgoose gate; optional)

Expert ``i`` is the i-th task of the list the user gives (``library.import_.tasks`` or
``tasks_file``); the list must name exactly as many tasks as the file has experts.
Phatgoose's ``FFNExperts`` divides the LoRA output by ``d_bottleneck`` (= r): scale 1/r.

The merged-experts baseline (Phatgoose's ``*_MergedExperts/best.pt``, mirrored in the hub repo
``MoE-UNC/phatgoose-checkpoints``) has this layout with a single expert ``__0``: import it with
one task name (e.g. ``tasks=[merged_experts]``) and evaluate it with ``router=merged``.

``path`` is the file, or a folder holding ``best.pt`` (as released). Copies of the backbone's
own weights are skipped; any other key is an error.
"""

from __future__ import annotations

import re
from pathlib import Path

from torch import Tensor

from glider.errors import LibraryError
from glider.library.convert.common import (
    BackboneLayout,
    ExpertParts,
    backbone_weight,
    check_shape,
    checkpoint_fingerprint,
    load_checkpoint,
    resolve_module,
    unexpected_key,
    unknown_module,
)
from glider.library.convert.plan import ImportItem
from glider.library.expert import Expert

FILE_NAME = "best.pt"
_KEY = re.compile(r"^(?P<module>.+)\._addons\.(?:expert_lora\.(?P<layer>layer[12])|router\.(?P<gate>expert_embeddings))__(?P<i>\d+)$")
EXPECTED = "'<module>._addons.expert_lora.layer1__<i>' / 'layer2__<i>' or '<module>._addons.router.expert_embeddings__<i>'"


def locate(path: Path) -> Path:
    """The checkpoint file: ``path``, or ``path/best.pt`` for a released folder."""
    if path.is_dir():
        if (path / FILE_NAME).is_file():
            return path / FILE_NAME
        raise LibraryError(f"library.import_.path={path} is a folder without {FILE_NAME}: point it at a Phatgoose checkpoint "
                           f"file or at the released folder that holds {FILE_NAME}.")
    if not path.is_file():
        raise LibraryError(f"library.import_.path={path} does not exist (a Phatgoose checkpoint file or a folder with {FILE_NAME}). "
                           "For the paper's merged experts clone MoE-UNC/phatgoose-checkpoints into paths.released_dir (docs/paper-parity.md).")
    return path


class PhatgooseCheckpoint:
    """One concatenated checkpoint file; experts are read from it in one pass."""

    format = "phatgoose"

    def __init__(self, path: Path, layout: BackboneLayout, tasks: list[str] | None = None, lora_alpha: float | None = None) -> None:
        self.path, self.layout = Path(path), layout
        if not tasks:
            raise LibraryError(
                "A Phatgoose checkpoint holds its experts by position only: give their tasks in order with "
                "library.import_.tasks=[...] or library.import_.tasks_file=<json keys / one per line> "
                "(a merged-experts checkpoint: one name, e.g. library.import_.tasks=[merged_experts])."
            )
        if len(set(tasks)) != len(tasks):
            raise LibraryError(f"library.import_.tasks repeats a task name: {sorted(t for t in set(tasks) if list(tasks).count(t) > 1)}.")
        self.tasks = list(tasks)
        self.lora_alpha = 1.0 if lora_alpha is None else float(lora_alpha)
        self.skipped: list[str] = []
        self._experts: list[ExpertParts] | None = None

    def plan(self) -> list[ImportItem]:
        file = locate(self.path)
        return [ImportItem(task, task, file, checkpoint_fingerprint(file, format=self.format, index=i, task=task,
                                                                    lora_alpha=self.lora_alpha), index=i)
                for i, task in enumerate(self.tasks)]

    def _read(self) -> list[ExpertParts]:
        file = locate(self.path)
        state = load_checkpoint(file)
        count = 1 + max((int(m["i"]) for k in state if (m := _KEY.match(k)) and m["layer"]), default=-1)
        if count == 0:
            raise LibraryError(f"{file} has no '<module>._addons.expert_lora.layer1__<i>' keys: it is not a Phatgoose checkpoint.")
        if count != len(self.tasks):
            raise LibraryError(f"{file} holds {count} experts but library.import_.tasks names {len(self.tasks)}: give one task per expert, in order.")
        experts = [ExpertParts() for _ in range(count)]
        for key, tensor in state.items():
            match = _KEY.match(key)
            if match is None:
                if backbone_weight(key, self.layout):
                    continue
                raise unexpected_key(file, key, "Phatgoose checkpoint", EXPECTED)
            module = resolve_module(match["module"], self.layout.shapes)
            if module is None:
                raise unknown_module(file, key, match["module"])
            if int(match["i"]) >= count:
                raise LibraryError(f"{file}: key '{key}' belongs to expert {match['i']}, but the file has LoRA weights for {count} experts.")
            self._add(file, experts[int(match["i"])], key, module, match["layer"] or "gate", tensor)
        return experts

    def _add(self, file: Path, parts: ExpertParts, key: str, module: str, kind: str, tensor: Tensor) -> None:
        shapes = self.layout.shapes
        d_out, d_in = shapes[module]
        parts.keys.setdefault(module, key)
        if kind == "gate":
            check_shape(file, key, tensor, (d_in,), "d_in", module, shapes)
            parts.gates[module] = tensor
        elif kind == "layer1":
            check_shape(file, key, tensor, (d_in, tensor.shape[-1]), "d_in x r", module, shapes)
            parts.lora_A[module] = tensor.t()
        else:
            check_shape(file, key, tensor, (tensor.shape[0], d_out), "r x d_out", module, shapes)
            parts.lora_B[module] = tensor.t()

    def parse(self, item: ImportItem) -> ExpertParts:
        if self._experts is None:
            self._experts = self._read()
        return self._experts[item.index]

    def load(self, item: ImportItem) -> Expert:
        alpha = self.lora_alpha
        return self.parse(item).to_expert(item.name, item.task, item.path, lambda module, r: alpha / r)
