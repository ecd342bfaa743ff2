"""The eval run's logger (``logger=wandb`` or ``csv``): build it, log one run's results, finish it.

One job, one logger run: under a multirun every job logs to (and finishes) its own run, with
its files under the job's directory (W&B offline: ``<job dir>/wandb/offline-run-*``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from glider.hydra_job import hydra_config, job_overrides

WANDB_TARGET = "lightning.pytorch.loggers.WandbLogger"


def make_logger(cfg: DictConfig) -> Any:
    """The configured logger, or None (``logger=null``). W&B runs of one sweep share a group and are named per job."""
    if cfg.get("logger") is None:
        return None
    extra: dict[str, Any] = {}
    hc = hydra_config()
    if cfg.logger.get("_target_") == WANDB_TARGET and hc is not None and hc.mode == RunMode.MULTIRUN:
        extra = {"name": f"{cfg.logger.name}-job{hc.job.num}", "group": Path(str(hc.sweep.dir)).name}
    return hydra.utils.instantiate(cfg.logger, **extra)


def log_run(logger: Any, cfg: DictConfig, frame: pd.DataFrame, averages: dict[str, float], images: list[Path]) -> None:
    """Resolved config, per-task metrics, the results table and routing heatmaps; then finish the run."""
    logger.log_hyperparams({**OmegaConf.to_container(cfg, resolve=True), "overrides": job_overrides()})
    metrics = {f"{row.split}/{row.task}": row.score for row in frame.itertuples() if row.score == row.score}
    metrics.update({k: v for k, v in averages.items() if v == v})
    logger.log_metrics(metrics)
    if hasattr(logger, "log_table"):
        logger.log_table(key="results", dataframe=frame)
    if hasattr(logger, "log_image"):
        for path in images:  # one key per figure: W&B shows same-key images side by side only when sizes match
            logger.log_image(key=f"routing/{path.stem}", images=[str(path)])
    finish(logger)


def finish(logger: Any) -> None:
    """Flush and close the logger's run so the next job of a multirun starts a new one."""
    logger.finalize("success")
    experiment = getattr(logger, "_experiment", None)
    if experiment is not None and hasattr(experiment, "finish"):
        experiment.finish()
