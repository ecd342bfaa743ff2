"""Phatgoose gate training layer: one frozen LoRA expert whose branch is gated per token.

    y = W x + b + sigmoid(x . g) * s * B A x

``g`` (init 0) is the only trainable parameter. After training the sigmoid is dropped and
``g`` becomes the expert's routing key for this module (see routers/phatgoose.py).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from glider.moe.inject import target_linear_modules
from glider.moe.wrapped_linear import WrapsFrozenLinear


class GatedLoRALinear(WrapsFrozenLinear):
    """A frozen linear plus one frozen LoRA scaled by a trainable per-token sigmoid gate."""

    def __init__(self, base: nn.Linear, lora_A: Tensor, lora_B: Tensor, scale: float) -> None:
        super().__init__()
        self.base = base
        self.register_buffer("lora_A", lora_A.to(base.weight.dtype), persistent=False)  # [r, d_in]
        self.register_buffer("lora_B", lora_B.to(base.weight.dtype), persistent=False)  # [d_out, r]
        self.scale = scale
        self.gate = nn.Parameter(torch.zeros(base.in_features, dtype=base.weight.dtype))  # [d_in]

    def forward(self, x: Tensor) -> Tensor:
        gate = torch.sigmoid(x @ self.gate).unsqueeze(-1)  # [..., 1]
        return self.base(x) + gate * self.scale * ((x @ self.lora_A.T) @ self.lora_B.T)


def inject_gated_expert(model: nn.Module, lora_A: dict[str, Tensor], lora_B: dict[str, Tensor], scale: float) -> dict[str, GatedLoRALinear]:
    """Freeze ``model`` and wrap every module the expert adapts in a GatedLoRALinear."""
    for p in model.parameters():
        p.requires_grad_(False)
    linears = target_linear_modules(model, tuple({m.rsplit(".", 1)[-1] for m in lora_A}))
    layers = {}
    for name, base in linears.items():
        if name not in lora_A:
            continue
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        layer = GatedLoRALinear(base, lora_A[name], lora_B[name], scale)
        setattr(parent, child, layer)
        layers[name] = layer
    return layers
