"""SyntheticZoo: a fixed synthetic task zoo (``task=synthetic``, ``task=synthetic_mix``) as examples and specs."""

from __future__ import annotations

import random
from functools import cached_property
from typing import Callable

from glider.data.spec import Example, TaskSpec
from glider.data.synthetic.contents import ENTITY_COUNT, Content, render, sample_content_from
from glider.data.synthetic.definition import SHARED_POOLS, ZooDefinition
from glider.data.synthetic.lexicons import SCRIPTS, write
from glider.data.synthetic.paraphrases import TRAIN_PARAPHRASES
from glider.data.synthetic.pretrain import (
    DESCRIBE_PREFIX,
    code_vocabulary,
    sample_lexicon_pretrain_pair,
    sample_pretrain_pair,
)
from glider.data.synthetic.tasks import SyntheticTask
from glider.data.synthetic.tokenizer import split_words
from glider.data.synthetic.world import ASPECT_VALUES, COMMON, Entity, World
from glider.errors import DataError

_MAX_REJECTIONS = 10_000


class SyntheticZoo:
    """Held-in and held-out instruction tasks over one fixed world of invented entities.

    The world, tasks, paraphrases and both splits (paraphrases, entity words) never depend
    on a seed; ``seed`` only picks which examples are sampled. ``definition`` picks the zoo
    (``definition.py``); ``world`` is its common lexicon, ``worlds`` every lexicon.
    """

    def __init__(self, definition: ZooDefinition = SHARED_POOLS) -> None:
        self.definition = definition
        self.worlds: dict[str, World] = dict(definition.worlds())
        self.world: World = self.worlds[COMMON]
        heldin = [t for t in definition.tasks if t.split == "heldin"]
        heldout = [t for t in definition.tasks if t.split == "heldout"]
        self._tasks: dict[str, SyntheticTask] = {t.name: t for t in heldin + heldout}
        self._paraphrases = definition.paraphrases

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
        pools = self._pools(spec, lambda world: world.train_entities)
        return self._sample(spec, n, rng, pools, self._paraphrases[task][:TRAIN_PARAPHRASES])

    def eval_examples(self, task: str, n: int, seed: int) -> list[Example]:
        """``n`` evaluation examples on eval words, with paraphrases no expert trained on."""
        spec = self._lookup(task)
        rng = random.Random(f"glider-zoo/eval/{task}/{seed}")
        texts = self._paraphrases[task]
        paraphrases = texts if spec.split == "heldout" else texts[TRAIN_PARAPHRASES:]
        return self._sample(spec, n, rng, self._pools(spec, lambda world: world.eval_entities), paraphrases)

    def pretrain_pairs(self, n: int, seed: int) -> list[tuple[str, str]]:
        """``n`` (source, target) pairs of the base model's generic describe objective."""
        _check_count(n)
        rng = random.Random(f"glider-zoo/pretrain/{seed}")
        prefix_words = self._instruction_words
        if self.definition.lexicon_codes:
            forms = self.definition.pretrain_forms
            return [sample_lexicon_pretrain_pair(self.worlds, forms, prefix_words, rng) for _ in range(n)]
        return [sample_pretrain_pair(self.world.entities, prefix_words, rng) for _ in range(n)]

    def vocabulary(self) -> list[str]:
        """Every token any source, target, choice or pretraining text can contain (sorted)."""
        return list(self._vocabulary)

    # ---- internals
    @cached_property
    def _instruction_words(self) -> list[str]:
        cased = self.definition.own_script
        words = {w for texts in self._paraphrases.values() for text in texts for w in split_words(text, lowercase=not cased)}
        return sorted(words)

    @cached_property
    def _vocabulary(self) -> tuple[str, ...]:
        """Source words (with own scripts: also in each script; own names only in their lexicon's), then target words."""
        cased = self.definition.own_script
        source = set(self._instruction_words) | {DESCRIBE_PREFIX}
        for content in _one_content_of_every_shape(self.world.entities[0]):
            source.update(w for w in split_words(render(content)) if w != self.world.entities[0].word)
        if cased:
            source |= {SCRIPTS[name](w) for w in source for name in self.worlds if name != COMMON}
        for name, world in self.worlds.items():
            source.update(SCRIPTS[name](e.word) if cased and name != COMMON else e.word for e in world.entities)
        targets = {w for task in self._tasks.values() for choice in task.choices for w in split_words(choice, lowercase=not cased)}
        targets.update(value for values in ASPECT_VALUES.values() for value in values)
        targets.update(code_vocabulary(len(self.worlds) if self.definition.lexicon_codes else 0))
        return tuple(sorted(source | targets))

    def _pools(self, task: SyntheticTask, side: Callable[[World], tuple[Entity, ...]]) -> list[tuple[Entity, ...]]:
        """The entity pool of each position of ``task``'s inputs (one pool when all positions share a lexicon)."""
        lexicons = task.lexicons or (COMMON,)
        if len(set(lexicons)) == 1:
            return [side(self.worlds[lexicons[0]])]
        return [side(self.worlds[name]) for name in lexicons]

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
            extra={"choices": task.choices, "paraphrases": self._paraphrases[task.name]},
        )

    def _sample(
        self,
        task: SyntheticTask,
        n: int,
        rng: random.Random,
        pools: list[tuple[Entity, ...]],
        paraphrases: tuple[str, ...],
    ) -> list[Example]:
        _check_count(n)
        examples = []
        for uid in range(n):
            content = self._sample_content(task, pools, rng)
            instruction = rng.choice(paraphrases)
            text = render(content)
            if self.definition.own_script:
                instruction, text = write(instruction, content.entities), write(text, content.entities)
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
    def _sample_content(task: SyntheticTask, pools: list[tuple[Entity, ...]], rng: random.Random) -> Content:
        if not task.balanced:
            return sample_content_from(task.input_form, pools, rng)
        wanted = rng.choice(task.choices)
        for _ in range(_MAX_REJECTIONS):
            content = sample_content_from(task.input_form, pools, rng)
            if task.answer(content) == wanted:
                return content
        raise DataError(f"synthetic task {task.name!r}: no input with answer {wanted!r} in its pool")


def _check_count(n: int) -> None:
    if not isinstance(n, int) or n < 0:
        raise DataError(f"number of examples must be a non-negative integer, got {n!r}")


def _one_content_of_every_shape(entity: Entity) -> list[Content]:
    """One input per form, to collect the template words."""
    return [Content(form, (entity,) * count) for form, count in ENTITY_COUNT.items()]
