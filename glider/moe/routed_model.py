"""A backbone with injected MoE-LoRA layers and the per-batch routing context."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import Tensor, nn

from glider.library.expert import Expert
from glider.library.stack import ModuleStack, stack_experts
from glider.moe.context import RoutingContext
from glider.moe.inject import inject_moe, module_shapes
from glider.moe.stats import RoutingStats
from glider.routers.base import ExpertSide, QueryBatch
from glider.routers.router import Router


class RoutedSeq2Seq(nn.Module):
    """Wraps a seq2seq backbone; every targeted linear becomes a routed MoE-LoRA layer.

    Use ``with routed.batch(queries, ...):`` around each forward/generate so that every
    layer routes each example of the batch by that example's own global scores.
    """

    def __init__(self, model: nn.Module, router: Router, experts: list[Expert], expert_side: ExpertSide | None = None, targets: list[str] | None = None) -> None:
        super().__init__()
        self.model = model
        self.router = router
        self.context = RoutingContext()
        self.expert_names = [e.name for e in experts]
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.layers: list[nn.Module] = []  # MoELoRALinear (MergedLoRALinear for router.mode=merged)
        if router.uses_experts and experts:
            shapes = module_shapes(model, targets) if targets else module_shapes(model)
            stacks = stack_experts(experts, shapes, router.key_names() if router.needs_local else [])
            self.layers = inject_moe(model, stacks, router, self.context)
        if expert_side is None:
            expert_side = ExpertSide(names=[e.name for e in experts], tasks=[e.task for e in experts])
        self.expert_side = expert_side
        self.example_alpha: Tensor | None = None  # alpha_b of the current batch (set by ``batch``)
        self.example_top_expert: Tensor | None = None  # argmax_i of the global bias per example (set by ``batch``)
        if router.uses_experts and router.mode == "routed":
            router.bind(expert_side)

    @classmethod
    def from_stacks(cls, model: nn.Module, router: Router, stacks: dict[str, ModuleStack], expert_side: ExpertSide) -> "RoutedSeq2Seq":
        """The same over experts already stacked per module (``stack_experts``' output, e.g. random ones on a GPU)."""
        routed = cls(model, router, [], expert_side)
        routed.expert_names = list(expert_side.names)
        if router.uses_experts:
            routed.layers = inject_moe(model, stacks, router, routed.context)
        return routed

    @property
    def num_experts(self) -> int:
        return len(self.expert_names)

    @contextlib.contextmanager
    def batch(self, queries: QueryBatch | None, batch_size: int, masks: list[Tensor] | None = None, task_ids: Tensor | None = None,
              stats: RoutingStats | None = None, global_bias: Tensor | None = None) -> Iterator[Tensor | None]:
        """Route the next forward passes by these examples' global scores; yields the bias [B, N].

        ``global_bias`` [B, N] replaces the router's alpha_b * c_b (alpha=auto's probe runs:
        a fixed alpha, an expert removed with -inf).
        """
        bias, self.example_alpha, self.example_top_expert = None, None, None
        if global_bias is not None:
            bias = global_bias
            self.example_top_expert = unique_argmax(bias)
        elif self.router.mode == "routed" and self.router.global_scorer_names() and queries is not None:
            bias, self.example_alpha = self.router.global_bias_and_alpha(queries)  # [B, N], [B]
            self.example_top_expert = unique_argmax(bias)
        candidates = None
        if bias is not None and self.router.candidates is not None and self.router.candidates < self.num_experts:
            candidates = bias.topk(self.router.candidates, dim=-1).indices  # [B, M]
        self.context.stats = stats
        with self.context.batch(batch_size, bias=bias, candidates=candidates, task_ids=task_ids, masks=masks):
            yield bias

    def forward(self, *args, **kwargs):
        return self.model(*args, **kwargs)

    @torch.no_grad()
    def generate(self, *args, **kwargs):
        return self.model.generate(*args, **kwargs)


def unique_argmax(scores: Tensor) -> Tensor:
    """[B, N] -> [B]: the index of each row's largest score, or -1 where several experts share it (e.g. uniform)."""
    if scores.shape[-1] < 2:
        return torch.zeros(scores.shape[0], dtype=torch.long, device=scores.device)
    top = scores.topk(2, dim=-1)
    unique = top.values[:, 0] > top.values[:, 1]
    return torch.where(unique, top.indices[:, 0], torch.full_like(top.indices[:, 0], -1))
