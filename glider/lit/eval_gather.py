"""What a DDP evaluation gathers on every process: predictions, routing statistics, counts; and the check
that every example was evaluated exactly once (no sampler padding, no loss)."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch

from glider.lit.evaluation import RoutedEvaluator
from glider.moe.stats import RoutingStats


def sum_over_processes(value: int, trainer: L.Trainer) -> int:
    """``value`` summed over the processes of ``trainer`` (itself in one process)."""
    if trainer.world_size > 1 and torch.distributed.is_initialized():
        gathered: list[Any] = [None] * trainer.world_size
        torch.distributed.all_gather_object(gathered, value)
        return int(sum(gathered))
    return value


def gather_predictions(evaluator: RoutedEvaluator, trainer: L.Trainer) -> tuple[list[dict], RoutingStats | None]:
    """Per-example predictions (sorted by task and uid) and routing statistics of every process, on every process."""
    predictions, stats = evaluator.predictions, evaluator.stats
    if trainer.world_size > 1 and torch.distributed.is_initialized():
        gathered: list[Any] = [None] * trainer.world_size
        torch.distributed.all_gather_object(gathered, (predictions, stats))
        predictions = [p for part, _ in gathered for p in part]
        if stats is not None:
            merged = RoutingStats(stats.task_names, stats.num_experts)
            for _, part in gathered:
                merged.merge_(part)
            stats = merged
    predictions.sort(key=lambda p: (p["task"], p["uid"]))
    return predictions, stats


def check_each_example_once(predictions: list[dict], items: list[dict[str, Any]]) -> None:
    """Every example was evaluated by exactly one process (no sampler padding, no loss)."""
    seen = [(p["task"], p["uid"]) for p in predictions]
    expected = sorted((it["example"].task, it["example"].uid) for it in items)
    if sorted(seen) != expected:
        raise RuntimeError(f"eval: {len(seen)} predictions for {len(expected)} examples ({len(set(seen))} distinct): the sampler must shard exactly")
