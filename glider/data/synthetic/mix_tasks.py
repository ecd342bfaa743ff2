"""The tasks of the mix zoo (``task=synthetic_mix``): where both of GLIDER's routers matter.

Held-in (12 experts):

- three **shared-pool** families of the common world (thing, check, pair; three tasks each):
  the tasks of a family share their inputs, so only the instruction tells them apart
  (the global router is needed; token-level routing finds the family, not the task);
- three **own-input** families, one task each, whose inputs name entities of their own
  lexicon and whose answers are in their own dialect (``lexicons.py``). Each is the *twin*
  of a shared-pool task: the same instruction wordings and input form, so the global
  router cannot tell the two apart (only the entity words differ, which a sentence
  embedder barely sees), while the tiny T5's tokens can: the local router is needed.

Held-out (no expert):

- (a) an own lexicon's input in another family's form, asked in that family's style, so
  the instruction points the global router at a shared-pool expert that answers in the
  common words; only the own-input expert (found from the input's tokens) speaks the
  dialect the answer is in;
- (b) a pair whose entities come from two own lexicons, answered in both dialects (the
  first entity's answer, then the second's): each answer word needs a different expert,
  so per-token mixing can do what no single expert does.

Every task is scored by rank classification. Design and expectations: docs/synthetic-mix.md.
"""

from __future__ import annotations

from itertools import product
from typing import Callable

from glider.data.synthetic.contents import Content
from glider.data.synthetic.lexicons import DIALECTS
from glider.data.synthetic.tasks import YES_NO, SyntheticTask, _alive, _ask, _big, _read, _yes_no
from glider.data.synthetic.world import COLORS, KINDS, SIZES, Entity

Feature = Callable[[Entity], str]  # an entity's canonical answer value


def _kind(entity: Entity) -> str:
    return entity.kind


def _color(entity: Entity) -> str:
    return entity.color


def _is_big(entity: Entity) -> str:
    return _yes_no(entity.big)


# what each own lexicon's family asks, and the values its dialect has words for
OWN_FEATURE: dict[str, tuple[Feature, tuple[str, ...]]] = {
    "zar": (_kind, KINDS),
    "mip": (_is_big, YES_NO),
    "tol": (_color, COLORS),
}


def _dialect(lexicon: str, position: int) -> Callable[[Content], str]:
    """Answer = the own feature of the entity at ``position``, in ``lexicon``'s dialect."""
    feature, _ = OWN_FEATURE[lexicon]
    return lambda content: DIALECTS[lexicon].say(feature(content.entities[position]))


def _dialect_choices(lexicon: str) -> tuple[str, ...]:
    return DIALECTS[lexicon].choices(OWN_FEATURE[lexicon][1])


def _two_dialects(first: str, second: str) -> Callable[[Content], str]:
    """Answer = the entity's answer to ``first``'s question in its dialect, then to ``second``'s in its dialect."""
    one, two = _dialect(first, 0), _dialect(second, 0)
    return lambda content: f"{one(content)} {two(content)}"


def _two_dialect_choices(first: str, second: str) -> tuple[str, ...]:
    return tuple(f"{a} {b}" for a, b in product(_dialect_choices(first), _dialect_choices(second)))


def _both(first: str, second: str, form: str, lexicons: tuple[str, ...], description: str) -> SyntheticTask:
    """A held-out (b) task: two questions about one entity, ``first``'s then ``second``'s, each in its family's dialect."""
    return SyntheticTask(f"{first}_{second}_both", "dialects", "heldout", _two_dialects(first, second),
                         _two_dialect_choices(first, second), f"(b) {description}", form=form, lexicons=lexicons)


def _own(name: str, lexicon: str, form: str, twin: str, description: str) -> SyntheticTask:
    """A held-in own-input task: ``lexicon``'s entities in ``form``, answered in its dialect (twin: ``twin``)."""
    position = 1 if form == "pair" else 0
    count = 2 if form == "pair" else 1
    return SyntheticTask(name, lexicon, "heldin", _dialect(lexicon, position), _dialect_choices(lexicon),
                         f"{description} (twin of {twin})", form=form, lexicons=(lexicon,) * count)


MIX_TASKS: tuple[SyntheticTask, ...] = (
    # shared pools of the common world: only the instruction tells the tasks of a family apart
    SyntheticTask("thing_kind", "thing", "heldin", _read(0, "kind"), KINDS, "the entity's kind"),
    SyntheticTask("thing_color", "thing", "heldin", _read(0, "color"), COLORS, "the entity's color"),
    SyntheticTask("thing_size", "thing", "heldin", _read(0, "size"), SIZES, "the entity's size"),
    SyntheticTask("check_alive", "check", "heldin", _ask(0, _alive), YES_NO, "is the entity an animal or a plant"),
    SyntheticTask("check_big", "check", "heldin", _ask(0, _big), YES_NO, "is the entity large or huge"),
    SyntheticTask("check_red", "check", "heldin", _ask(0, lambda e: e.color == "red"), YES_NO, "is the entity red",
                  balanced=True),
    SyntheticTask("pair_first_kind", "pair", "heldin", _read(0, "kind"), KINDS, "the first entity's kind"),
    SyntheticTask("pair_second_color", "pair", "heldin", _read(1, "color"), COLORS, "the second entity's color"),
    SyntheticTask("pair_first_big", "pair", "heldin", _ask(0, _big), YES_NO, "is the first entity big"),
    # own inputs: a lexicon of their own, answers in their own dialect, a shared-pool twin's instructions
    _own("zar_kind", "zar", "thing", "thing_kind", "a zar entity's kind, in the zar dialect"),
    _own("mip_big", "mip", "check", "check_big", "is a mip entity big, in the mip dialect"),
    _own("tol_second_color", "tol", "pair", "pair_second_color", "the second tol entity's color, in the tol dialect"),
    # held-out (a): an own lexicon's input in another family's form, asked in that family's style
    SyntheticTask("zar_kind_check", "zar", "heldout", _dialect("zar", 0), _dialect_choices("zar"),
                  "(a) zar_kind's skill, written and asked as a check", form="check", lexicons=("zar",)),
    SyntheticTask("mip_big_word", "mip", "heldout", _dialect("mip", 0), _dialect_choices("mip"),
                  "(a) mip_big's skill, written and asked as a thing question", form="thing", lexicons=("mip",)),
    # held-out (b): two questions about one entity, each answered in another family's dialect
    _both("zar", "mip", "thing", ("zar",), "zar_kind + mip_big on one zar entity (one-word form)"),
    _both("mip", "zar", "check", ("mip",), "mip_big + zar_kind on one mip entity (check form)"),
)
