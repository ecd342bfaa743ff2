"""Released GLIDER experts: one ``{task}_best.pt`` per task (PEFT-style keys, one routing vector, LoRA scale 1/r).

    base_model.model.<module>.lora_A.default.weight   [r, d_in]
    base_model.model.<module>.lora_B.default.weight   [d_out, r]
    base_model.model.<module>.lora_gate.default       [d_in]   the routing vector

``lora_gate`` says what the routing vector is: ``phatgoose`` (hub ``MoE-UNC/p3-lora-checkpoints``,
``MoE-UNC/flan-lora-checkpoints``: the trained Phatgoose gate, layer-normed at routing time) or
``arrow`` (``MoE-UNC/p3-lora-checkpoints-arrow``: the expert's Arrow prototype, used as it is:
the original gathers these with ``norm_router_weight=not arrow_routing``, i.e. no layer norm).

Copies of the backbone's own weights (``base_model.model.shared.weight``, ``...q.base_layer.weight``)
are recognised and skipped; any other key is an error. The original names an expert after
the file's first ``_``-separated part and loads the files in sorted order; here the name is
everything before ``_best.pt`` and the order is ``tasks`` (the setting's expert list).
"""

from __future__ import annotations

import re
from pathlib import Path

from glider.errors import LibraryError
from glider.library.convert.common import (
    BackboneLayout,
    ExpertParts,
    backbone_weight,
    check_shape,
    checkpoint_fingerprint,
    keep_requested,
    load_checkpoint,
    resolve_module,
    unexpected_key,
    unknown_module,
)
from glider.library.convert.plan import ImportItem
from glider.library.expert import Expert

SUFFIX = "_best.pt"
LORA_GATE_KINDS = ("phatgoose", "arrow")
_LORA = re.compile(r"^(?P<module>.+)\.lora_(?P<kind>A|B)(?:\.default)?\.weight$")
_GATE = re.compile(r"^(?P<module>.+)\.lora_gate(?:\.default)?$")
EXPECTED = "'<module>.lora_A|lora_B.default.weight' or '<module>.lora_gate.default'"


class GliderCheckpoints:
    """A folder of ``{task}_best.pt`` files (or one such file)."""

    format = "glider"

    def __init__(self, path: Path, layout: BackboneLayout, tasks: list[str] | None = None, lora_alpha: float | None = None,
                 lora_gate: str = "phatgoose") -> None:
        if lora_gate not in LORA_GATE_KINDS:
            raise LibraryError(f"library.import_.lora_gate must be one of {', '.join(LORA_GATE_KINDS)}, got '{lora_gate}'.")
        self.path, self.layout = Path(path), layout
        self.tasks = list(tasks) if tasks else None
        self.lora_alpha = 1.0 if lora_alpha is None else float(lora_alpha)
        self.lora_gate = lora_gate
        self.skipped: list[str] = []  # files in the folder that the task list leaves out

    def _files(self) -> dict[str, Path]:
        if self.path.is_file():
            files = [self.path]
        elif self.path.is_dir():
            files = sorted(self.path.glob(f"*{SUFFIX}"))
        else:
            raise LibraryError(f"library.import_.path={self.path} does not exist (expected a folder of {{task}}{SUFFIX} files). For "
                               "the paper's settings clone the released experts into paths.released_dir (docs/paper-parity.md).")
        found = {f.name[: -len(SUFFIX)] if f.name.endswith(SUFFIX) else f.stem: f for f in files}
        if not found:
            raise LibraryError(f"{self.path} has no {{task}}{SUFFIX} files (released GLIDER experts).")
        kept = keep_requested(found, self.tasks, lambda t: f"{self.path} has no {t}{SUFFIX} (library.import_.tasks asks for it).")
        self.skipped = [t for t in found if t not in kept]
        return kept

    def plan(self) -> list[ImportItem]:
        return [ImportItem(task, task, f, checkpoint_fingerprint(f, format=self.format, lora_alpha=self.lora_alpha, lora_gate=self.lora_gate))
                for task, f in self._files().items()]

    def parse(self, item: ImportItem) -> ExpertParts:
        """The expert's tensors by module, every key and shape checked (tensors stay memory-mapped)."""
        parts = ExpertParts()
        shapes = self.layout.shapes
        for key, tensor in load_checkpoint(item.path).items():
            lora, gate = _LORA.match(key), _GATE.match(key)
            match = lora or gate
            if match is None:
                if backbone_weight(key, self.layout):
                    continue  # a copy of the backbone's own weight
                raise unexpected_key(item.path, key, "released GLIDER expert", EXPECTED)
            module = resolve_module(match["module"], shapes)
            if module is None:
                raise unknown_module(item.path, key, match["module"])
            d_out, d_in = shapes[module]
            parts.keys.setdefault(module, key)
            if gate:
                vector = tensor.reshape(-1) if tensor.dim() == 2 and tensor.shape[0] == 1 else tensor
                check_shape(item.path, key, vector, (d_in,), "d_in", module, shapes)
                (parts.prototypes if self.lora_gate == "arrow" else parts.gates)[module] = vector
            elif lora["kind"] == "A":
                check_shape(item.path, key, tensor, (tensor.shape[0], d_in), "r x d_in", module, shapes)
                parts.lora_A[module] = tensor
            else:
                check_shape(item.path, key, tensor, (d_out, tensor.shape[-1]), "d_out x r", module, shapes)
                parts.lora_B[module] = tensor
        return parts

    def load(self, item: ImportItem) -> Expert:
        alpha = self.lora_alpha
        return self.parse(item).to_expert(item.name, item.task, item.path, lambda module, r: alpha / r)
