"""A benchmark task read from raw rows: where its data lives and the template that turns a row into an Example."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from glider.data.spec import Example, Metric, Split, TaskSpec


@dataclass(frozen=True)
class Rendered:
    """A row after its prompt template: model input, answer, and answer choices (rank classification)."""

    source: str
    target: str
    choices: tuple[str, ...] = ()
    label: int = -1
    references: tuple[str, ...] = ()

    def example(self, task: str, uid: int) -> Example:
        return Example(task=task, source=self.source, target=self.target, choices=self.choices, label=self.label,
                       uid=uid, references=self.references)


Template = Callable[[dict[str, Any]], Optional[Rendered]]  # None: the row has no usable answer (e.g. a hidden test label)


def choice(source: str, choices: list[str] | tuple[str, ...], label: int) -> Rendered | None:
    """A multiple-choice rendering; None when the label is not a valid index."""
    choices = tuple(str(c).strip() for c in choices)
    if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label < len(choices) or len(choices) < 2:
        return None
    return Rendered(source=source, target=choices[label], choices=choices, label=label)


def generation(source: str, answers: list[str] | tuple[str, ...] | str) -> Rendered | None:
    """A generation rendering; the first answer is the target, the others further references."""
    answers = [answers] if isinstance(answers, str) else [str(a) for a in answers if str(a).strip()]
    if not answers or not str(answers[0]).strip():
        return None
    return Rendered(source=source, target=str(answers[0]).strip(), references=tuple(a.strip() for a in answers[1:]))


@dataclass(frozen=True)
class RawTask:
    """One task: hub location, local directory name, splits, template and metric."""

    name: str  # the task key used everywhere (experts, instruction files, results)
    hub_id: str
    template: Template
    metric: Metric = "rank_classification"
    hub_config: str | None = None
    split: Split = "heldin"
    family: str = ""
    train_split: str | None = "train"
    eval_splits: tuple[str, ...] = ("validation", "test")  # first one present is used
    num_choices: int = 0
    schema: str = ""  # the raw fields the template reads (for error messages and docs)
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def spec(self) -> TaskSpec:
        return TaskSpec(name=self.name, family=self.family, split=self.split, metric=self.metric,
                        num_choices=self.num_choices if self.metric == "rank_classification" else 0,
                        description=f"{self.hub_id}" + (f"/{self.hub_config}" if self.hub_config else ""),
                        extra={"hub_id": self.hub_id, "hub_config": self.hub_config, **self.extra})
