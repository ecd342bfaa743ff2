"""Routing statistics: average routing weight per (task, module, expert) over real tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor


@dataclass
class RoutingStats:
    """Accumulates sum_t w_{t,i} and token counts per task for every routed module (float32, on CPU)."""

    task_names: list[str]
    num_experts: int
    weight_sums: dict[str, Tensor] = field(default_factory=dict)  # module -> [num_tasks, N]
    token_counts: dict[str, Tensor] = field(default_factory=dict)  # module -> [num_tasks]

    def record(self, module: str, indices: Tensor, weights: Tensor, token_task: Tensor, mask: Tensor | None,
               repeat: float = 1.0) -> None:
        """indices, weights: [T, k]; token_task: [T] task of each token; mask: [T] bool of real tokens or None.

        Adds every (token, slot) weight straight into its (task, expert) cell (no [T, N] tensor);
        ``repeat``: each token stands for this many identical ones (routed once).
        """
        sums, counts = self._buffers(module)
        indices, weights, token_task = indices.cpu(), weights.detach().float().cpu(), token_task.cpu()
        if indices.numel() == 0:
            return
        low, high = torch.aminmax(indices)  # a task id out of range fails in index_add_ below
        if int(low) < 0 or int(high) >= self.num_experts:
            raise ValueError(f"routing statistics of {indices.shape[0]} tokens hold an expert id outside 0..{self.num_experts - 1}")
        real = torch.full_like(token_task, repeat, dtype=torch.float32) if mask is None else mask.cpu().float() * repeat  # [T]
        cell = token_task[:, None] * self.num_experts + indices  # [T, k] flat (task, expert)
        sums.view(-1).index_add_(0, cell.reshape(-1), (weights * real[:, None]).reshape(-1))
        counts.index_add_(0, token_task, real)

    def _buffers(self, module: str) -> tuple[Tensor, Tensor]:
        if module not in self.weight_sums:
            self.weight_sums[module] = torch.zeros(len(self.task_names), self.num_experts)
            self.token_counts[module] = torch.zeros(len(self.task_names))
        return self.weight_sums[module], self.token_counts[module]

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
