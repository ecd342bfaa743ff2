"""Task families: the shared input pools and how an input is written as text.

All tasks of one family draw their inputs from the same pool, so the input alone never
tells which task of the family is asked; only the instruction does.

- ``thing``: one entity, ``word : bazok``
- ``pair``: two entities, ``first : bazok second : tavim``; a fair coin each decides
  whether they share a kind, a color, an origin (a combination the pool cannot supply is
  redrawn: on eval words, sharing all three is impossible); sizes and prices always
  differ (so comparisons have one answer)
- ``list``: three entities, ``items : bazok , tavim , lorep``; sizes and prices all differ
- ``claim``: an entity and a claimed value of one aspect, ``claim : bazok is red``; half
  the claims are true
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from glider.data.synthetic.world import ASPECT_VALUES, Entity

FAMILIES = ("thing", "pair", "list", "claim")

# how a claim about each aspect is phrased (``{value}`` is the claimed value)
CLAIM_TEMPLATES = {
    "kind": "is {article} {value}",
    "color": "is {value}",
    "size": "is {value}",
    "origin": "comes from the {value}",
}


@dataclass(frozen=True)
class Content:
    """The structured input of one example: its entities and, for claims, the claim."""

    family: str
    entities: tuple[Entity, ...]
    aspect: str = ""  # claim family only
    claimed: str = ""  # claim family only

    @property
    def claim_is_true(self) -> bool:
        return self.entities[0].value(self.aspect) == self.claimed


def render(content: Content) -> str:
    """The input as text, without the instruction."""
    words = [entity.word for entity in content.entities]
    if content.family == "thing":
        return f"word : {words[0]}"
    if content.family == "pair":
        return f"first : {words[0]} second : {words[1]}"
    if content.family == "list":
        return "items : " + " , ".join(words)
    article = "an" if content.claimed[0] in "aeiou" else "a"
    phrase = CLAIM_TEMPLATES[content.aspect].format(article=article, value=content.claimed)
    return f"claim : {words[0]} {phrase}"


def sample_content(family: str, pool: Sequence[Entity], rng: random.Random) -> Content:
    """One input of ``family`` whose entities all come from ``pool``."""
    if family == "thing":
        return Content(family, (rng.choice(pool),))
    if family == "pair":
        return _sample_pair(pool, rng)
    if family == "list":
        return _sample_list(pool, rng)
    if family == "claim":
        return _sample_claim(pool, rng)
    raise ValueError(f"unknown family {family!r}; expected one of {FAMILIES}")


def _sample_pair(pool: Sequence[Entity], rng: random.Random) -> Content:
    while True:
        first = rng.choice(pool)
        same_kind, same_color, same_origin = (rng.random() < 0.5 for _ in range(3))
        candidates = [
            other
            for other in pool
            if (other.kind == first.kind) == same_kind
            and (other.color == first.color) == same_color
            and (other.origin == first.origin) == same_origin
            and other.size != first.size
            and other.price != first.price
        ]
        if candidates:
            return Content("pair", (first, rng.choice(candidates)))


def _sample_list(pool: Sequence[Entity], rng: random.Random) -> Content:
    while True:
        items = tuple(rng.sample(list(pool), 3))
        if len({e.size for e in items}) == 3 and len({e.price for e in items}) == 3:
            return Content("list", items)


def _sample_claim(pool: Sequence[Entity], rng: random.Random) -> Content:
    entity = rng.choice(pool)
    aspect = rng.choice(sorted(ASPECT_VALUES))
    truth = entity.value(aspect)
    if rng.random() < 0.5:
        claimed = truth
    else:
        claimed = rng.choice([v for v in ASPECT_VALUES[aspect] if v != truth])
    return Content("claim", (entity,), aspect, claimed)
