"""The pipeline: stages in order, each skipped when its artifacts are current (resumable).

    backbone -> [import] -> experts -> gates -> prototypes -> describe -> eval

``import`` (existing experts: PEFT adapters, released GLIDER / Phatgoose checkpoints) is a
build stage outside the default ``library.build_stages``; ``stage=import`` runs it alone.

``stage=all`` builds whatever is missing of the library, then evaluates. Building holds
an inter-process lock on the library, so two runs never build the same library at once
(the second waits, then finds everything current and reuses it). Holding the lock, a build
first finishes or removes what a killed build left half-written (temp files and folders).
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from glider.errors import ConfigError
from glider.stage_names import BUILD_STAGE_NAMES, STAGE_NAMES, check_stage
from glider.io import recover_interrupted_writes
from glider.locking import build_lock
from glider.stages.backbone_stage import run_backbone
from glider.stages.context import StageContext
from glider.stages.describe_stage import run_describe
from glider.stages.eval_stage import EvalResult, run_eval
from glider.stages.experts_stage import run_experts
from glider.stages.gates_stage import run_gates
from glider.stages.import_stage import run_import
from glider.stages.prototypes_stage import run_prototypes

log = logging.getLogger("glider")

BUILD_STAGES: dict[str, Callable[[StageContext], object]] = {
    "backbone": run_backbone,
    "import": run_import,
    "experts": run_experts,
    "gates": run_gates,
    "prototypes": run_prototypes,
    "describe": run_describe,
}
assert tuple(BUILD_STAGES) == BUILD_STAGE_NAMES
DEFAULT_BUILD_STAGES = ["backbone", "experts", "gates", "prototypes", "describe"]
STAGES = list(STAGE_NAMES)
DATA_STAGES = ("all", "eval", "experts", "gates")


# the build stages that load the backbone: with a tiny backbone (built here) it is built first, whatever the stage list
NEEDS_BACKBONE = ("backbone", "import", "experts", "gates")


def build_library(ctx: StageContext, stages: list[str]) -> None:
    """Run the named build stages under the library lock (a tiny backbone first, under a lock of its own)."""
    if ctx.model_cfg.source == "tiny" and any(s in NEEDS_BACKBONE for s in stages):
        run_backbone(ctx)  # skipped when current
        stages = [s for s in stages if s != "backbone"]
    if not stages:
        return
    ctx.library_dir.mkdir(parents=True, exist_ok=True)
    with build_lock(ctx.library_dir / ".lock", f"library {ctx.library_dir}", ctx.cfg.library.get("lock_timeout_s")):
        recover_interrupted_writes(ctx.library_dir, recursive=True)
        for stage in stages:
            t0 = time.time()
            BUILD_STAGES[stage](ctx)
            log.info("stage %s: %.1f s", stage, time.time() - t0)


def run_pipeline(ctx: StageContext) -> EvalResult | None:
    """Run ``cfg.stage`` (default ``all``)."""
    stage = str(ctx.cfg.stage)
    check_stage(stage)
    if stage in DATA_STAGES:
        ctx.source.check_available()  # no data at all: one clear error before any work
    if stage == "eval":
        return run_eval(ctx)
    if stage != "all":
        build_library(ctx, [stage])
        return None
    build = list(ctx.cfg.library.get("build_stages", DEFAULT_BUILD_STAGES))
    unknown = [s for s in build if s not in BUILD_STAGES]
    if unknown:
        raise ConfigError(f"library.build_stages names unknown stage(s) {unknown}. Choose from: {', '.join(BUILD_STAGES)}.")
    build_library(ctx, build)
    return run_eval(ctx)
