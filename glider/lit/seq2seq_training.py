"""LightningModule that trains whatever parameters of a seq2seq model require grad.

Used for the tiny backbone's pretraining (all parameters), LoRA experts (LoRA weights
only) and Phatgoose gates (gate vectors only). Loss: token cross-entropy of the target.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn


class Seq2SeqTrainingModule(L.LightningModule):
    """Teacher-forced cross-entropy on (source, target) batches; AdamW with linear warmup."""

    def __init__(self, model: nn.Module, lr: float, weight_decay: float = 0.0, warmup_steps: int = 0) -> None:
        super().__init__()
        self.model = model
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup_steps = warmup_steps

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        loss = self.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]).loss
        self.log("train/loss", loss, prog_bar=True, on_step=True, batch_size=batch["input_ids"].shape[0])
        return loss

    def configure_optimizers(self) -> Any:
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("Nothing to train: no parameter requires grad.")
        optimizer = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        if self.warmup_steps <= 0:
            return optimizer
        warmup = self.warmup_steps
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
