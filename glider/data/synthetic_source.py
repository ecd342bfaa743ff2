"""The embedded benchmarks: a synthetic task zoo as a task source (``task=synthetic``, ``task=synthetic_mix``)."""

from __future__ import annotations

from typing import Any

from glider.data.source import TaskSource, select_tasks
from glider.data.spec import Example, TaskSpec
from glider.data.synthetic import ZOOS, SyntheticZoo
from glider.errors import ConfigError


class SyntheticTaskSource(TaskSource):
    """Held-in and held-out tasks of a synthetic zoo (no files, no network); ``zoo`` names its definition."""

    name = "synthetic"

    def __init__(self, name: str = "synthetic", eval_tasks: list[str] | None = None, expert_tasks: list[str] | None = None,
                 zoo: str = "synthetic") -> None:
        if zoo not in ZOOS:
            raise ConfigError(f"task.zoo must be one of {', '.join(ZOOS)}, got '{zoo}'.")
        self.name = name
        self.zoo = SyntheticZoo(ZOOS[zoo])
        self._eval_tasks = list(eval_tasks) if eval_tasks else None
        self._expert_tasks = select_tasks(self.heldin(), None if expert_tasks is None else list(expert_tasks), "task.expert_tasks")

    def tasks(self) -> list[TaskSpec]:
        return self.zoo.tasks()

    def task(self, name: str) -> TaskSpec:
        return self.zoo.task(name)

    def eval_tasks(self) -> list[TaskSpec]:
        if self._eval_tasks is None:
            return self.tasks()
        return [self.task(name) for name in self._eval_tasks]

    def expert_tasks(self) -> list[TaskSpec]:
        """The held-in tasks that get an expert (all, or ``task.expert_tasks``); not part of the data fingerprint."""
        return self._expert_tasks

    def train_examples(self, task: str, n: int, seed: int) -> list[Example]:
        return self.zoo.train_examples(task, n, seed)

    def eval_examples(self, task: str, n: int, seed: int) -> list[Example]:
        return self.zoo.eval_examples(task, n, seed)

    def pretrain_pairs(self, n: int, seed: int) -> list[tuple[str, str]]:
        return self.zoo.pretrain_pairs(n, seed)

    def vocabulary(self) -> list[str]:
        return self.zoo.vocabulary()

    def config(self) -> dict[str, Any]:
        definition = self.zoo.definition
        config: dict[str, Any] = {"name": self.name, "zoo_version": definition.version}
        if definition.name != "synthetic":  # the first zoo's artifacts keep their keys
            config["zoo"] = definition.name
        return config
