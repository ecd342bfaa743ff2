"""Summaries of what the global router chose, from per-example predictions."""

from __future__ import annotations

import pytest

from glider.data.spec import TaskSpec
from glider.report.routing_choices import global_identification, high_alpha_fractions


def _task(name: str, split: str) -> TaskSpec:
    return TaskSpec(name=name, split=split, metric="rank_classification")


def test_identification_is_per_task_then_averaged_over_tasks_with_an_expert() -> None:
    experts = {"ea": "a", "eb": "b"}
    predictions = [
        {"task": "a", "top_expert": "ea"}, {"task": "a", "top_expert": "eb"}, {"task": "a", "top_expert": "ea"}, {"task": "a", "top_expert": "ea"},
        {"task": "b", "top_expert": "eb"},
        {"task": "new", "top_expert": "ea"},  # no expert of its own: not counted
    ]
    got = global_identification(predictions, experts)
    assert got == {"per_task": {"a": 0.75, "b": 1.0}, "average": pytest.approx(0.875)}


def test_identification_is_none_without_global_scores_or_when_no_expert_is_singled_out() -> None:
    assert global_identification([{"task": "a", "score": 1.0}], {"ea": "a"}) is None
    assert global_identification([{"task": "a", "top_expert": None}], {"ea": "a"}) is None  # uniform: all tied


def test_a_tied_example_counts_as_not_identified() -> None:
    got = global_identification([{"task": "a", "top_expert": "ea"}, {"task": "a", "top_expert": None}], {"ea": "a"})
    assert got is not None and got["average"] == 0.5


def test_high_alpha_shares_per_task_and_split() -> None:
    tasks = [_task("a", "heldin"), _task("b", "heldin"), _task("x", "heldout")]
    predictions = [{"task": "a", "alpha": 100.0}, {"task": "a", "alpha": 3.0}, {"task": "b", "alpha": 100.0},
                   {"task": "x", "alpha": 3.0}, {"task": "x", "alpha": 3.0}]
    got = high_alpha_fractions(predictions, tasks, high=100.0)
    assert got["high_fraction"] == {"a": 0.5, "b": 1.0, "x": 0.0}
    assert got["high_fraction_by_split"] == {"heldin": pytest.approx(2 / 3), "heldout": 0.0}
