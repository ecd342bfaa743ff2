"""Per-task score sums and counts as a torchmetrics state (summed across DDP processes)."""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric


class TaskScores(Metric):
    """Mean score per task: states are per-task sums and example counts (dist_reduce_fx='sum')."""

    full_state_update = False

    def __init__(self, num_tasks: int) -> None:
        super().__init__()
        self.add_state("total", default=torch.zeros(num_tasks, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.zeros(num_tasks, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, task_ids: Tensor, scores: Tensor) -> None:  # [B], [B]
        self.total.index_add_(0, task_ids.to(self.total.device), scores.to(self.total.device, torch.float64))
        self.count.index_add_(0, task_ids.to(self.count.device), torch.ones_like(task_ids, device=self.count.device))

    def compute(self) -> tuple[Tensor, Tensor]:
        """(mean score per task, NaN where a task had no example; counts per task)."""
        mean = self.total / self.count.clamp_min(1)
        return torch.where(self.count > 0, mean, torch.full_like(mean, float("nan"))), self.count

    def per_task(self) -> tuple[Tensor, Tensor]:
        """``compute()`` as [num_tasks] tensors (torchmetrics squeezes one-element results to 0-dim)."""
        mean, count = self.compute()
        return mean.reshape(-1), count.reshape(-1)
