"""Task families: the shared input pools and how an input is written as text.

All tasks of one family draw their inputs from the same pool and write them the same way,
so the input alone never tells which task of the family is asked; only the instruction
does. Every task reads features of the entities (one entity's feature, or a yes/no
property of it); what differs between tasks of a family is *which* feature, at *which*
position.

- ``thing``: one entity, ``word : bazok``
- ``check``: one entity, ``check : bazok``
- ``pair``: two different entities, ``first : bazok second : tavim``
- ``list``: three different entities, ``items : bazok , tavim , lorep``
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from glider.data.synthetic.world import Entity

FAMILIES = ("thing", "check", "pair", "list")
ENTITY_COUNT = {"thing": 1, "check": 1, "pair": 2, "list": 3}


@dataclass(frozen=True)
class Content:
    """The structured input of one example: its family and its entities, in order."""

    family: str
    entities: tuple[Entity, ...]


def render(content: Content) -> str:
    """The input as text, without the instruction."""
    words = [entity.word for entity in content.entities]
    if content.family == "thing":
        return f"word : {words[0]}"
    if content.family == "check":
        return f"check : {words[0]}"
    if content.family == "pair":
        return f"first : {words[0]} second : {words[1]}"
    return "items : " + " , ".join(words)


def sample_content(family: str, pool: Sequence[Entity], rng: random.Random) -> Content:
    """One input of ``family`` whose entities are distinct members of ``pool``."""
    try:
        count = ENTITY_COUNT[family]
    except KeyError:
        raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}") from None
    return Content(family, tuple(rng.sample(list(pool), count)))
