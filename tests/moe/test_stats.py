"""Routing statistics: per (task, expert) weight sums equal the dense [T, N] computation."""

from __future__ import annotations

import torch

from glider.moe.stats import RoutingStats


def test_record_equals_dense_sums_over_real_tokens() -> None:
    gen = torch.Generator().manual_seed(0)
    idx = torch.randint(0, 5, (30, 2), generator=gen)
    w = torch.rand(30, 2, generator=gen)
    task = torch.randint(0, 3, (30,), generator=gen)
    mask = torch.rand(30, generator=gen) > 0.3
    stats = RoutingStats(task_names=["a", "b", "c"], num_experts=5)
    stats.record("m", idx, w, task, mask)
    stats.record("m", idx, w, task, None)
    dense = torch.zeros(30, 5).scatter_add_(1, idx, w)  # [T, N]
    want = torch.zeros(3, 5).index_add_(0, task[mask], dense[mask]).index_add_(0, task, dense)
    torch.testing.assert_close(stats.weight_sums["m"], want)
    torch.testing.assert_close(stats.token_counts["m"], torch.bincount(task[mask], minlength=3).float() + torch.bincount(task, minlength=3).float())
