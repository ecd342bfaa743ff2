"""The fixed world of the synthetic zoo: invented entity words and their features.

Every combination of kind x color x size x origin is one entity (4^4 = 256), named by an
invented CVCVC word (so no entity carries real-world meaning for the sentence embedder).
Nothing here depends on a seed: the world is built from fixed
string seeds. A quarter of the entities (those with ``(kind + color + size + origin) % 4 == 0``)
are reserved for evaluation; experts train only on the rest. That rule keeps every feature
value (and every pair of values of two features) equally frequent on both sides.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import lru_cache

KINDS = ("animal", "plant", "tool", "mineral")
COLORS = ("red", "blue", "green", "yellow")
SIZES = ("tiny", "small", "large", "huge")  # ordered: index = size rank
ORIGINS = ("north", "south", "east", "west")  # the region a thing comes from

# aspect name -> its values; the aspects a claim can talk about
ASPECT_VALUES: dict[str, tuple[str, ...]] = {
    "kind": KINDS,
    "color": COLORS,
    "size": SIZES,
    "origin": ORIGINS,
}

COMMON = "common"  # the lexicon of build_world(): every entity of task=synthetic
_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
_NAME_SEED = "glider-zoo-names-v1"


@dataclass(frozen=True)
class Entity:
    """One invented thing of the world and its features."""

    word: str
    kind: str
    color: str
    size: str
    origin: str
    lexicon: str = COMMON  # which word set the name comes from (glider/data/synthetic/lexicons.py)

    @property
    def alive(self) -> bool:
        """Animals and plants are alive; tools and minerals are not."""
        return self.kind in ("animal", "plant")

    @property
    def big(self) -> bool:
        """Large and huge things are big."""
        return self.size in ("large", "huge")

    @property
    def size_rank(self) -> int:
        """0 (tiny) to 3 (huge)."""
        return SIZES.index(self.size)

    def value(self, aspect: str) -> str:
        """The entity's value of one claimable aspect (kind, color, size or origin)."""
        return getattr(self, aspect)


def every_cvcvc_word() -> list[str]:
    """Every CVCVC word over the zoo's letters, in a fixed order (the space entity names come from)."""
    pattern = (_CONSONANTS, _VOWELS, _CONSONANTS, _VOWELS, _CONSONANTS)
    return ["".join(letters) for letters in itertools.product(*pattern)]


def _invented_words(count: int) -> list[str]:
    """``count`` distinct CVCVC words in a fixed pseudo-random order."""
    return random.Random(_NAME_SEED).sample(every_cvcvc_word(), count)


@dataclass(frozen=True)
class World:
    """All entities, split into the words experts train on and the words held for evaluation."""

    entities: tuple[Entity, ...]
    train_entities: tuple[Entity, ...]
    eval_entities: tuple[Entity, ...]


def held_for_evaluation(kind: int, color: int, size: int, origin: int) -> bool:
    """The split rule: a quarter of the feature combinations never reach an expert."""
    return (kind + color + size + origin) % 4 == 0


def make_world(words: list[str], lexicon: str = COMMON) -> World:
    """One entity per feature combination, named by ``words`` in order, split by ``held_for_evaluation``."""
    combos = list(itertools.product(range(4), repeat=4))
    if len(words) != len(combos):
        raise ValueError(f"a world needs {len(combos)} words, got {len(words)}")
    entities, train, held = [], [], []
    for word, (kind, color, size, origin) in zip(words, combos):
        entity = Entity(word=word, kind=KINDS[kind], color=COLORS[color], size=SIZES[size], origin=ORIGINS[origin], lexicon=lexicon)
        entities.append(entity)
        (held if held_for_evaluation(kind, color, size, origin) else train).append(entity)
    return World(tuple(entities), tuple(train), tuple(held))


@lru_cache(maxsize=1)
def build_world() -> World:
    """The one fixed world (cached; identical on every call and every machine)."""
    return make_world(_invented_words(4**4))
