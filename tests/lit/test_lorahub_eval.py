"""router=lorahub's search inputs: few-shot examples never evaluated, sampled experts fixed by the seed, bad input."""

from __future__ import annotations

import logging

import pytest
import torch

from glider.data.spec import Example, TaskSpec
from glider.data.synthetic_source import SyntheticTaskSource
from glider.errors import DataError
from glider.library.expert import Expert
from glider.routers.lorahub import LoraHubSettings
from glider.lit.lorahub_eval import LoraHubEval, few_shot_examples, sample_experts


class _EvalOnly:
    """A source whose task has no train split and ``rows`` validation examples (uid = position)."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def train_examples(self, task: str, n: int, seed: int) -> list[Example]:
        raise DataError(f"No training data for task '{task}'")

    def eval_examples(self, task: str, n: int, seed: int) -> list[Example]:
        return [Example(task=task, source=f"input {i}", target="yes", uid=i) for i in range(min(n, self.rows))]


def test_held_in_tasks_take_their_train_split() -> None:
    source = SyntheticTaskSource()
    task = source.task("thing_kind")
    evaluated = source.eval_examples(task.name, 50, 0)
    examples, split = few_shot_examples(source, task, 3, 0, evaluated)
    assert split == "train" and examples == source.train_examples(task.name, 3, 0)
    assert few_shot_examples(source, task, 3, 1, evaluated)[0] != examples  # fixed by the seed


def test_held_out_tasks_take_validation_examples_never_evaluated() -> None:
    source = SyntheticTaskSource()
    task = source.task("check_blue")  # held-out: no training data
    assert task.split == "heldout"
    evaluated = source.eval_examples(task.name, 100, 0)
    examples, split = few_shot_examples(source, task, 5, 0, evaluated)
    assert split == "validation" and len(examples) == 5
    texts = {(e.source, e.target) for e in evaluated}
    assert all((e.source, e.target) not in texts for e in examples)
    assert all(e.uid >= 100 for e in examples)  # after the evaluated ones in the source's order for this seed
    assert few_shot_examples(source, task, 5, 0, evaluated) == (examples, split)


def test_fewer_examples_than_asked_warn_naming_the_task(caplog: pytest.LogCaptureFixture) -> None:
    spec = TaskSpec(name="small_task")
    source = _EvalOnly(rows=12)
    with caplog.at_level(logging.WARNING, logger="glider"):
        examples, split = few_shot_examples(source, spec, 5, 0, source.eval_examples("small_task", 10, 0))
    assert [e.uid for e in examples] == [10, 11] and split == "validation"
    assert "small_task has only 2 of the 5 few-shot examples" in caplog.text


def test_no_example_left_is_an_error_naming_the_task() -> None:
    source = _EvalOnly(rows=10)
    with pytest.raises(DataError, match="task 'tiny_task' has no labelled example to search with"):
        few_shot_examples(source, TaskSpec(name="tiny_task"), 3, 0, source.eval_examples("tiny_task", 10, 0))


def test_sampled_experts_are_fixed_by_task_and_seed() -> None:
    first = sample_experts(40, 20, "task_a", 0)
    assert first == sample_experts(40, 20, "task_a", 0) and len(set(first)) == 20 and set(first) <= set(range(40))
    assert first != sample_experts(40, 20, "task_b", 0) and first != sample_experts(40, 20, "task_a", 1)
    every = sample_experts(16, 20, "task_a", 0)  # M larger than the library: all experts,
    assert sorted(every) == list(range(16)) and every != list(range(16))  # in sampled order (the search's coordinates)


def _expert(name: str, alpha: float = 8.0) -> Expert:
    return Expert(name=name, task=name, rank=4, lora_alpha=alpha, lora_A={"m": torch.zeros(4, 3)}, lora_B={"m": torch.zeros(5, 4)})


def test_more_experts_asked_than_the_library_has_or_unequal_scales_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="glider"):
        LoraHubEval(ctx=None, settings=LoraHubSettings(experts=20), library=[_expert("a"), _expert("b", alpha=4.0)])  # type: ignore[arg-type]
    assert "router.lorahub.experts=20 but the library has 2 experts; every task composes all 2" in caplog.text
    assert "the library's LoRA scales differ (1, 2)" in caplog.text
