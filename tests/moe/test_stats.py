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


def test_native_record_equals_the_aten_record(monkeypatch) -> None:
    import glider.moe.stats as stats_module

    gen = torch.Generator().manual_seed(1)
    idx = torch.randint(0, 7, (50, 3), generator=gen)
    w = torch.rand(50, 3, generator=gen)
    task = torch.randint(0, 2, (50,), generator=gen)
    mask = torch.rand(50, generator=gen) > 0.4
    native = RoutingStats(task_names=["a", "b"], num_experts=7)
    native.record("m", idx, w, task, mask)
    monkeypatch.setattr(stats_module, "native_kernel", lambda: None)
    aten = RoutingStats(task_names=["a", "b"], num_experts=7)
    aten.record("m", idx, w, task, mask)
    torch.testing.assert_close(native.weight_sums["m"], aten.weight_sums["m"])
    torch.testing.assert_close(native.token_counts["m"], aten.token_counts["m"])


def test_out_of_range_ids_are_one_clear_error() -> None:
    import pytest

    from glider.moe.native_kernel import native_kernel

    if native_kernel() is None:
        pytest.skip("no native kernel here: the ATen path raises its own index error")
    stats = RoutingStats(task_names=["a"], num_experts=3)
    with pytest.raises(ValueError, match="outside 0..2"):
        stats.record("m", torch.tensor([[0, 3]]), torch.ones(1, 2), torch.zeros(1, dtype=torch.long), None)
    assert stats.weight_sums["m"].sum() == 0  # nothing added
