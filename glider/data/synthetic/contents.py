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
    """The input as text, without the instruction.

    A joined form (``thing+check``) writes each part in its own form, with the next entities:
    ``word : bazok check : tavim``.
    """
    if "+" in content.family:
        texts, start = [], 0
        for part in content.family.split("+"):
            count = entity_count(part)
            texts.append(render(Content(part, content.entities[start : start + count])))
            start += count
        return " ".join(texts)
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
    return Content(family, tuple(rng.sample(list(pool), entity_count(family))))


def sample_content_from(form: str, pools: Sequence[Sequence[Entity]], rng: random.Random) -> Content:
    """One input of ``form`` whose entity at position i comes from ``pools[i]`` (one pool: as ``sample_content``).

    Pools of different positions are disjoint word sets (lexicons), so the entities stay distinct.
    """
    count = entity_count(form)
    if len(pools) == 1:
        return sample_content(form, pools[0], rng)
    if len(pools) != count:
        raise ValueError(f"form {form!r} has {count} entities but {len(pools)} pools were given")
    return Content(form, tuple(rng.choice(list(pool)) for pool in pools))


def entity_count(form: str) -> int:
    """How many entities an input of ``form`` names (a joined form ``thing+check``: the sum of its parts)."""
    if "+" in form:
        return sum(entity_count(part) for part in form.split("+"))
    try:
        return ENTITY_COUNT[form]
    except KeyError:
        raise ValueError(f"unknown family {form!r}; expected one of {FAMILIES}") from None
