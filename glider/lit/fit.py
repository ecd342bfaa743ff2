"""The one fit path of the training stages: backbone pretraining, LoRA experts and Phatgoose gates.

Every one trains whatever parameters of a seq2seq model require grad (``Seq2SeqTrainingModule``:
teacher-forced cross-entropy, AdamW, optional linear warmup) on a ``TrainingDataModule`` (a task's
training examples, or the source's generic pretraining pairs when ``task`` is None), for
``recipe.steps`` optimiser steps, with a Trainer of the ``trainer`` config group.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from glider.data.collate import Seq2SeqCollator
from glider.data.datamodules import TrainingDataModule
from glider.data.source import TaskSource
from glider.data.spec import Example
from glider.lit.seq2seq_training import Seq2SeqTrainingModule
from glider.lit.trainer_factory import training_trainer


@dataclass(frozen=True)
class FitResult:
    """What a fit leaves to its stage: the training examples drawn, the time, the last logged loss."""

    seconds: float
    final_loss: float
    examples: list[Example] = field(default_factory=list)


def fit_seq2seq(model: Any, tokenizer: Any, source: TaskSource, task: str | None, examples: int, seed: int, recipe: Any,
                trainer_cfg: Any, lengths: tuple[int, int]) -> FitResult:
    """Train ``model``'s trainable parameters on ``examples`` pairs of ``task`` (drawn with ``seed``) by ``recipe``
    (``steps``, ``lr``, ``batch_size``; optional ``weight_decay``, ``warmup_steps``); ``lengths``: the collator's
    (max source, max target) tokens."""
    data = TrainingDataModule(source, task, int(examples), seed, batch_size=int(recipe.batch_size),
                              collator=Seq2SeqCollator(tokenizer, int(lengths[0]), int(lengths[1])))
    module = Seq2SeqTrainingModule(model, lr=float(recipe.lr), weight_decay=float(recipe.get("weight_decay", 0.0)),
                                   warmup_steps=int(recipe.get("warmup_steps", 0)))
    start = time.time()
    trainer = training_trainer(trainer_cfg, int(recipe.steps))
    trainer.fit(module, datamodule=data)
    loss = trainer.callback_metrics.get("train/loss")
    return FitResult(seconds=round(time.time() - start, 1), final_loss=float(loss) if loss is not None else math.nan,
                     examples=list(data.examples or []))
