"""Lexicons and dialects of the mix zoo (``task=synthetic_mix``).

A **lexicon** is one more set of 256 entity names over the same feature combinations as the
common world (``world.build_world``): the same CVCVC letter statistics, disjoint words. A
sentence embedder gets no meaning from either set and can barely tell them apart; the tiny
T5's word-level tokens, and its pretraining (which names each entity's lexicon), can.

A **script** is how a lexicon's inputs are cased: an input that names an entity of an own
lexicon is written, instruction included, in that lexicon's script: zar in capitals
(``WHAT KIND OF THING IS THIS? WORD : SIMAB``), mip in title case (``What Kind Of Thing``),
tol inverted (``wHAT kIND oF tHING``); common inputs stay as written. The sentence embedder
is uncased (all-MiniLM-L6-v2 lowercases its input), so it reads every script exactly as
lower case; the tiny T5's word-level tokenizer keeps case, so every token of such an input
is a token of its family's own. This is how the zoo gives some families inputs of their
own that token-level routing can find and the global router cannot.

A **dialect** is how the family of one lexicon answers: a marker word, then one word per
answer value (``zu dap`` = "animal" in the zar dialect). Dialect words appear in no input
and in no pretraining target, so the frozen base never saw them, and no expert but the
lexicon's own can rank them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from glider.data.synthetic.world import COMMON, Entity, World, build_world, every_cvcvc_word, make_world

OWN_LEXICONS = ("zar", "mip", "tol")  # labels of the extra word sets (never written in any text)
_LEXICON_SEED = "glider-zoo-lexicon-v1"
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Dialect:
    """A lexicon family's answer words: ``marker`` then ``words[value]``."""

    marker: str
    words: dict[str, str]

    def say(self, value: str) -> str:
        """The answer text for a canonical value, e.g. ``"animal" -> "zu dap"``."""
        return f"{self.marker} {self.words[value]}"

    def choices(self, values: tuple[str, ...]) -> tuple[str, ...]:
        """Every answer text, in the order of ``values``."""
        return tuple(self.say(v) for v in values)

    def vocabulary(self) -> list[str]:
        return [self.marker, *self.words.values()]


DIALECTS: dict[str, Dialect] = {
    "zar": Dialect("zu", {"animal": "dap", "plant": "fim", "tool": "gol", "mineral": "kes"}),
    "mip": Dialect("mo", {"yes": "tav", "no": "ruk"}),
    "tol": Dialect("ti", {"red": "bes", "blue": "lon", "green": "vak", "yellow": "pim"}),
}


@lru_cache(maxsize=1)
def build_lexicons() -> dict[str, World]:
    """The common world and one world per own lexicon, with pairwise disjoint names (fixed, cached)."""
    worlds = {COMMON: build_world()}
    used = {entity.word for entity in worlds[COMMON].entities}
    rest = [word for word in every_cvcvc_word() if word not in used]
    picked = random.Random(_LEXICON_SEED).sample(rest, len(OWN_LEXICONS) * 256)
    for i, name in enumerate(OWN_LEXICONS):
        worlds[name] = make_world(picked[i * 256 : (i + 1) * 256], lexicon=name)
    return worlds


def _title(word: re.Match[str]) -> str:
    return word.group(0)[:1].upper() + word.group(0)[1:].lower()


def _inverted(word: re.Match[str]) -> str:
    return word.group(0)[:1].lower() + word.group(0)[1:].upper()


SCRIPTS: dict[str, Callable[[str], str]] = {
    "zar": str.upper,
    "mip": lambda text: _WORD.sub(_title, text),
    "tol": lambda text: _WORD.sub(_inverted, text),
}


def script_of(entities: Iterable[Entity]) -> str:
    """The script of an input naming ``entities``: the first own-lexicon entity's, else the common one (as written)."""
    return next((entity.lexicon for entity in entities if entity.lexicon != COMMON), COMMON)


def write(text: str, entities: Iterable[Entity]) -> str:
    """``text`` as an input naming ``entities`` is written (in its script)."""
    script = script_of(entities)
    return text if script == COMMON else SCRIPTS[script](text)


def lexicon_index(name: str) -> int:
    """0 for the common lexicon, 1.. for the own lexicons (the pretraining code's digit)."""
    return (COMMON, *OWN_LEXICONS).index(name)
