"""Stack a list of experts module by module (experts stored once, as [N, ...] tensors)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from glider.errors import LibraryError
from glider.library.expert import Expert


@dataclass
class ModuleStack:
    """All experts of one module. Ranks are zero-padded to the largest (the math is unchanged)."""

    lora_A: Tensor  # [N, r, d_in] contiguous
    lora_B: Tensor  # [N, d_out, r], a transposed view of a contiguous [N, r, d_out] (the dispatch's layout)
    scale: Tensor  # [N]
    keys: dict[str, Tensor] = field(default_factory=dict)  # "gate" / "arrow": [N, d_in]


def check_fits(expert: Expert, module_shapes: dict[str, tuple[int, int]]) -> None:
    """Raise one clear error naming the first module (in backbone order) that does not fit."""
    shapes = expert.shapes()
    for module, want in module_shapes.items():
        if module in shapes and shapes[module] != want:
            a, b = expert.lora_A[module], expert.lora_B[module]
            d_out, d_in = shapes[module]
            raise LibraryError(
                f"Expert '{expert.name}' does not fit the backbone: module '{module}' has lora_A "
                f"{tuple(a.shape)} and lora_B {tuple(b.shape)}, i.e. {d_out}x{d_in}, but the backbone's layer "
                f"is {want[0]}x{want[1]}. Use the backbone the expert was trained on (model=...)."
            )
    for module in shapes:
        if module not in module_shapes:
            raise LibraryError(
                f"Expert '{expert.name}' adapts module '{module}', which the backbone does not have "
                f"(or is not targeted). It was made for another backbone; use the matching model= or re-import it."
            )


def stack_experts(experts: list[Expert], module_shapes: dict[str, tuple[int, int]], key_names: list[str]) -> dict[str, ModuleStack]:
    """Per adapted module: stacked A, B, scale and the routing keys the router needs.

    A module that some expert does not adapt gets zero LoRA weights for it.
    """
    for expert in experts:
        check_fits(expert, module_shapes)
    modules = [m for m in module_shapes if any(m in e.lora_A for e in experts)]
    rank = max((e.rank for e in experts), default=0)
    stacks: dict[str, ModuleStack] = {}
    for module in modules:
        d_out, d_in = module_shapes[module]
        lora_A = torch.zeros(len(experts), rank, d_in)
        lora_Bt = torch.zeros(len(experts), rank, d_out)  # stored once, as the MoE layer keeps it
        for i, expert in enumerate(experts):
            if module in expert.lora_A:
                r = expert.lora_A[module].shape[0]
                lora_A[i, :r] = expert.lora_A[module]
                lora_Bt[i, :r] = expert.lora_B[module].T
        lora_B = lora_Bt.transpose(1, 2)  # [N, d_out, r] view
        keys = {}
        for key_name in key_names:
            keys[key_name] = torch.stack([_routing_key(e, key_name, module, d_in) for e in experts])
        scale = torch.tensor([e.scale for e in experts], dtype=torch.float32)
        stacks[module] = ModuleStack(lora_A, lora_B, scale, keys)
    return stacks


def _routing_key(expert: Expert, key_name: str, module: str, d_in: int) -> Tensor:
    source = {"gate": expert.gates, "arrow": expert.prototypes}[key_name]
    if module in source:
        return source[module]
    if module not in expert.lora_A:
        return torch.zeros(d_in)
    stage = {"gate": "gates", "arrow": "prototypes"}[key_name]
    raise LibraryError(
        f"Expert '{expert.name}' has no {key_name} vector for module '{module}': run the `{stage}` stage "
        f"(stage={stage}) for this library before using this router."
    )
