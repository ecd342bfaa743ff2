"""Lightning Trainers for the pipeline's stages, from the ``trainer`` config group."""

from __future__ import annotations

import logging
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar


def quiet_lightning() -> None:
    """Keep Lightning's per-Trainer banners (GPU available, model summary...) out of the console."""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda", "lightning.fabric.utilities.seed"):
        logging.getLogger(name).setLevel(logging.WARNING)


def training_trainer(trainer_cfg: Any, max_steps: int, description: str | None = None) -> L.Trainer:
    """A Trainer for ``max_steps`` optimiser steps, no checkpoints or loggers (artifacts are saved by the stage)."""
    quiet_lightning()
    return L.Trainer(
        accelerator=trainer_cfg.get("accelerator", "cpu"),
        devices=trainer_cfg.get("train_devices", 1),
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
