"""The base model's generic objective: describe every entity of an input.

The target is the bag of all feature codes of the input, in a random order. A code names
the entity's position, the feature and its value: ``ak2`` = first entity, kind 2;
``bc1`` = second entity, color 1; ``cs3`` = third entity, size 3. Because the
order is random, the base must be ready to emit any code at its first step, so every
feature of every entity is readable from the decoder's first state: an expert only has to
learn a readout there, not a retrieval. Codes are disjoint from every task answer, so the
base learns what the entities are without learning any task or its answer format. The
source is a zoo input behind an instruction-LIKE prefix: a random sequence of words from
the instruction vocabulary (so instruction tokens get trained embeddings), or
``describe``. A prefix is never a task's instruction paired with that task's answer.

The mix zoo (``task=synthetic_mix``) adds a lexicon code per entity (``al2`` = the first
entity's name is from lexicon 2): half of its inputs name common entities (in lower case),
half entities of one own lexicon (in its script: ``lexicons.write``), and the
base learns which word set every name comes from, as it learns the features.
"""

from __future__ import annotations

import random

from collections.abc import Mapping, Sequence

from glider.data.synthetic.contents import FAMILIES, Content, render, sample_content
from glider.data.synthetic.lexicons import lexicon_index, write
from glider.data.synthetic.world import ASPECT_VALUES, COMMON, Entity, World

DESCRIBE_PREFIX = "describe"
MAX_PREFIX_WORDS = 10
POSITION_LETTERS = "abc"  # first, second, third entity
_FEATURE_LETTERS = {"kind": "k", "color": "c", "size": "s", "origin": "o"}


def feature_code(aspect: str, value: str) -> str:
    """Code of one feature value, e.g. ``("color", "green") -> "c2"``."""
    return f"{_FEATURE_LETTERS[aspect]}{ASPECT_VALUES[aspect].index(value)}"


def entity_codes(entity: Entity, position: int) -> list[str]:
    """All features of the entity at ``position``, e.g. ``["ak2", "ac0", "as3", "ao1"]``."""
    letter = POSITION_LETTERS[position]
    return [letter + feature_code(a, entity.value(a)) for a in ASPECT_VALUES]


def lexicon_code(entity: Entity, position: int) -> str:
    """The lexicon of the entity at ``position``, e.g. ``"bl2"`` (second entity, lexicon 2)."""
    return f"{POSITION_LETTERS[position]}l{lexicon_index(entity.lexicon)}"


def describe_content(content: Content, rng: random.Random, lexicons: bool = False) -> str:
    """The pretraining target of one input: all its codes (with ``lexicons``, each entity's lexicon code too), shuffled."""
    codes = [code for i, entity in enumerate(content.entities) for code in entity_codes(entity, i)]
    if lexicons:
        codes += [lexicon_code(entity, i) for i, entity in enumerate(content.entities)]
    rng.shuffle(codes)
    return " ".join(codes)


def code_vocabulary(lexicon_count: int = 0) -> list[str]:
    """Every word a pretraining target can contain (``lexicon_count``: with the codes of that many lexicons)."""
    values = [feature_code(a, v) for a, vs in ASPECT_VALUES.items() for v in vs]
    values += [f"l{i}" for i in range(lexicon_count)]
    return [letter + code for letter in POSITION_LETTERS for code in values]


def _prefix(prefix_words: list[str], rng: random.Random) -> str:
    if rng.random() < 0.2:
        return DESCRIBE_PREFIX
    return " ".join(rng.choices(prefix_words, k=rng.randint(1, MAX_PREFIX_WORDS)))


def sample_pretrain_pair(
    entities: tuple[Entity, ...], prefix_words: list[str], rng: random.Random
) -> tuple[str, str]:
    """One (source, target) pair: a random-word prefix (or ``describe``) + an input of any family."""
    content = sample_content(rng.choice(FAMILIES), entities, rng)
    prefix = _prefix(prefix_words, rng)
    return f"{prefix} {render(content)}", describe_content(content, rng)


def sample_lexicon_pretrain_pair(
    worlds: Mapping[str, World], forms: Sequence[str], prefix_words: list[str], rng: random.Random
) -> tuple[str, str]:
    """As ``sample_pretrain_pair``, over several lexicons, each named in the target.

    Half the inputs name common entities; the others name entities of one own lexicon (drawn
    uniformly) and are written in its script.
    """
    form = rng.choice(list(forms))
    own = [name for name in sorted(worlds) if name != COMMON]
    lexicon = COMMON if rng.random() < 0.5 else rng.choice(own)
    content = sample_content(form, worlds[lexicon].entities, rng)
    prefix = _prefix(prefix_words, rng)
    return write(f"{prefix} {render(content)}", content.entities), describe_content(content, rng, lexicons=True)
