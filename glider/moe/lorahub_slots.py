"""router=lorahub inside the routed model: one composed expert ("slot") per evaluated task.

The routed model is built on :func:`composition_slots`: one zero expert per task, shaped like the
library (every module some expert adapts, the library's largest rank, scale s = the library's
first expert's). :class:`SlotComposer` writes a task's composition into its slot of every MoE
layer, per module (sampled experts i, ranks zero-padded, which leaves B A unchanged):

    A = sum_i w_i A_i,    B = sum_i w_i (s_i / s) B_i

so the layer's usual dispatch computes ``y = W x + b + w_route * s * B A x``: LoRAHub's composed
LoRA through the same application path as every other router (no second one).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from glider.errors import LibraryError
from glider.library.expert import Expert
from glider.moe.layer import MoELoRALinear


def slot_name(task: str) -> str:
    return f"lorahub:{task}"


def library_shapes(library: list[Expert]) -> dict[str, tuple[int, int]]:
    """(d_out, d_in) of every module some expert adapts; experts that disagree are one clear error."""
    shapes: dict[str, tuple[int, int]] = {}
    owner: dict[str, str] = {}
    for expert in library:
        for module, shape in expert.shapes().items():
            if module in shapes and shapes[module] != shape:
                raise LibraryError(
                    f"Experts '{owner[module]}' and '{expert.name}' adapt module '{module}' with different shapes "
                    f"({shapes[module][0]}x{shapes[module][1]} vs {shape[0]}x{shape[1]}): router=lorahub composes "
                    "experts of one backbone only. Remove the expert made for another backbone from the library."
                )
            shapes.setdefault(module, shape)
            owner.setdefault(module, expert.name)
    return shapes


def reference_scale(library: list[Expert]) -> float:
    """s: the LoRA scale of the composed experts (the library's first expert's)."""
    if not library:
        raise LibraryError("router=lorahub needs a library with at least one expert.")
    return library[0].scale


def composition_slots(library: list[Expert], tasks: list[str]) -> list[Expert]:
    """One zero expert per task (named ``lorahub:<task>``), to be filled by :class:`SlotComposer`."""
    shapes = library_shapes(library)
    rank = max(e.rank for e in library) if library else 0
    scale = reference_scale(library)
    zeros_a = {m: torch.zeros(rank, d_in) for m, (_, d_in) in shapes.items()}  # shared: stacking copies them
    zeros_b = {m: torch.zeros(d_out, rank) for m, (d_out, _) in shapes.items()}
    return [Expert(name=slot_name(t), task=t, rank=rank, lora_alpha=scale * rank, lora_A=zeros_a, lora_B=zeros_b) for t in tasks]


class SlotComposer:
    """The sampled experts' factors of every layer, stacked once; ``write`` composes them into a slot."""

    def __init__(self, layers: list[MoELoRALinear], experts: list[Expert], scale: float) -> None:
        if not experts:
            raise LibraryError("router=lorahub: no expert to compose.")
        self.layers = layers
        self.num_experts = len(experts)
        self._stacks: list[tuple[Tensor, Tensor]] = []  # per layer: A [M, R, d_in], scaled B^T [M, R, d_out] (float32)
        for layer in layers:
            _, rank, d_in = layer.experts.lora_A.shape
            d_out = layer.experts.lora_Bt.shape[2]
            device = layer.experts.lora_A.device
            a = torch.zeros(len(experts), rank, d_in, device=device)
            bt = torch.zeros(len(experts), rank, d_out, device=device)
            for i, expert in enumerate(experts):
                if layer.module_name not in expert.lora_A:
                    continue
                r = expert.lora_A[layer.module_name].shape[0]
                a[i, :r] = expert.lora_A[layer.module_name].to(device, torch.float32)
                bt[i, :r] = expert.lora_B[layer.module_name].to(device, torch.float32).T * (expert.scale / scale)
            self._stacks.append((a, bt))

    def compose(self, weights: Sequence[float]) -> list[tuple[Tensor, Tensor]]:
        """Per layer (A [R, d_in], B^T [R, d_out]) = (sum_i w_i A_i, sum_i w_i (s_i / s) B_i^T), float32."""
        if len(weights) != self.num_experts:
            raise ValueError(f"{len(weights)} weights for {self.num_experts} experts")
        out = []
        for a, bt in self._stacks:
            w = torch.as_tensor(list(weights), dtype=torch.float32, device=a.device)
            out.append(((w @ a.flatten(1)).view(a.shape[1:]), (w @ bt.flatten(1)).view(bt.shape[1:])))
        return out

    def write(self, slot: int, weights: Sequence[float]) -> None:
        """Put the composition with ``weights`` into expert ``slot`` of every layer (in place)."""
        for layer, (a, bt) in zip(self.layers, self.compose(weights)):
            layer.experts.lora_A[slot].copy_(a)
            layer.experts.lora_Bt[slot].copy_(bt)
