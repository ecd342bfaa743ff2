"""Routing statistics: average routing weight per (task, module, expert) over real tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor


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
        """
        expert_idx, weights, token_task = expert_idx.cpu(), weights.detach().float().cpu(), token_task.cpu()
        if mask is not None:
            mask = mask.cpu()
            expert_idx, weights, token_task = expert_idx[mask], weights[mask], token_task[mask]
        n_tasks = len(self.task_names)
        sums = self.weight_sums.setdefault(module, torch.zeros(n_tasks, self.num_experts))
        counts = self.token_counts.setdefault(module, torch.zeros(n_tasks))
        cell = token_task.unsqueeze(1) * self.num_experts + expert_idx  # [T', k] flat (task, expert)
        sums.view(-1).index_add_(0, cell.reshape(-1), weights.reshape(-1))
        counts.index_add_(0, token_task, torch.ones(token_task.shape[0]))

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
