"""The routing statistics of a run as a file: per module, the summed routing weight per (task, expert).

    routing_stats.safetensors
        weight_sums.<module>    [tasks, N]   sum over the task's real tokens of each expert's routing weight
        token_counts.<module>   [tasks]      the task's real tokens that module routed
        metadata: tasks, experts (JSON lists, the rows' and columns' names)

``weight_sums / token_counts`` is the average routing weight, what the heatmaps show. The
original's routing-statistics script (``inference-routing-stats.py``) saves instead the share
of top-k *selections* per expert, per module and task: the two agree on which experts a task
uses; they differ in that a selection counts once whatever its weight.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file
from safetensors import safe_open

from glider.io import atomic_save_tensors
from glider.moe.stats import RoutingStats


def save_routing_stats(stats: RoutingStats, expert_names: list[str], path: Path) -> Path:
    """Write ``stats`` to ``path`` (atomic)."""
    tensors = {f"weight_sums.{m}": s.contiguous() for m, s in stats.weight_sums.items()}
    tensors.update({f"token_counts.{m}": c.contiguous() for m, c in stats.token_counts.items()})
    atomic_save_tensors(path, tensors, metadata={"tasks": json.dumps(list(stats.task_names)), "experts": json.dumps(list(expert_names))})
    return path


def load_routing_stats(path: Path) -> tuple[RoutingStats, list[str]]:
    """A RoutingStats and the expert names back from ``save_routing_stats``'s file."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    tasks, experts = json.loads(meta["tasks"]), json.loads(meta["experts"])
    stats = RoutingStats(tasks, len(experts))
    for key, value in load_file(str(path)).items():
        kind, module = key.split(".", 1)
        (stats.weight_sums if kind == "weight_sums" else stats.token_counts)[module] = value
    return stats, experts
