"""routing_stats.safetensors: a run's routing statistics, written and read back exactly."""

from __future__ import annotations

from pathlib import Path

import torch

from glider.moe.stats import RoutingStats
from glider.report.routing_stats_file import load_routing_stats, save_routing_stats


def test_round_trip(tmp_path: Path) -> None:
    stats = RoutingStats(["p3agnews", "p3imdb"], num_experts=3)
    idx = torch.tensor([[0, 2], [1, 2], [0, 1]])
    w = torch.tensor([[0.7, 0.3], [0.5, 0.5], [0.9, 0.1]])
    stats.record("encoder.block.0.layer.0.SelfAttention.q", idx, w, torch.tensor([0, 0, 1]), None)
    path = save_routing_stats(stats, ["a", "b", "c"], tmp_path / "routing_stats.safetensors")
    back, experts = load_routing_stats(path)
    assert experts == ["a", "b", "c"] and back.task_names == ["p3agnews", "p3imdb"]
    _, mean = back.mean_weights("p3agnews")
    torch.testing.assert_close(mean[0], torch.tensor([0.35, 0.25, 0.4]))  # (0.7 + 0) / 2, (0 + 0.5) / 2, (0.3 + 0.5) / 2
