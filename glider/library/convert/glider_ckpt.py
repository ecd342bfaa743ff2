"""Released GLIDER experts: one ``{task}_best.pt`` per task (PEFT-style keys, Phatgoose gate, LoRA scale 1/r).

    base_model.model.<module>.lora_A.default.weight   [r, d_in]
    base_model.model.<module>.lora_B.default.weight   [d_out, r]
    base_model.model.<module>.lora_gate.default       [d_in]   (the trained Phatgoose gate)

Other keys (copies of the backbone's own weights) are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

from glider.errors import LibraryError
from glider.library.convert.common import (
    ExpertParts,
    Shapes,
    check_shape,
    checkpoint_fingerprint,
    keep_requested,
    load_checkpoint,
    resolve_module,
    unknown_module,
)
from glider.library.convert.plan import ImportItem
from glider.library.expert import Expert

SUFFIX = "_best.pt"
_LORA = re.compile(r"^(?P<module>.+)\.lora_(?P<kind>A|B)(?:\.default)?\.weight$")
_GATE = re.compile(r"^(?P<module>.+)\.lora_gate(?:\.default)?$")


class GliderCheckpoints:
    """A folder of ``{task}_best.pt`` files (or one such file)."""

    format = "glider"

    def __init__(self, path: Path, shapes: Shapes, tasks: list[str] | None = None, lora_alpha: float | None = None) -> None:
        self.path, self.shapes = Path(path), shapes
        self.tasks = list(tasks) if tasks else None
        self.lora_alpha = 1.0 if lora_alpha is None else float(lora_alpha)

    def _files(self) -> dict[str, Path]:
        if self.path.is_file():
            files = [self.path]
        elif self.path.is_dir():
            files = sorted(self.path.glob(f"*{SUFFIX}"))
        else:
            raise LibraryError(f"library.import_.path={self.path} does not exist (expected a folder of {{task}}{SUFFIX} files).")
        found = {f.name[: -len(SUFFIX)] if f.name.endswith(SUFFIX) else f.stem: f for f in files}
        if not found:
            raise LibraryError(f"{self.path} has no {{task}}{SUFFIX} files (released GLIDER experts).")
        return keep_requested(found, self.tasks, lambda t: f"{self.path} has no {t}{SUFFIX} (library.import_.tasks asks for it).")

    def plan(self) -> list[ImportItem]:
        return [ImportItem(task, task, f, checkpoint_fingerprint(f, format=self.format, lora_alpha=self.lora_alpha))
                for task, f in self._files().items()]

    def load(self, item: ImportItem) -> Expert:
        parts = ExpertParts()
        for key, tensor in load_checkpoint(item.path).items():
            lora, gate = _LORA.match(key), _GATE.match(key)
            match = lora or gate
            if match is None:
                continue
            module = resolve_module(match["module"], self.shapes)
            if module is None:
                raise unknown_module(item.path, key, match["module"])
            d_out, d_in = self.shapes[module]
            parts.keys.setdefault(module, key)
            if gate:
                check_shape(item.path, key, tensor.reshape(-1) if tensor.dim() == 2 and tensor.shape[0] == 1 else tensor, (d_in,), "d_in", module, self.shapes)
                parts.gates[module] = tensor
            elif lora["kind"] == "A":
                check_shape(item.path, key, tensor, (tensor.shape[0], d_in), "r x d_in", module, self.shapes)
                parts.lora_A[module] = tensor
            else:
                check_shape(item.path, key, tensor, (d_out, tensor.shape[-1]), "d_out x r", module, self.shapes)
                parts.lora_B[module] = tensor
        alpha = self.lora_alpha
        return parts.to_expert(item.name, item.task, item.path, lambda module, r: alpha / r)
