"""Task and example records shared by every data source (synthetic zoo, P3/T0, FLAN, BIG-bench, files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Metric = Literal["rank_classification", "exact_match", "squad", "rouge_l", "bleu_rouge_l"]
Split = Literal["heldin", "heldout"]


@dataclass(frozen=True)
class Example:
    """One model input with its reference answer.

    ``choices`` is set for rank-classification tasks (the answer is ``choices[label]``;
    ``correct``, when set, lists every choice that counts as right, as for BIG-bench tasks
    with several correct answers). For generation tasks ``choices`` is empty and ``target``
    is the answer trained on; ``references``, when set, are the answers a generation is
    scored against (best match), else ``target`` is.
    """

    task: str
    source: str  # full model input: instruction + content
    target: str  # reference answer text
    choices: tuple[str, ...] = ()
    label: int = -1  # index of target in choices, -1 for generation tasks
    instruction: str = ""  # the instruction (paraphrase) used in source, if known
    content: str = ""  # the input without the instruction, if known
    uid: int = -1  # position of the example in its eval set (for exact-once DDP checks)
    references: tuple[str, ...] = ()  # the scoring answers of a generation task (empty: the target)
    correct: tuple[int, ...] = ()  # every right choice of a multi-answer rank-classification example (empty: label)


@dataclass(frozen=True)
class TaskSpec:
    """A task of a benchmark: how it is scored and which side of the split it is on."""

    name: str
    family: str = ""
    split: Split = "heldin"
    metric: Metric = "rank_classification"
    num_choices: int = 0  # 0 for generation tasks
    description: str = ""
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def chance(self) -> float:
        """Score of a uniform random guess: 1/num_choices, or 0 for generation tasks."""
        return 1.0 / self.num_choices if self.num_choices > 0 else 0.0
