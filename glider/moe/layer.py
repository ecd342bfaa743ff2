"""MoE-LoRA linear layer: a frozen linear plus N LoRA experts, routed per token.

    y = W x + b + sum_{j} w_j * s_e * B_e A_e x,     (e, w) = route(x, context)

The layer calls the module's router (``route(x, context) -> indices, weights``) and its
expert bank (``bank(x, indices, weights, out)``), records the routing statistics, and does
nothing else. Padding tokens (the batch's registered token mask) get no expert: their rows
keep ``W x + b``, which attention masks and scoring skip. When every example's rows are
identical copies (rank classification's cross-attention keys and values see the encoder
output once per answer choice), the first copy is routed and its delta added to every copy.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from glider.moe.bank import ExpertBank
from glider.moe.context import RoutingContext, Tokens
from glider.moe.wrapped_linear import WrapsFrozenLinear
from glider.routers.router import ModuleRouter


class MoELoRALinear(WrapsFrozenLinear):
    """A frozen ``nn.Linear`` with a routed bank of LoRA experts."""

    def __init__(self, base: nn.Linear, module_name: str, experts: ExpertBank, router: ModuleRouter, context: RoutingContext) -> None:
        super().__init__()
        if experts.lora_A.shape[2] != base.in_features or experts.lora_Bt.shape[2] != base.out_features:
            raise ValueError(
                f"{module_name}: experts A {tuple(experts.lora_A.shape)} / B^T {tuple(experts.lora_Bt.shape)} do not fit "
                f"the linear layer ({base.out_features} x {base.in_features})"
            )
        self.base = base
        self.module_name = module_name
        self.experts = experts.to(base.weight.device, base.weight.dtype)
        self.router = router.to(base.weight.device)
        self.context = context

    def extra_repr(self) -> str:
        return self.module_name

    def forward(self, x: Tensor) -> Tensor:
        y = self.base(x)
        rows, seq = x.shape[0], (x.shape[1] if x.dim() == 3 else 1)
        flat, out = x.reshape(-1, x.shape[-1]), y.view(-1, y.shape[-1])  # [T, d_in], [T, d_out]
        copies = self.context.identical_copies(flat, rows)
        if copies == 1:
            self._add_experts(flat, out, self.context.tokens(rows, seq), 1.0)
            return y
        first = flat.view(self.context.batch_size, copies, -1)[:, 0].reshape(-1, flat.shape[-1])  # [B*seq, d_in]
        delta = self._add_experts(first, out.new_zeros(first.shape[0], out.shape[-1]), self.context.tokens(rows, seq, copies), copies)
        y.view(self.context.batch_size, copies, -1).add_(delta.view(self.context.batch_size, 1, -1))
        return y

    def _add_experts(self, flat: Tensor, out: Tensor, tokens: Tokens, repeat: float) -> Tensor:
        """Route ``flat``, record the statistics, add the selected experts into ``out``."""
        indices, weights = self.router.route(flat, self.context)  # [T, k]
        stats = self.context.stats
        if stats is not None and tokens.tasks is not None:
            stats.record(self.module_name, indices, weights, tokens.tasks, tokens.mask, repeat)
        if tokens.mask is not None:  # padding tokens get no expert (nothing downstream reads their rows)
            indices = indices.masked_fill(~tokens.mask.to(indices.device)[:, None], -1)
        return self.experts(flat, indices, weights, out)


class MergedLoRALinear(WrapsFrozenLinear):
    """A frozen linear plus one precomputed delta: ``y = W x + b + delta x`` (merged experts)."""

    def __init__(self, base: nn.Linear, delta: Tensor) -> None:
        super().__init__()
        self.base = base
        self.register_buffer("delta", delta.to(base.weight.device, base.weight.dtype), persistent=False)  # [d_out, d_in]

    def forward(self, x: Tensor) -> Tensor:
        return self.base(x) + torch.nn.functional.linear(x, self.delta)
