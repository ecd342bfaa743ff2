"""The base model's generic objective: describe every entity of an input.

The target lists each entity's features as codes (``k2 c0 s3 o1 p7``: kind, color, size,
origin, price), entities separated by ``|``; a claim adds the code of the claimed value.
The code vocabulary is disjoint from every task answer, so the base learns what the
entities are without learning any task or its answer format. The source is a zoo input
behind an instruction-LIKE prefix: a random sequence of words from the instruction
vocabulary (so instruction tokens get trained embeddings), or ``describe``. A prefix is
never a task's instruction paired with that task's answer.
"""

from __future__ import annotations

import random

from glider.data.synthetic.contents import FAMILIES, Content, render, sample_content
from glider.data.synthetic.world import ASPECT_VALUES, COLORS, KINDS, ORIGINS, SIZES, Entity

ENTITY_SEPARATOR = "|"
DESCRIBE_PREFIX = "describe"
MAX_PREFIX_WORDS = 12
_CODE_LETTERS = {"kind": "k", "color": "c", "size": "s", "origin": "o"}


def feature_code(aspect: str, value: str) -> str:
    """Code of one feature value, e.g. ``("color", "green") -> "c2"``."""
    return f"{_CODE_LETTERS[aspect]}{ASPECT_VALUES[aspect].index(value)}"


def describe_entity(entity: Entity) -> str:
    """All features of one entity as codes: kind, color, size, origin, price."""
    codes = [feature_code(aspect, entity.value(aspect)) for aspect in ASPECT_VALUES]
    return " ".join(codes + [f"p{entity.price}"])


def describe_content(content: Content) -> str:
    """The pretraining target of one input."""
    parts = [describe_entity(entity) for entity in content.entities]
    if content.family == "claim":
        parts.append(feature_code(content.aspect, content.claimed))
    return f" {ENTITY_SEPARATOR} ".join(parts)


def code_vocabulary() -> list[str]:
    """Every word a pretraining target can contain."""
    codes = [feature_code(a, v) for a, values in ASPECT_VALUES.items() for v in values]
    return codes + [f"p{price}" for price in range(1, 10)] + [ENTITY_SEPARATOR]


def sample_pretrain_pair(
    entities: tuple[Entity, ...], prefix_words: list[str], rng: random.Random
) -> tuple[str, str]:
    """One (source, target) pair: a random-word prefix (or ``describe``) + an input of any family."""
    content = sample_content(rng.choice(FAMILIES), entities, rng)
    if rng.random() < 0.2:
        prefix = DESCRIBE_PREFIX
    else:
        prefix = " ".join(rng.choices(prefix_words, k=rng.randint(1, MAX_PREFIX_WORDS)))
    return f"{prefix} {render(content)}", describe_content(content)


assert len(KINDS) == len(COLORS) == len(SIZES) == len(ORIGINS)  # codes use one digit
