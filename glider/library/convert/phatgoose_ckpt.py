"""Released Phatgoose checkpoints: all experts concatenated in one state dict (LoRA scale 1/r).

    <module>._addons.expert_lora.layer1__{i}            [d_in, r]   (A transposed)
    <module>._addons.expert_lora.layer2__{i}            [r, d_out]  (B transposed)
    <module>._addons.router.expert_embeddings__{i}      [d_in]      (the Phatgoose gate)

Expert ``i`` is the i-th task of the list the user gives (``library.import_.tasks`` or
``tasks_file``); the list must name exactly as many tasks as the file has experts.
"""

from __future__ import annotations

import re
from pathlib import Path

from torch import Tensor

from glider.errors import LibraryError
from glider.library.convert.common import ExpertParts, Shapes, check_shape, checkpoint_fingerprint, load_checkpoint, resolve_module, unknown_module
from glider.library.convert.plan import ImportItem
from glider.library.expert import Expert

_KEY = re.compile(r"^(?P<module>.+)\._addons\.(?:expert_lora\.(?P<layer>layer[12])|router\.(?P<gate>expert_embeddings))__(?P<i>\d+)$")


class PhatgooseCheckpoint:
    """One concatenated checkpoint file; experts are read from it in one pass."""

    format = "phatgoose"

    def __init__(self, path: Path, shapes: Shapes, tasks: list[str] | None = None, lora_alpha: float | None = None) -> None:
        self.path, self.shapes = Path(path), shapes
        if not tasks:
            raise LibraryError(
                "A Phatgoose checkpoint holds its experts by position only: give their tasks in order with "
                "library.import_.tasks=[...] or library.import_.tasks_file=<json keys / one per line>."
            )
        if len(set(tasks)) != len(tasks):
            raise LibraryError(f"library.import_.tasks repeats a task name: {sorted(t for t in set(tasks) if list(tasks).count(t) > 1)}.")
        self.tasks = list(tasks)
        self.lora_alpha = 1.0 if lora_alpha is None else float(lora_alpha)
        self._experts: list[ExpertParts] | None = None

    def plan(self) -> list[ImportItem]:
        if not self.path.is_file():
            raise LibraryError(f"library.import_.path={self.path} is not a file (a Phatgoose checkpoint).")
        return [ImportItem(task, task, self.path, checkpoint_fingerprint(self.path, format=self.format, index=i, task=task,
                                                                         lora_alpha=self.lora_alpha), index=i)
                for i, task in enumerate(self.tasks)]

    def _read(self) -> list[ExpertParts]:
        state = load_checkpoint(self.path)
        count = 1 + max((int(m["i"]) for k in state if (m := _KEY.match(k))), default=-1)
        if count == 0:
            raise LibraryError(f"{self.path} has no '<module>._addons.expert_lora.layer1__<i>' keys: it is not a Phatgoose checkpoint.")
        if count != len(self.tasks):
            raise LibraryError(f"{self.path} holds {count} experts but library.import_.tasks names {len(self.tasks)}: give one task per expert, in order.")
        experts = [ExpertParts() for _ in range(count)]
        for key, tensor in state.items():
            match = _KEY.match(key)
            if match is None:
                continue
            module = resolve_module(match["module"], self.shapes)
            if module is None:
                raise unknown_module(self.path, key, match["module"])
            self._add(experts[int(match["i"])], key, module, match["layer"] or "gate", tensor)
        return experts

    def _add(self, parts: ExpertParts, key: str, module: str, kind: str, tensor: Tensor) -> None:
        d_out, d_in = self.shapes[module]
        parts.keys.setdefault(module, key)
        if kind == "gate":
            check_shape(self.path, key, tensor, (d_in,), "d_in", module, self.shapes)
            parts.gates[module] = tensor
        elif kind == "layer1":
            check_shape(self.path, key, tensor, (d_in, tensor.shape[-1]), "d_in x r", module, self.shapes)
            parts.lora_A[module] = tensor.t().contiguous()
        else:
            check_shape(self.path, key, tensor, (tensor.shape[0], d_out), "r x d_out", module, self.shapes)
            parts.lora_B[module] = tensor.t().contiguous()

    def load(self, item: ImportItem) -> Expert:
        if self._experts is None:
            self._experts = self._read()
        alpha = self.lora_alpha
        return self._experts[item.index].to_expert(item.name, item.task, item.path, lambda module, r: alpha / r)
