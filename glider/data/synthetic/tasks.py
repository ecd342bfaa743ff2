"""The tasks of the zoo: family, split, how the answer follows from the input, and choices.

Held-in tasks (16, four families of four) each get an expert. Every held-in task reads one
feature (or a yes/no property) of one entity of its input; the tasks of a family share
their inputs and differ in which feature of which entity they ask for, so only the
instruction tells them apart. Held-out tasks (6) are new but related: a held-in skill at
a position no expert was trained on (``pair_second_kind``), a related question
(``check_blue``), or a composition of two held-in skills (``check_big_animal`` = kind +
size). Tasks with ``choices`` are scored by rank classification, the others
(``list_first_kind``, ``list_first_color``, ``list_second_color``: the answer is the feature
word, generated freely) by exact match. The ``list`` tasks name a feature of
the *first* of three items: in the planning runs, experts that had to name a feature of the
second or third item by free generation reached only 0.3-0.7 exact match on the tiny base
(rank classification at the second position reached 0.99).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from glider.data.spec import Split
from glider.data.synthetic.contents import Content
from glider.data.synthetic.world import COLORS, KINDS, ORIGINS, SIZES, Entity

YES_NO = ("yes", "no")


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


@dataclass(frozen=True)
class SyntheticTask:
    """One task: ``answer`` maps a structured input to the reference answer text.

    ``balanced`` asks the sampler to draw each answer equally often (by rejection from the
    family pool) for tasks whose natural answer rate is lopsided. ``form`` is how an input is
    written (``contents.render``; empty: the family's name) and ``lexicons`` names the word set
    of each entity position (empty: every entity from the common world); both matter only
    for the mix zoo (``mix_tasks.py``), where some families have inputs of their own.
    """

    name: str
    family: str
    split: Split
    answer: Callable[[Content], str]
    choices: tuple[str, ...]  # empty: exact match
    description: str
    balanced: bool = False
    form: str = ""
    lexicons: tuple[str, ...] = ()

    @property
    def input_form(self) -> str:
        """The input's written form (thing, check, pair or list)."""
        return self.form or self.family


def _read(position: int, aspect: str) -> Callable[[Content], str]:
    """Answer = the value of ``aspect`` of the entity at ``position``."""
    return lambda content: content.entities[position].value(aspect)


def _ask(position: int, test: Callable[[Entity], bool]) -> Callable[[Content], str]:
    """Answer = yes/no: does the entity at ``position`` pass ``test``."""
    return lambda content: _yes_no(test(content.entities[position]))


def _alive(entity: Entity) -> bool:
    return entity.alive


def _big(entity: Entity) -> bool:
    return entity.big


def _task(name, family, split, answer, choices, description, balanced=False) -> SyntheticTask:
    return SyntheticTask(name, family, split, answer, choices, description, balanced)


TASKS: tuple[SyntheticTask, ...] = (
    # thing: one entity, which of its four features
    _task("thing_kind", "thing", "heldin", _read(0, "kind"), KINDS, "the entity's kind"),
    _task("thing_color", "thing", "heldin", _read(0, "color"), COLORS, "the entity's color"),
    _task("thing_size", "thing", "heldin", _read(0, "size"), SIZES, "the entity's size"),
    _task("thing_origin", "thing", "heldin", _read(0, "origin"), ORIGINS,
          "the region the entity comes from"),
    # check: one entity, a yes/no property
    _task("check_alive", "check", "heldin", _ask(0, _alive), YES_NO,
          "is the entity an animal or a plant"),
    _task("check_big", "check", "heldin", _ask(0, _big), YES_NO, "is the entity large or huge"),
    _task("check_red", "check", "heldin", _ask(0, lambda e: e.color == "red"), YES_NO,
          "is the entity red", balanced=True),
    _task("check_north", "check", "heldin", _ask(0, lambda e: e.origin == "north"), YES_NO,
          "does the entity come from the north", balanced=True),
    # pair: two entities, a feature of one of them
    _task("pair_first_kind", "pair", "heldin", _read(0, "kind"), KINDS, "the first entity's kind"),
    _task("pair_second_color", "pair", "heldin", _read(1, "color"), COLORS,
          "the second entity's color"),
    _task("pair_first_big", "pair", "heldin", _ask(0, _big), YES_NO, "is the first entity big"),
    _task("pair_second_alive", "pair", "heldin", _ask(1, _alive), YES_NO,
          "is the second entity alive"),
    # list: three entities, a feature of the first one (kind and color: exact match of the word)
    _task("list_first_kind", "list", "heldin", _read(0, "kind"), (),
          "the first item's kind (exact match)"),
    _task("list_first_color", "list", "heldin", _read(0, "color"), (),
          "the first item's color (exact match)"),
    _task("list_first_size", "list", "heldin", _read(0, "size"), SIZES,
          "the first item's size (4-way)"),
    _task("list_first_origin", "list", "heldin", _read(0, "origin"), ORIGINS,
          "the first item's region (4-way)"),
    # held-out: related skills and compositions of two held-in skills
    _task("check_big_animal", "check", "heldout",
          _ask(0, lambda e: e.kind == "animal" and e.big), YES_NO,
          "composition: thing_kind + check_big", balanced=True),
    _task("check_blue", "check", "heldout", _ask(0, lambda e: e.color == "blue"), YES_NO,
          "related: thing_color asked as check_red asks", balanced=True),
    _task("pair_second_kind", "pair", "heldout", _read(1, "kind"), KINDS,
          "related: pair_first_kind's skill on the second entity"),
    _task("pair_first_color", "pair", "heldout", _read(0, "color"), COLORS,
          "related: pair_second_color's skill on the first entity"),
    _task("pair_both_big", "pair", "heldout",
          lambda c: _yes_no(c.entities[0].big and c.entities[1].big), YES_NO,
          "composition: pair_first_big on both entities", balanced=True),
    _task("list_second_color", "list", "heldout", _read(1, "color"), (),
          "related: list_first_color's skill on the second item (exact match)"),
)

assert all(len(values) == 4 for values in (KINDS, COLORS, SIZES, ORIGINS))
