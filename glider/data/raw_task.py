"""A benchmark task read from raw rows: where its data lives and the template that turns a row into an Example."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol

from glider.data.spec import Example, Metric, Split, TaskSpec


@dataclass(frozen=True)
class Rendered:
    """A row after its prompt template: model input, answer, and answer choices (rank classification)."""

    source: str
    target: str
    choices: tuple[str, ...] = ()
    label: int = -1
    references: tuple[str, ...] = ()
    correct: tuple[int, ...] = ()

    def example(self, task: str, uid: int) -> Example:
        return Example(task=task, source=self.source, target=self.target, choices=self.choices, label=self.label,
                       uid=uid, references=self.references, correct=self.correct)


Template = Callable[[dict[str, Any]], Optional[Rendered]]  # None: the row has no usable answer (e.g. a hidden test label)


class PromptSet(Protocol):
    """The templates of a task with several prompts (T0/P3: promptsource's)."""

    round_robin: bool  # evaluation: example i gets template i mod T (True) or every template (False)

    def train(self, task: str) -> list[Template]: ...

    def eval(self, task: str) -> list[Template]: ...


def find_label(target: str, choices: tuple[str, ...]) -> int:
    """The choice that is the target; else (as the original's token rule, on words) the choice sharing most
    words position by position with it, the shorter one on ties."""
    if target in choices:
        return choices.index(target)
    words = target.split()
    scored = [(sum(a == b for a, b in zip(words, c.split())), -len(c.split()), i) for i, c in enumerate(choices)]
    return max(scored)[2]


@dataclass(frozen=True)
class RawTask:
    """One task: hub location, local directory name, splits, template(s) and metric."""

    name: str  # the task key used everywhere (experts, instruction files, results)
    hub_id: str
    template: Template | None = None  # the one row renderer (BIG-bench, FLAN); T0 tasks have ``prompts``
    metric: Metric = "rank_classification"
    hub_config: str | None = None
    split: Split = "heldin"
    family: str = ""
    train_split: str | None = "train"
    eval_splits: tuple[str, ...] = ("validation", "test")  # first one present is used
    num_choices: int = 0
    schema: str = ""  # the raw fields the template reads (for error messages and docs)
    prompts: PromptSet | None = None  # several templates (promptsource) instead of ``template``
    val_fraction: float = 0.0  # evaluation leaves out the last int(val_fraction * rows) of its split (the original's)
    carve_eval_rows: int = 0  # evaluation rows taken from the end of train (the rest trains)
    max_new_tokens: int = 0  # the original's max_gen_length for generation tasks (0: eval.max_new_tokens)
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def train_templates(self) -> list[Template]:
        return self.prompts.train(self.name) if self.prompts else [self._single()]

    def eval_templates(self) -> list[Template]:
        return self.prompts.eval(self.name) if self.prompts else [self._single()]

    @property
    def round_robin(self) -> bool:
        return self.prompts.round_robin if self.prompts else True

    def _single(self) -> Template:
        assert self.template is not None, f"task {self.name} has neither a template nor prompts"
        return self.template

    def spec(self) -> TaskSpec:
        return TaskSpec(name=self.name, family=self.family, split=self.split, metric=self.metric,
                        num_choices=self.num_choices if self.metric == "rank_classification" else 0,
                        description=f"{self.hub_id}" + (f"/{self.hub_config}" if self.hub_config else ""),
                        extra={"hub_id": self.hub_id, "hub_config": self.hub_config, "max_new_tokens": self.max_new_tokens,
                               **self.extra})
