"""A task source: the tasks of a benchmark and their train / eval examples."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from typing import Any

from glider.data.spec import Example, TaskSpec
from glider.errors import DataError


class TaskSource(ABC):
    """Where tasks and examples come from (synthetic zoo, P3/T0, FLAN, BIG-bench, local files)."""

    name: str = "tasks"

    @abstractmethod
    def tasks(self) -> list[TaskSpec]:
        """Every task of the source, held-in first."""

    @abstractmethod
    def train_examples(self, task: str, n: int, seed: int) -> list[Example]:
        """Up to n training examples of a held-in task (for training its expert)."""

    @abstractmethod
    def eval_examples(self, task: str, n: int, seed: int) -> list[Example]:
        """Up to n evaluation examples (uid = position)."""

    def config(self) -> dict[str, Any]:
        """What defines the data (used in fingerprints of artifacts built from it)."""
        return {"name": self.name}

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.config(), sort_keys=True, default=str).encode()).hexdigest()[:12]

    def task(self, name: str) -> TaskSpec:
        for spec in self.tasks():
            if spec.name == name:
                return spec
        names = [t.name for t in self.tasks()]
        raise DataError(f"Unknown task '{name}' in task source '{self.name}'. Known tasks: {', '.join(names)}.")

    def heldin(self) -> list[TaskSpec]:
        return [t for t in self.tasks() if t.split == "heldin"]

    def heldout(self) -> list[TaskSpec]:
        return [t for t in self.tasks() if t.split == "heldout"]

    def expert_tasks(self) -> list[TaskSpec]:
        """Tasks that get an expert when the library is trained here (the held-in tasks)."""
        return self.heldin()

    def eval_tasks(self) -> list[TaskSpec]:
        """Tasks evaluated by the eval stage."""
        return self.tasks()

    def check_available(self) -> None:
        """Raise one clear DataError when the source has no data at all (sources that read files override it)."""

    def prepare_data(self, tasks: list[str], training: bool) -> None:
        """Download and cache what ``tasks`` need for training or evaluation (once per node; DataModules call it).

        Sources without downloads (the synthetic zoo, local files) have nothing to do.
        """

    def pretrain_pairs(self, n: int, seed: int) -> list[tuple[str, str]]:
        """(source, target) pairs of a generic objective for pretraining a tiny backbone."""
        raise DataError(
            f"Task source '{self.name}' has no pretraining objective for a tiny backbone; "
            "use a pretrained backbone (model=t5_small or model=t5_xl_lm_adapt) with this task."
        )

    def vocabulary(self) -> list[str] | None:
        """Closed word vocabulary for a word-level tokenizer, if the source has one."""
        return None


def select_tasks(available: list[TaskSpec], names: list[str] | None, field: str) -> list[TaskSpec]:
    """The tasks named in config field ``field`` (in that order), or all of ``available`` for None."""
    if names is None:
        return available
    by_name = {t.name: t for t in available}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise DataError(f"{field} names {unknown}, which are not among the allowed tasks: {', '.join(by_name)}.")
    return [by_name[n] for n in names]


def check_examples(task: TaskSpec, examples: list[Example], where: str) -> list[Example]:
    """Fail clearly on an empty set or on rank-classification examples without choices."""
    if not examples:
        raise DataError(f"Task '{task.name}' has no {where} examples. Check the data source / task.data_dir.")
    if task.metric == "rank_classification":
        for ex in examples:
            if len(ex.choices) < 2:
                raise DataError(
                    f"Task '{task.name}' is scored by rank classification but an example has "
                    f"{len(ex.choices)} answer choice(s) (uid {ex.uid}): every example needs its list of choices."
                )
            if not 0 <= ex.label < len(ex.choices):
                raise DataError(f"Task '{task.name}': example uid {ex.uid} has label {ex.label} outside its {len(ex.choices)} choices.")
    return examples
