"""Stage `prototypes`: Arrow prototypes for every expert (no training)."""

from __future__ import annotations

import logging

from glider.library.library import ExpertLibrary
from glider.routers.arrow import arrow_prototype
from glider.stages.context import StageContext

log = logging.getLogger("glider")


def run_prototypes(ctx: StageContext) -> None:
    """Stage `prototypes`: Arrow prototypes (top right singular vector of B A per module); no training."""
    library: ExpertLibrary = ctx.open_library()
    done = 0
    for name in library.names:
        card = library.card(name)
        fps = card.get("fingerprints", {})
        want = fps.get("expert") or fps.get("import", "")
        if fps.get("prototypes") == want and want:
            continue
        expert = library.load(name, with_keys=True)
        expert.prototypes = {m: arrow_prototype(expert.lora_A[m], expert.lora_B[m]) for m in expert.lora_A}
        library.save_routing_keys(expert)
        fps["prototypes"] = want
        library.update_card(name, fingerprints=fps)
        done += 1
    log.info("prototypes: computed for %d expert(s), %d already current", done, len(library) - done)
