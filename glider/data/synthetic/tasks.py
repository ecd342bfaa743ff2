"""The tasks of the zoo: family, split, how the answer follows from the input, and choices.

Held-in tasks (16, four families) each get an expert. Held-out tasks (8) are new but
related: a related skill (``pair_cheaper``: ``list_cheapest``'s skill on a pair) or a composition of two
held-in skills (``thing_big_animal`` = kind + size, ``list_count_red`` = counting + color).
Tasks with ``choices`` are scored by rank classification, the others by exact match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from glider.data.spec import Split
from glider.data.synthetic.contents import Content
from glider.data.synthetic.world import ASPECT_VALUES, COLORS, KINDS, ORIGINS

YES_NO = ("yes", "no")
FIRST_SECOND = ("first", "second")
POSITIONS = ("first", "second", "third")
ASPECTS = tuple(ASPECT_VALUES)


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _position(content: Content, key: Callable) -> str:
    """Position word of the entity with the smallest ``key`` (min over the entities)."""
    values = [key(entity) for entity in content.entities]
    return POSITIONS[values.index(min(values))]


@dataclass(frozen=True)
class SyntheticTask:
    """One task: ``answer`` maps a structured input to the reference answer text.

    ``balanced`` asks the sampler to draw each answer equally often (by rejection from the
    family pool) for tasks whose natural answer rate is lopsided.
    """

    name: str
    family: str
    split: Split
    answer: Callable[[Content], str]
    choices: tuple[str, ...]  # empty: exact match
    description: str
    balanced: bool = False


def _heldin(name, family, answer, choices, description) -> SyntheticTask:
    return SyntheticTask(name, family, "heldin", answer, choices, description)


def _heldout(name, family, answer, choices, description, balanced=False) -> SyntheticTask:
    return SyntheticTask(name, family, "heldout", answer, choices, description, balanced)


def _first(content: Content):
    return content.entities[0]


TASKS: tuple[SyntheticTask, ...] = (
    # thing: one entity
    _heldin("thing_kind", "thing", lambda c: _first(c).kind, KINDS, "the entity's kind"),
    _heldin("thing_color", "thing", lambda c: _first(c).color, COLORS, "the entity's color"),
    _heldin("thing_origin", "thing", lambda c: _first(c).origin, ORIGINS, "the region the entity comes from"),
    _heldin("thing_alive", "thing", lambda c: _yes_no(_first(c).alive), YES_NO,
            "is the entity an animal or a plant"),
    _heldin("thing_big", "thing", lambda c: _yes_no(_first(c).big), YES_NO,
            "is the entity large or huge"),
    _heldin("thing_price", "thing", lambda c: str(_first(c).price), (),
            "the entity's price, a digit 1-9 (exact match)"),
    # pair: two entities
    _heldin("pair_same_kind", "pair",
            lambda c: _yes_no(c.entities[0].kind == c.entities[1].kind), YES_NO,
            "do the two entities share a kind"),
    _heldin("pair_same_color", "pair",
            lambda c: _yes_no(c.entities[0].color == c.entities[1].color), YES_NO,
            "do the two entities share a color"),
    _heldin("pair_bigger", "pair", lambda c: _position(c, lambda e: -e.size_rank),
            FIRST_SECOND, "which of the two is bigger"),
    _heldin("pair_same_origin", "pair",
            lambda c: _yes_no(c.entities[0].origin == c.entities[1].origin), YES_NO,
            "do the two entities come from the same region"),
    # list: three entities
    _heldin("list_count_alive", "list", lambda c: str(sum(e.alive for e in c.entities)), (),
            "how many of the three are alive, 0-3 (exact match)"),
    _heldin("list_has_red", "list", lambda c: _yes_no(any(e.color == "red" for e in c.entities)),
            YES_NO, "is at least one of the three red"),
    _heldin("list_cheapest", "list", lambda c: _position(c, lambda e: e.price),
            POSITIONS, "position of the cheapest of three"),
    # claim: an entity and a claimed value of one aspect
    _heldin("claim_true", "claim", lambda c: _yes_no(c.claim_is_true), YES_NO,
            "is the claim true"),
    _heldin("claim_aspect", "claim", lambda c: c.aspect, ASPECTS,
            "which aspect the claim is about"),
    _heldin("claim_fix", "claim", lambda c: _first(c).value(c.aspect), (),
            "the true value of the claimed aspect (exact match)"),
    # held-out: related skills and compositions of two held-in skills
    _heldout("thing_big_animal", "thing",
             lambda c: _yes_no(_first(c).kind == "animal" and _first(c).big), YES_NO,
             "composition: kind + size", balanced=True),
    _heldout("thing_from_north", "thing", lambda c: _yes_no(_first(c).origin == "north"), YES_NO,
             "related to thing_origin", balanced=True),
    _heldout("pair_both_alive", "pair",
             lambda c: _yes_no(c.entities[0].alive and c.entities[1].alive), YES_NO,
             "composition: thing_alive on a pair", balanced=True),
    _heldout("pair_same_kind_and_color", "pair",
             lambda c: _yes_no(c.entities[0].kind == c.entities[1].kind
                               and c.entities[0].color == c.entities[1].color),
             YES_NO, "composition: pair_same_kind + pair_same_color", balanced=True),
    _heldout("pair_cheaper", "pair", lambda c: _position(c, lambda e: e.price),
             FIRST_SECOND, "related: list_cheapest's skill on a pair"),
    _heldout("list_largest", "list", lambda c: _position(c, lambda e: -e.size_rank),
             POSITIONS, "related: pair_bigger's skill on a list of three"),
    _heldout("list_count_red", "list",
             lambda c: str(sum(e.color == "red" for e in c.entities)), (),
             "composition: list_count_alive's counting + list_has_red's color (exact match)"),
    _heldout("claim_price", "claim", lambda c: str(_first(c).price), (),
             "composition: thing_price on a claim input (exact match)"),
)
