"""Routing statistics: average routing weight per (task, module, expert) over real tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from glider.moe.native_kernel import native_kernel


@dataclass
class RoutingStats:
    """Accumulates sum_t w_{t,i} and token counts per task for every routed module."""

    task_names: list[str]
    num_experts: int
    weight_sums: dict[str, Tensor] = field(default_factory=dict)  # module -> [num_tasks, N]
    token_counts: dict[str, Tensor] = field(default_factory=dict)  # module -> [num_tasks]

    def record(self, module: str, expert_idx: Tensor, weights: Tensor, token_task: Tensor, mask: Tensor | None) -> None:
        """expert_idx, weights: [T, k]; token_task: [T] task index per token; mask: [T] bool or None.

        Adds every (token, slot) weight straight into its (task, expert) cell: no [T, N] tensor.
        On CPU one native call does it (``native/routing_stats.c``), else a few ATen ops.
        """
        sums, counts = self.buffers(module)
        if self._record_native(expert_idx, weights, token_task, mask, sums, counts):
            return
        expert_idx, weights, token_task = expert_idx.cpu(), weights.detach().float().cpu(), token_task.cpu()
        if mask is not None:
            mask = mask.cpu()
            expert_idx, weights, token_task = expert_idx[mask], weights[mask], token_task[mask]
        cell = token_task.unsqueeze(1) * self.num_experts + expert_idx  # [T', k] flat (task, expert)
        sums.view(-1).index_add_(0, cell.reshape(-1), weights.reshape(-1))
        counts.index_add_(0, token_task, torch.ones(token_task.shape[0]))

    def buffers(self, module: str) -> tuple[Tensor, Tensor]:
        """This module's accumulators: (weight sums [tasks, N], token counts [tasks]), float32."""
        if module not in self.weight_sums:
            self.weight_sums[module] = torch.zeros(len(self.task_names), self.num_experts)
            self.token_counts[module] = torch.zeros(len(self.task_names))
        return self.weight_sums[module], self.token_counts[module]

    def _record_native(
        self, expert_idx: Tensor, weights: Tensor, token_task: Tensor, mask: Tensor | None, sums: Tensor, counts: Tensor
    ) -> bool:
        """The same additions in one C call; False (nothing added) where it cannot run."""
        tensors = (expert_idx, weights, token_task) + ((mask,) if mask is not None else ())
        if any(t.device.type != "cpu" for t in tensors):
            return False
        lib = native_kernel()
        if lib is None:
            return False
        expert_idx = expert_idx.to(torch.int64).contiguous()
        weights = weights.detach().to(torch.float32).contiguous()
        token_task = token_task.to(torch.int64).contiguous()
        mask = mask.to(torch.bool).contiguous() if mask is not None else None
        n_tokens, k = expert_idx.shape
        status = lib.routing_stats_f32(
            expert_idx.data_ptr(), weights.data_ptr(), token_task.data_ptr(), mask.data_ptr() if mask is not None else None,
            n_tokens, k, self.num_experts, len(self.task_names), sums.data_ptr(), counts.data_ptr(), 1.0,
        )
        if status:
            raise ValueError(
                f"routing statistics of {n_tokens} tokens hold an expert id outside 0..{self.num_experts - 1} "
                f"or a task id outside 0..{len(self.task_names) - 1}"
            )
        return True

    def mean_weights(self, task: str) -> tuple[list[str], Tensor]:
        """(module names, [modules, N] average routing weight per expert) for one task."""
        t = self.task_names.index(task)
        modules = [m for m in self.weight_sums if self.token_counts[m][t] > 0]
        if not modules:
            return [], torch.zeros(0, self.num_experts)
        rows = [self.weight_sums[m][t] / self.token_counts[m][t] for m in modules]
        return modules, torch.stack(rows)

    def merge_(self, other: "RoutingStats") -> None:
        """Add another process's statistics into this one."""
        for module, sums in other.weight_sums.items():
            self.weight_sums.setdefault(module, torch.zeros_like(sums)).add_(sums)
            self.token_counts.setdefault(module, torch.zeros_like(other.token_counts[module])).add_(
                other.token_counts[module]
            )
