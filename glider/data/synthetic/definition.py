"""What makes one synthetic zoo: its tasks, their instructions, its lexicons and its pretraining.

Two zoos share every piece of machinery (world, sampling, tokenizer, pretraining objective,
``SyntheticZoo``) and differ only in these definitions:

- ``SHARED_POOLS`` (``task=synthetic``): four families whose tasks share their inputs;
- ``MIX`` (``task=synthetic_mix``): shared-pool families plus own-input families with
  lexicons and dialects of their own, and held-out tasks that need the local router
  (``mix_tasks.py``, docs/synthetic-mix.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

from glider.data.synthetic.contents import FAMILIES
from glider.data.synthetic.lexicons import build_lexicons
from glider.data.synthetic.mix_paraphrases import MIX_PARAPHRASES
from glider.data.synthetic.mix_tasks import MIX_TASKS
from glider.data.synthetic.paraphrases import PARAPHRASES
from glider.data.synthetic.tasks import TASKS, SyntheticTask
from glider.data.synthetic.world import COMMON, World, build_world


@dataclass(frozen=True)
class ZooDefinition:
    """One zoo. ``version`` keys the artifacts built from it (bump it when anything here changes).

    ``worlds`` gives each lexicon's world (the common one at least); ``lexicon_codes`` makes
    the pretraining target name each entity's lexicon and draws pretraining inputs from
    every lexicon (``pretrain.sample_lexicon_pretrain_pair``); ``own_script`` writes every
    input that names an own-lexicon entity in its lexicon's script (``lexicons.write``).
    """

    name: str
    version: str
    tasks: tuple[SyntheticTask, ...]
    paraphrases: Mapping[str, tuple[str, ...]]
    worlds: Callable[[], Mapping[str, World]]
    pretrain_forms: tuple[str, ...] = FAMILIES
    lexicon_codes: bool = False
    own_script: bool = False


def _common_only() -> Mapping[str, World]:
    return {COMMON: build_world()}


SHARED_POOLS = ZooDefinition("synthetic", "2", TASKS, PARAPHRASES, _common_only)
MIX = ZooDefinition("mix", "1", MIX_TASKS, MIX_PARAPHRASES, build_lexicons, lexicon_codes=True, own_script=True,
                    pretrain_forms=("thing", "check", "pair"))
ZOOS: dict[str, ZooDefinition] = {zoo.name: zoo for zoo in (SHARED_POOLS, MIX)}
