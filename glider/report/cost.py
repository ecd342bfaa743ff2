"""A run's cost per evaluated task (summary.json's ``cost``; the sweep report's cost columns).

    seconds_per_task         = (wall seconds of the eval stage + seconds of reused searches) / tasks
    forward_passes_per_task  = (evaluated examples + search candidates x few-shot examples) / tasks

A forward pass is one example through the backbone (encoder and decoder, all its answer
choices). Only router=lorahub has a search: ``search_seconds_per_task`` is its part of the
seconds, as measured when each search ran (a rerun that reuses a stored search counts its
measured seconds, not the time to read it).
"""

from __future__ import annotations


def run_cost(seconds: float, counts: dict[str, int], search_seconds: float | None = None, search_passes: int = 0,
             reused_seconds: float = 0.0) -> dict[str, float]:
    """The ``cost`` entry of summary.json; ``search_seconds`` None for a router without a search."""
    tasks = max(1, len(counts))
    cost = {"seconds_per_task": round((seconds + reused_seconds) / tasks, 3),
            "forward_passes_per_task": round((sum(counts.values()) + search_passes) / tasks, 2)}
    if search_seconds is not None:
        cost["search_seconds_per_task"] = round(search_seconds / tasks, 3)
    return cost
