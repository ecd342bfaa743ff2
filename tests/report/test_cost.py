"""A run's cost per evaluated task (summary.json's ``cost``)."""

from __future__ import annotations

import pytest

from glider.report.cost import run_cost


def test_a_router_without_search_costs_its_evaluation() -> None:
    assert run_cost(10.0, {"a": 100, "b": 60}) == {"seconds_per_task": 5.0, "forward_passes_per_task": 80.0}


def test_a_search_adds_its_forward_passes_and_a_reused_search_its_measured_seconds() -> None:
    cost = run_cost(4.0, {"a": 100, "b": 100}, search_seconds=3.0, search_passes=60, reused_seconds=1.0)
    assert cost == {"seconds_per_task": pytest.approx(2.5), "forward_passes_per_task": 130.0, "search_seconds_per_task": 1.5}
