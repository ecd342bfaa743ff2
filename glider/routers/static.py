"""Static (global) scorers: oracle and uniform.

Oracle: c_i = 0 for the example's own expert (same task), -inf otherwise, so that
softmax + top-1 puts weight 1 on it. Uniform: c_i = 0 for all i; with dense selection
every expert gets 1/N (equal to merged experts, computed through the routed path).
"""

from __future__ import annotations

import torch
from torch import Tensor

from glider.routers.base import GlobalScorer, QueryBatch


class OracleScorer(GlobalScorer):
    """Weight 1 on the expert trained on the example's own task."""

    name = "oracle"

    def supports(self, task: str) -> bool:
        return task in self.experts.tasks

    def scores(self, queries: QueryBatch) -> Tensor:  # -> [B, N]
        out = torch.full((queries.size, self.experts.num_experts), float("-inf"))
        for row, task in enumerate(queries.tasks):
            for col, expert_task in enumerate(self.experts.tasks):
                if expert_task == task:
                    out[row, col] = 0.0
        return out


class UniformScorer(GlobalScorer):
    """The same score for every expert."""

    name = "uniform"

    def scores(self, queries: QueryBatch) -> Tensor:  # -> [B, N]
        return torch.zeros(queries.size, self.experts.num_experts)
