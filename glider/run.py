"""Hydra entry point: ``python -m glider.run [stage=...] [router=...] [task=...]``."""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
# conf/hydra/launcher/submitit_*.yaml deliberately share the plugin's names (hydra/launcher=submitit_slurm
# picks glider's defaults); Hydra then validates them against the plugin's schema and warns that it does
warnings.filterwarnings("ignore", message=r"(?s).*is validated against ConfigStore schema with the same name", category=UserWarning)

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from glider.errors import ConfigError, find_user_error  # noqa: E402
from glider.stage_names import check_stage  # noqa: E402

log = logging.getLogger("glider")


def _run(cfg: DictConfig) -> float | None:
    check_stage(str(cfg.stage))
    check_objective(cfg)
    from glider.pipeline import run_pipeline
    from glider.stages.context import StageContext

    threads = cfg.model.get("cpu_threads")
    if threads:  # tiny models: one intra-op thread avoids fork/join stalls on busy CPUs
        import torch

        torch.set_num_threads(int(threads))
    start = time.time()
    result = run_pipeline(StageContext(cfg))
    log.info("done in %.1f s; run directory: %s", time.time() - start, cfg.paths.run_dir)
    if result is None:
        return None
    return objective_value(str(cfg.get("objective", "mean_heldin_heldout")), result)


OBJECTIVES = ("mean_heldin_heldout", "heldin", "tuning")
NO_TUNING_SPLIT = "objective=tuning scores the tuning split: set eval.tuning.examples_per_task to a number of rows (e.g. 50)."


def _known_objective(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, got '{objective}'.")
    return objective


def check_objective(cfg: DictConfig) -> None:
    """One clear error, before any work, for an unknown objective or a tuning objective without a tuning split."""
    from glider.lit.tuning_eval import tuning_rows

    if _known_objective(str(cfg.get("objective", "mean_heldin_heldout"))) == "tuning" and not tuning_rows(cfg):
        raise ConfigError(NO_TUNING_SPLIT)


def objective_value(objective: str, result: Any) -> float | None:
    """What a sweeper maximises: the evaluation examples' averages, or (``tuning``) the tuning split's."""
    if _known_objective(objective) == "tuning":
        if not result.tuning:
            raise ConfigError(NO_TUNING_SPLIT)
        averages = (result.tuning["heldin_avg"], result.tuning["heldout_avg"])
    elif objective == "heldin":
        return result.averages.get("heldin_avg")
    else:
        averages = (result.averages.get("heldin_avg"), result.averages.get("heldout_avg"))
    present = [v for v in averages if v is not None and v == v]
    return sum(present) / len(present) if present else None


def run_cli(cfg: DictConfig) -> float | None:
    """Run the pipeline; a user error (even one wrapped by Hydra or a library) ends as one line and exit 2."""
    try:
        return _run(cfg)
    except Exception as err:
        user = find_user_error(err)
        if user is None:
            raise
        print(f"glider: error: {user}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    """Build what is missing of the library, evaluate, write tables and heatmaps."""
    return run_cli(cfg)


if __name__ == "__main__":
    main()
