"""A miniature of the mix zoo end to end (tiny steps, few examples): build, evaluate, tuning split, one expert alone."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from glider.errors import ConfigError
from glider.pipeline import run_pipeline
from glider.run import objective_value
from glider.stages.context import StageContext
from tests.test_configs import compose_config

EXPERTS = ["thing_kind", "zar_kind", "mip_big"]
EVAL = ["thing_kind", "zar_kind", "zar_kind_check", "zar_mip_both"]
MINI = [
    "task=synthetic_mix", "model.pretrain.steps=20", "library.experts.steps=4", "library.gates.steps=3",
    "library.describe.retrieval_inputs=4", "library.describe.probe_queries=6",
    f"task.expert_tasks=[{','.join(EXPERTS)}]", f"task.eval_tasks=[{','.join(EVAL)}]",
    "eval.examples_per_task=4", "eval.batch_size=4", "eval.heatmaps=false", "trainer.progress_bar=false", "logger=csv",
]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mix")
    _run(root, "router=oracle")  # builds the backbone and the library once
    return root


def _run(root: Path, *overrides: str):
    cfg = compose_config(root, [*MINI, *overrides])
    return run_pipeline(StageContext(cfg))


def test_the_mix_zoo_builds_and_every_task_is_scored(root: Path) -> None:
    result = _run(root, "stage=eval", "router=glider", "router.alpha=10")
    assert set(result.scores) == set(EVAL)
    assert all(0.0 <= s <= 1.0 for s in result.scores.values())
    assert not math.isnan(result.averages["overall_avg"])
    library = root / "outputs" / "libraries"
    assert [p.name for p in library.iterdir()] == ["synthetic_mix-t5_tiny-seed0"]


def test_tuning_split_is_scored_and_is_the_objective(root: Path) -> None:
    result = _run(root, "stage=eval", "router=glider", "eval.tuning.examples_per_task=3")
    tuning = result.tuning
    assert tuning["examples_per_task"] == 3 and set(tuning["heldin"]) == set(EXPERTS) == set(tuning["heldout"])
    expected = (tuning["heldin_avg"] + tuning["heldout_avg"]) / 2
    assert objective_value("tuning", result) == pytest.approx(expected)
    with pytest.raises(ConfigError, match="examples_per_task"):
        objective_value("tuning", _run(root, "stage=eval", "router=phatgoose"))


def test_tuning_split_needs_a_router_that_routes_among_experts(root: Path) -> None:
    with pytest.raises(ConfigError, match="eval.tuning"):
        _run(root, "stage=eval", "router=oracle", "eval.tuning.examples_per_task=3")


def test_one_expert_alone(root: Path) -> None:
    result = _run(root, "stage=eval", "router=uniform", "eval.experts=[zar_kind]")
    assert set(result.scores) == set(EVAL)
    with pytest.raises(ConfigError, match="eval.experts names"):
        _run(root, "stage=eval", "router=uniform", "eval.experts=[nope]")


def test_tuning_rows_are_neither_training_nor_evaluation_rows(root: Path) -> None:
    """The tuning split is held-back training rows (after the rows the experts trained on), never an evaluation input."""
    from glider.lit.tuning_eval import tuning_examples

    ctx = StageContext(compose_config(root, [*MINI, "library.experts.train_examples=40"]))
    for task in EXPERTS:
        tuning = tuning_examples(ctx, task, 30)
        evaluated = ctx.source.eval_examples(task, 100, ctx.seed)
        assert len(tuning) == 30 and [e.uid for e in tuning] == list(range(30))
        assert not {e.source for e in tuning} & {e.source for e in evaluated}
        assert [e.source for e in tuning] == [e.source for e in ctx.source.train_examples(task, 70, ctx.seed)[40:]]
