"""A run reports what the global router chose: each prediction carries its top expert (and,
with router.alpha=auto, its alpha); summary.json the top-1 identification rate and the share
of examples that got the high alpha, per task and per split."""

from __future__ import annotations

import pytest

from tests.reliability.cli import WORLD, run_in_process
from tests.reliability.conftest import World

pytestmark = pytest.mark.slow


def test_auto_alpha_choices_are_recorded_per_example_and_summarised(world_copy: World, capsys: pytest.CaptureFixture) -> None:
    outcome = run_in_process(world_copy.root, [*WORLD, "router=glider", "router.alpha=auto", "task.eval_tasks=[thing_kind,check_blue]"], capsys)
    assert outcome.code == 0, outcome.stderr[-3000:]
    auto = world_copy.summary()["alpha_auto"]
    assert auto["high"] == 100 and auto["low"] == 3 and auto["threshold"] is not None
    predictions = world_copy.predictions()
    assert predictions and all(p["alpha"] in (3.0, 100.0) for p in predictions)
    for task in ("thing_kind", "check_blue"):
        mine = [p["alpha"] == 100.0 for p in predictions if p["task"] == task]
        assert auto["high_fraction"][task] == pytest.approx(sum(mine) / len(mine))
    heldin = [p["alpha"] == 100.0 for p in predictions if p["task"] == "thing_kind"]
    assert auto["high_fraction_by_split"]["heldin"] == pytest.approx(sum(heldin) / len(heldin))
    assert set(auto["high_fraction_by_split"]) == {"heldin", "heldout"}


def test_a_fixed_alpha_records_no_per_example_alpha(tiny_world: World) -> None:
    assert tiny_world.summary()["alpha_auto"] is None
    assert all("alpha" not in p for p in tiny_world.predictions())


def test_global_top1_is_recorded_per_example_and_summarised(tiny_world: World) -> None:
    predictions = tiny_world.predictions()
    experts = {"thing_kind", "thing_color", "pair_first_kind"}
    assert predictions and all(p["top_expert"] in experts for p in predictions)
    top1 = tiny_world.summary()["global_top1"]
    for task in ("thing_kind", "pair_first_kind"):  # the world's eval tasks, both with their own expert
        mine = [p["top_expert"] == task for p in predictions if p["task"] == task]
        assert top1["per_task"][task] == pytest.approx(sum(mine) / len(mine))
    assert top1["average"] == pytest.approx(sum(top1["per_task"].values()) / 2)


def test_the_oracle_always_identifies(world_copy: World, capsys: pytest.CaptureFixture) -> None:
    outcome = run_in_process(world_copy.root, [*WORLD, "router=oracle"], capsys)
    assert outcome.code == 0, outcome.stderr[-3000:]
    assert world_copy.summary()["global_top1"]["average"] == 1.0


def test_auto_alpha_utility_cutoff_runs_the_probes_and_records_their_gains(world_copy: World, capsys: pytest.CaptureFixture) -> None:
    overrides = [*WORLD, "router=glider", "router.alpha=auto", "router.alpha_auto.cutoff=utility", "task.eval_tasks=[thing_kind,check_blue]"]
    outcome = run_in_process(world_copy.root, overrides, capsys)
    assert outcome.code == 0, outcome.stderr[-3000:]
    auto = world_copy.summary()["alpha_auto"]
    assert auto["cutoff"] == "utility" and auto["threshold"] is not None
    for gain in (auto["matched_gain"], auto["unmatched_gain"]):
        assert -1.0 <= gain <= 1.0
    assert all(p["alpha"] in (3.0, 100.0) for p in world_copy.predictions())
