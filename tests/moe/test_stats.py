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


def test_repeat_counts_each_token_as_several() -> None:
    idx, w, task = torch.tensor([[0, 2], [1, 2]]), torch.tensor([[0.7, 0.3], [0.6, 0.4]]), torch.tensor([0, 0])
    once, thrice = RoutingStats(["a"], 3), RoutingStats(["a"], 3)
    once.record("m", idx, w, task, torch.tensor([True, False]))
    thrice.record("m", idx, w, task, torch.tensor([True, False]), repeat=3.0)
    torch.testing.assert_close(once.weight_sums["m"], torch.tensor([[0.7, 0.0, 0.3]]))
    torch.testing.assert_close(thrice.weight_sums["m"], 3 * once.weight_sums["m"])
    assert thrice.token_counts["m"].tolist() == [3.0]


def test_out_of_range_ids_are_one_clear_error() -> None:
    import pytest

    stats = RoutingStats(task_names=["a"], num_experts=3)
    with pytest.raises(ValueError, match="outside 0..2"):
        stats.record("m", torch.tensor([[0, 3]]), torch.ones(1, 2), torch.zeros(1, dtype=torch.long), None)
    with pytest.raises(IndexError):  # a task id outside 0..0
        stats.record("m", torch.tensor([[0, 1]]), torch.ones(1, 2), torch.ones(1, dtype=torch.long), None)
    assert stats.weight_sums["m"].sum() == 0  # nothing added
