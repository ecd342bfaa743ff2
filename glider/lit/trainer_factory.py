"""Lightning Trainers for the pipeline's stages, from the ``trainer`` config group.

``conf/trainer/*.yaml`` is a partial ``lightning.pytorch.Trainer`` (``_target_``, ``_partial_``):
any Trainer argument set there or on the command line reaches every stage's Trainer, except
the ones a stage sets itself (below). Four keys are glider's own and are read here:
``train_devices``, ``eval_precision``, ``progress_bar``, ``progress_refresh``.
"""

from __future__ import annotations

import logging
from typing import Any

import hydra
import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar
from omegaconf import DictConfig, OmegaConf

from glider.errors import ConfigError

GLIDER_KEYS = ("train_devices", "eval_precision", "progress_bar", "progress_refresh")


def quiet_lightning() -> None:
    """Keep Lightning's per-Trainer banners (GPU available, model summary...) out of the console."""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda", "lightning.fabric.utilities.seed"):
        logging.getLogger(name).setLevel(logging.WARNING)


def build_trainer(trainer_cfg: Any, callbacks: list[L.Callback] | None = None, **stage: Any) -> L.Trainer:
    """The configured Trainer with the stage's own arguments on top (``stage`` wins over the config)."""
    quiet_lightning()
    cfg = OmegaConf.to_container(trainer_cfg, resolve=True) if isinstance(trainer_cfg, DictConfig) else dict(trainer_cfg)
    own = {key: cfg.pop(key) for key in GLIDER_KEYS if key in cfg}
    configured = list(hydra.utils.instantiate(cfg.pop("callbacks", None) or []))
    progress = bool(own.get("progress_bar", True))
    if progress:
        configured.append(TQDMProgressBar(refresh_rate=int(own.get("progress_refresh") or 20)))
    partial = hydra.utils.instantiate(cfg)
    return partial(**{"enable_progress_bar": progress, "callbacks": configured + list(callbacks or []), **stage})


def training_trainer(trainer_cfg: Any, max_steps: int, description: str | None = None) -> L.Trainer:
    """A Trainer for ``max_steps`` optimiser steps, no checkpoints or loggers (artifacts are saved by the stage).

    Build stages train in one process (``trainer.train_devices: 1``, every trainer config): an
    expert is a small LoRA job, and under DDP the ranks share the library lock instead, so one
    process builds and the others reuse what it built (docs/scale.md).
    """
    devices = trainer_cfg.get("train_devices", 1)
    if devices != 1:
        raise ConfigError(
            f"trainer.train_devices={devices}: the build stages (backbone, experts, gates) train in one process; "
            "DDP trainers evaluate on all devices and build the library once. Set trainer.train_devices=1."
        )
    return build_trainer(
        trainer_cfg,
        devices=1,
        num_nodes=1,
        strategy="auto",
        max_steps=max_steps,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        log_every_n_steps=max(1, min(50, max_steps // 4)),
        num_sanity_val_steps=0,
    )


def evaluation_trainer(trainer_cfg: Any, logger: Any, callbacks: list[L.Callback] | None = None) -> L.Trainer:
    """The eval Trainer: every device of ``trainer`` (DDP relaunching the Hydra job), no distributed sampler (glider's
    :class:`~glider.data.eval_data.TaskBatchSampler` shards exactly), inference mode; ``callbacks`` (router=lorahub's search)."""
    precision = trainer_cfg.get("eval_precision") or trainer_cfg.get("precision", "32-true")
    return build_trainer(
        trainer_cfg,
        callbacks,
        precision=precision,
        logger=logger if logger is not None else False,
        use_distributed_sampler=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        inference_mode=True,
    )
