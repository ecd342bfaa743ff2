"""The trainer config group is a partial lightning Trainer: any Trainer argument set on the command line
reaches the stages' Trainers (the build stages' and evaluation's), the stages' own settings win."""

from __future__ import annotations

from pathlib import Path

import pytest

import glider.lit.trainer_factory as trainer_factory
from glider.lit.trainer_factory import evaluation_trainer, training_trainer
from tests.reliability.cli import run_in_process
from tests.test_configs import compose_config


def test_any_trainer_argument_reaches_both_trainers(tmp_path: Path) -> None:
    cfg = compose_config(tmp_path, ["trainer.gradient_clip_val=1.0", "+trainer.limit_test_batches=3", "+trainer.max_steps=7",
                                    "trainer.progress_bar=false"])
    train = training_trainer(cfg.trainer, 5)
    assert train.gradient_clip_val == 1.0 and train.max_steps == 5  # the stage's step count wins
    evaluate = evaluation_trainer(cfg.trainer, None)
    assert evaluate.limit_test_batches == 3 and evaluate.gradient_clip_val == 1.0
    assert not any(type(c).__name__ == "TQDMProgressBar" for c in evaluate.callbacks)


def test_an_unknown_trainer_argument_names_itself(tmp_path: Path) -> None:
    cfg = compose_config(tmp_path, ["+trainer.gradient_clip_vall=1.0"])
    with pytest.raises(Exception, match="gradient_clip_vall"):
        training_trainer(cfg.trainer, 5)


def test_gradient_clipping_from_the_command_line_reaches_the_experts_stage(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    built = []
    real = trainer_factory.build_trainer
    monkeypatch.setattr(trainer_factory, "build_trainer", lambda *a, **kw: built.append(real(*a, **kw)) or built[-1])
    world = ["model.pretrain.steps=0", "library.experts.steps=2", "task.expert_tasks=[thing_kind]", "trainer.progress_bar=false",
             "logger=csv"]
    assert run_in_process(tmp_path, [*world, "stage=backbone"], capsys).code == 0
    outcome = run_in_process(tmp_path, [*world, "stage=experts", "trainer.gradient_clip_val=1.0"], capsys)
    assert outcome.code == 0, outcome.stderr[-3000:]
    experts = [t for t in built if t.max_steps == 2]
    assert experts and all(t.gradient_clip_val == 1.0 for t in experts)
