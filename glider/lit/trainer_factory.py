"""Lightning Trainers for the pipeline's stages, from the ``trainer`` config group."""

from __future__ import annotations

import logging
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar

from glider.errors import ConfigError
from glider.lit.ddp import strategy_from_config


def quiet_lightning() -> None:
    """Keep Lightning's per-Trainer banners (GPU available, model summary...) out of the console."""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda", "lightning.fabric.utilities.seed"):
        logging.getLogger(name).setLevel(logging.WARNING)


def training_trainer(trainer_cfg: Any, max_steps: int, description: str | None = None) -> L.Trainer:
    """A Trainer for ``max_steps`` optimiser steps, no checkpoints or loggers (artifacts are saved by the stage).

    Build stages train in one process (``trainer.train_devices: 1``, every trainer config): an
    expert is a small LoRA job, and under DDP the ranks share the library lock instead, so one
    process builds and the others reuse what it built (docs/scale.md).
    """
    quiet_lightning()
    devices = trainer_cfg.get("train_devices", 1)
    if devices != 1:
        raise ConfigError(
            f"trainer.train_devices={devices}: the build stages (backbone, experts, gates) train in one process; "
            "DDP trainers evaluate on all devices and build the library once. Set trainer.train_devices=1."
        )
    return L.Trainer(
        accelerator=trainer_cfg.get("accelerator", "cpu"),
        devices=1,
        precision=trainer_cfg.get("precision", "32-true"),
        max_steps=max_steps,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        log_every_n_steps=max(1, min(50, max_steps // 4)),
        enable_progress_bar=trainer_cfg.get("progress_bar", True),
        callbacks=[TQDMProgressBar(refresh_rate=trainer_cfg.get("progress_refresh", 20))] if trainer_cfg.get("progress_bar", True) else [],
        num_sanity_val_steps=0,
        deterministic=trainer_cfg.get("deterministic", False),
    )


def evaluation_trainer(trainer_cfg: Any, logger: Any, callbacks: list[L.Callback] | None = None) -> L.Trainer:
    """The eval Trainer: every device of ``trainer`` (DDP relaunching the Hydra job), no distributed sampler (glider's
    :class:`~glider.data.eval_data.TaskBatchSampler` shards exactly), inference mode; ``callbacks`` (router=lorahub's search)."""
    quiet_lightning()
    return L.Trainer(
        accelerator=trainer_cfg.get("accelerator", "cpu"),
        devices=trainer_cfg.get("devices", 1),
        num_nodes=trainer_cfg.get("num_nodes", 1),
        strategy=strategy_from_config(trainer_cfg),
        precision=trainer_cfg.get("eval_precision", trainer_cfg.get("precision", "32-true")),
        logger=logger if logger is not None else False,
        use_distributed_sampler=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=trainer_cfg.get("progress_bar", True),
        callbacks=list(callbacks or []),
        inference_mode=True,
        deterministic=trainer_cfg.get("deterministic", False),  # trainer.deterministic=true: bitwise-reproducible GPU evaluation too
    )
