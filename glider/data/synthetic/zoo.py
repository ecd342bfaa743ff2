"""SyntheticZoo: the fixed synthetic task zoo (``task=synthetic``) as examples and specs."""

from __future__ import annotations

import random
from functools import cached_property

from glider.data.spec import Example, TaskSpec
from glider.data.synthetic.contents import ENTITY_COUNT, FAMILIES, Content, render, sample_content
from glider.data.synthetic.paraphrases import PARAPHRASES, eval_paraphrases, train_paraphrases
from glider.data.synthetic.pretrain import (
    DESCRIBE_PREFIX,
    code_vocabulary,
    sample_pretrain_pair,
)
from glider.data.synthetic.tasks import TASKS, SyntheticTask
from glider.data.synthetic.tokenizer import split_words
from glider.data.synthetic.world import ASPECT_VALUES, Entity, World, build_world
from glider.errors import DataError

_MAX_REJECTIONS = 10_000


class SyntheticZoo:
    """Held-in and held-out instruction tasks over one fixed world of invented entities.

    The world, tasks, paraphrases and both splits (paraphrases, entity words) never depend
    on a seed; ``seed`` only picks which examples are sampled.
    """

    def __init__(self) -> None:
        self.world: World = build_world()
        heldin = [t for t in TASKS if t.split == "heldin"]
        heldout = [t for t in TASKS if t.split == "heldout"]
        self._tasks: dict[str, SyntheticTask] = {t.name: t for t in heldin + heldout}

    # ---- task specs
    def tasks(self) -> list[TaskSpec]:
        """All task specs, held-in first, then held-out."""
        return [self._spec(task) for task in self._tasks.values()]

    def task(self, name: str) -> TaskSpec:
        """The spec of task ``name``; ``DataError`` if there is no such task."""
        return self._spec(self._lookup(name))

    # ---- examples
    def train_examples(self, task: str, n: int, seed: int) -> list[Example]:
        """``n`` training examples of a held-in task: train paraphrases, train words."""
        spec = self._lookup(task)
        if spec.split != "heldin":
            raise DataError(
                f"synthetic task {task!r} is held-out and has no training examples; "
                f"train experts only on held-in tasks: {', '.join(self._names('heldin'))}"
            )
        rng = random.Random(f"glider-zoo/train/{task}/{seed}")
        return self._sample(spec, n, rng, self.world.train_entities, train_paraphrases(task))

    def eval_examples(self, task: str, n: int, seed: int) -> list[Example]:
        """``n`` evaluation examples on eval words, with paraphrases no expert trained on."""
        spec = self._lookup(task)
        rng = random.Random(f"glider-zoo/eval/{task}/{seed}")
        paraphrases = eval_paraphrases(task, heldout=spec.split == "heldout")
        return self._sample(spec, n, rng, self.world.eval_entities, paraphrases)

    def pretrain_pairs(self, n: int, seed: int) -> list[tuple[str, str]]:
        """``n`` (source, target) pairs of the base model's generic describe objective."""
        _check_count(n)
        rng = random.Random(f"glider-zoo/pretrain/{seed}")
        prefix_words = self._instruction_words
        return [sample_pretrain_pair(self.world.entities, prefix_words, rng) for _ in range(n)]

    def vocabulary(self) -> list[str]:
        """Every token any source, target, choice or pretraining text can contain (sorted)."""
        return list(self._vocabulary)

    # ---- internals
    @cached_property
    def _instruction_words(self) -> list[str]:
        words = {w for texts in PARAPHRASES.values() for text in texts for w in split_words(text)}
        return sorted(words)

    @cached_property
    def _vocabulary(self) -> tuple[str, ...]:
        words = set(self._instruction_words)
        words.update(entity.word for entity in self.world.entities)
        for content in _one_content_of_every_shape(self.world.entities[0]):
            words.update(split_words(render(content)))
        for task in self._tasks.values():
            words.update(task.choices)
        words.update(value for values in ASPECT_VALUES.values() for value in values)
        words.update(code_vocabulary())
        words.add(DESCRIBE_PREFIX)
        return tuple(sorted(words))

    def _lookup(self, name: str) -> SyntheticTask:
        try:
            return self._tasks[name]
        except KeyError:
            raise DataError(
                f"unknown synthetic task {name!r}; valid tasks: {', '.join(self._tasks)}"
            ) from None

    def _names(self, split: str) -> list[str]:
        return [name for name, task in self._tasks.items() if task.split == split]

    def _spec(self, task: SyntheticTask) -> TaskSpec:
        return TaskSpec(
            name=task.name,
            family=task.family,
            split=task.split,
            metric="rank_classification" if task.choices else "exact_match",
            num_choices=len(task.choices),
            description=task.description,
            extra={"choices": task.choices, "paraphrases": PARAPHRASES[task.name]},
        )

    def _sample(
        self,
        task: SyntheticTask,
        n: int,
        rng: random.Random,
        pool: tuple[Entity, ...],
        paraphrases: tuple[str, ...],
    ) -> list[Example]:
        _check_count(n)
        examples = []
        for uid in range(n):
            content = self._sample_content(task, pool, rng)
            instruction = rng.choice(paraphrases)
            text = render(content)
            target = task.answer(content)
            examples.append(
                Example(
                    task=task.name,
                    source=f"{instruction} {text}",
                    target=target,
                    choices=task.choices,
                    label=task.choices.index(target) if task.choices else -1,
                    instruction=instruction,
                    content=text,
                    uid=uid,
                )
            )
        return examples

    @staticmethod
    def _sample_content(task: SyntheticTask, pool: tuple[Entity, ...], rng: random.Random) -> Content:
        if not task.balanced:
            return sample_content(task.family, pool, rng)
        wanted = rng.choice(task.choices)
        for _ in range(_MAX_REJECTIONS):
            content = sample_content(task.family, pool, rng)
            if task.answer(content) == wanted:
                return content
        raise DataError(f"synthetic task {task.name!r}: no input with answer {wanted!r} in its pool")


def _check_count(n: int) -> None:
    if not isinstance(n, int) or n < 0:
        raise DataError(f"number of examples must be a non-negative integer, got {n!r}")


def _one_content_of_every_shape(entity: Entity) -> list[Content]:
    """One input per family, to collect the template words."""
    return [Content(family, (entity,) * ENTITY_COUNT[family]) for family in FAMILIES]
