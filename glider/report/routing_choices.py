"""What the global router chose, summarised from the per-example predictions of a run.

- global top-1 identification: for tasks that have their own expert, the share of examples whose
  highest global score is that expert (per task; ``average`` is the mean over tasks, like held-in avg);
- alpha=auto: the share of examples that got the high alpha, per task and per split.
"""

from __future__ import annotations

from collections.abc import Sequence

from glider.data.spec import TaskSpec


def _mean(values: Sequence[bool]) -> float:
    return sum(values) / len(values)


def global_identification(predictions: list[dict], expert_tasks: dict[str, str]) -> dict | None:
    """{"per_task": {task: share}, "average": mean over tasks}, or None when no example has a top expert.

    ``expert_tasks`` maps each expert's name to the task it was trained on. An example whose
    best global score is shared (``top_expert`` None) counts as not identified; a router
    that singles out no expert for any example (uniform) has no identification rate.
    """
    if not any(p.get("top_expert") is not None for p in predictions):
        return None
    hits: dict[str, list[bool]] = {}
    own_tasks = set(expert_tasks.values())
    for p in predictions:
        if "top_expert" in p and p["task"] in own_tasks:
            hits.setdefault(p["task"], []).append(expert_tasks.get(p["top_expert"]) == p["task"])
    if not hits:
        return None
    per_task = {t: _mean(v) for t, v in hits.items()}
    return {"per_task": per_task, "average": _mean(list(per_task.values()))}


def high_alpha_fractions(predictions: list[dict], tasks: list[TaskSpec], high: float) -> dict[str, dict[str, float]]:
    """Share of examples that alpha=auto gave the high alpha: per task, and per split (over examples)."""
    chosen: dict[str, list[bool]] = {}
    for p in predictions:
        if "alpha" in p:
            chosen.setdefault(p["task"], []).append(p["alpha"] >= high)
    per_split: dict[str, list[bool]] = {}
    for t in tasks:
        per_split.setdefault(t.split, []).extend(chosen.get(t.name, []))
    return {"high_fraction": {t: _mean(v) for t, v in chosen.items()},
            "high_fraction_by_split": {k: _mean(v) for k, v in per_split.items() if v}}
