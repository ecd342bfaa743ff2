"""What the eval stage does differently for router=lorahub (glider/routers/lorahub.py).

The routed model gets one composed-expert slot per evaluated task instead of the library's
experts; every task gets its few-shot examples (never evaluated ones: the task's train split,
else a held part of its validation set, fixed by the seed) and its M sampled experts (fixed by
the seed); the eval Trainer gets the callback that searches the compositions once (rank 0) and
broadcasts them. Afterwards the searches go into ``summary.json``.
"""

from __future__ import annotations

import logging
import random
from typing import Any, Callable

from glider.backbone import fingerprint
from glider.data.collate import Seq2SeqCollator
from glider.data.source import TaskSource
from glider.data.spec import Example, TaskSpec
from glider.errors import DataError
from glider.library.expert import Expert
from glider.lit.lorahub_callback import LoraHubSearchCallback, TaskSearch
from glider.moe.lorahub_slots import composition_slots, reference_scale
from glider.routers.base import ExpertSide
from glider.routers.lorahub import LoraHubSettings
from glider.stages.context import StageContext

log = logging.getLogger("glider")

# validation examples read past the evaluated ones, per few-shot example asked for: room for the ones left out
# because their text equals an evaluated example's (small synthetic pools repeat inputs)
HELD_READ_FACTOR = 10


def few_shot_examples(source: TaskSource, task: TaskSpec, count: int, seed: int, evaluated: list[Example]) -> tuple[list[Example], str]:
    """Up to ``count`` labelled examples of ``task`` that are not evaluated: (examples, "train" | "validation").

    The train split first; a task without one (a held-out task) takes the validation examples
    that follow the evaluated ones (the source's fixed order for the seed: its held part). Any
    example whose text equals an evaluated one's is left out.
    Fewer than asked: a warning naming the task; none: a DataError naming the task.
    """
    evaluated_texts = {(e.source, e.target) for e in evaluated}
    try:
        pool, split = source.train_examples(task.name, count, seed), "train"
    except DataError:  # the source has no training data for this task
        pool, split = [], "train"
    pool = [e for e in pool if (e.source, e.target) not in evaluated_texts]
    if not pool:
        held = source.eval_examples(task.name, len(evaluated) + HELD_READ_FACTOR * count, seed)[len(evaluated):]
        pool, split = [e for e in held if (e.source, e.target) not in evaluated_texts][:count], "validation"
    if not pool:
        raise DataError(
            f"router=lorahub: task '{task.name}' has no labelled example to search with: no train split, and its validation set "
            f"holds no example beyond the {len(evaluated)} evaluated ones. Lower eval.examples_per_task, or add a train split "
            "for it (task.data_dir)."
        )
    if len(pool) < count:
        log.warning("lorahub: task %s has only %d of the %d few-shot examples asked for (router.lorahub.examples) in its %s set; "
                    "searching with %d", task.name, len(pool), count, split, len(pool))
    return pool, split


def sample_experts(library_size: int, count: int, task: str, seed: int) -> list[int]:
    """The M experts sampled for ``task`` (library indices), fixed by the seed; all of them when M >= N.

    In sampled order, as LoRAHub's ``random.sample``: the order is the search's coordinate order,
    and a small budget explores the first coordinates first (NGOpt's Cobyla), so it must not be
    the library's order.
    """
    return random.Random(f"glider-lorahub/experts/{task}/{seed}").sample(range(library_size), min(count, library_size))


class LoraHubEval:
    """router=lorahub's part of one evaluation: slots, search inputs, the search callback, the summary."""

    def __init__(self, ctx: StageContext, settings: LoraHubSettings, library: list[Expert]) -> None:
        self.ctx, self.settings, self.library = ctx, settings, library
        self.scale = reference_scale(library)
        self.callback: LoraHubSearchCallback | None = None
        if settings.experts > len(library):
            log.warning("lorahub: router.lorahub.experts=%d but the library has %d experts; every task composes all %d",
                        settings.experts, len(library), len(library))
        if len({round(e.scale, 12) for e in library}) > 1:
            log.warning("lorahub: the library's LoRA scales differ (%s); each expert's B enters as (s_i / s) B_i with s = %g",
                        ", ".join(sorted({f"{e.scale:g}" for e in library})), self.scale)

    def model_experts(self, tasks: list[TaskSpec]) -> tuple[list[Expert], ExpertSide]:
        """The routed model's experts: one zero slot per task (filled by the search), and their side."""
        slots = composition_slots(self.library, [t.name for t in tasks])
        return slots, ExpertSide(names=[e.name for e in slots], tasks=[e.task for e in slots])

    def make_callback(self, tasks: list[TaskSpec], slot_tasks: list[str], evaluated: Callable[[], dict[str, list[Example]]],
                      tokenizer: Any) -> LoraHubSearchCallback:
        """The Trainer callback that searches (or reuses) every task's composition; ``slot_tasks``: the task of each
        of the routed model's experts (its slots); ``evaluated``: the evaluated examples per task, asked for when the
        test starts (the evaluation data module has built them by then)."""

        def searches() -> list[TaskSearch]:
            chosen = evaluated()
            out = []
            for task in tasks:
                examples, split = few_shot_examples(self.ctx.source, task, self.settings.examples, self.ctx.seed, chosen.get(task.name, []))
                experts = sample_experts(len(self.library), self.settings.experts, task.name, self.ctx.seed)
                out.append(TaskSearch(task=task.name, slot=slot_tasks.index(task.name), experts=experts, examples=examples,
                                      example_split=split, key=self._key(task.name, experts, examples)))
            return out

        model_cfg = self.ctx.model_cfg
        collator = Seq2SeqCollator(tokenizer, int(model_cfg.max_source_length), int(model_cfg.max_target_length))
        self.callback = LoraHubSearchCallback(searches, self.library, self.scale, self.settings, self.ctx.seed, self.ctx.run_dir,
                                              collator, int(self.ctx.cfg.eval.batch_size))
        return self.callback

    def _key(self, task: str, experts: list[int], examples: list[Example]) -> str:
        chosen = [self.library[i] for i in experts]
        return fingerprint({
            "task": task, "seed": self.ctx.seed, "settings": self.settings.as_dict(), "backbone": self.ctx.backbone_identity(),
            "experts": [[e.name, e.card.get("fingerprints")] for e in chosen], "examples": [[e.source, e.target] for e in examples],
            "lengths": [int(self.ctx.model_cfg.max_source_length), int(self.ctx.model_cfg.max_target_length)],
        })

    def search_cost(self) -> dict[str, float]:
        """run_cost's search arguments: every search's measured seconds and forward passes, and the reused ones' seconds."""
        records = self.callback.records if self.callback else {}
        reused = set(self.callback.reused) if self.callback else set()
        return {"search_seconds": sum(r.seconds for r in records.values()),
                "search_passes": sum(r.forward_passes for r in records.values()),
                "reused_seconds": sum(r.seconds for task, r in records.items() if task in reused)}

    def summary_entries(self) -> dict[str, Any]:
        """summary.json's ``lorahub`` entry (the settings and, per task, the search); ``global_top1`` is void: every
        example's top expert is its own task's composed expert by construction."""
        records = self.callback.records if self.callback else {}
        reused = set(self.callback.reused) if self.callback else set()
        return {"global_top1": None, "lorahub": {"settings": self.settings.as_dict(), "library_size": len(self.library),
                "tasks": {task: {"experts": r.experts, "weights": r.weights, "objective": r.objective,
                                 "examples": r.examples, "example_split": r.example_split, "seconds": r.seconds,
                                 "forward_passes": r.forward_passes, "reused": task in reused}
                          for task, r in records.items()}}}
