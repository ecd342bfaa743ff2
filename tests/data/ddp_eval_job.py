"""A 2-process DDP evaluation through EvalDataModule (gloo, CPU), run by tests/data/test_datamodules.py.

    python tests/data/ddp_eval_job.py OUT_DIR DATA_DIR

Lightning's DDP starts process 1 by re-running this command line. Each process appends to
OUT_DIR/prepare.log when the source prepares data and to OUT_DIR/setup.log when the
DataModule builds its items, and writes the (task, uid) of every example it evaluated to
OUT_DIR/seen_rank<r>.json.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.strategies import DDPStrategy

from glider.backbone import build_tokenizer
from glider.data.collate import EvalCollator
from glider.data.datamodules import EvalDataModule
from glider.data.spec import Example
from glider.data.t0_source import T0TaskSource

OUT, DATA = Path(sys.argv[1]), sys.argv[2]


def rank() -> str:
    return os.environ.get("LOCAL_RANK", "0")


class RecordingT0(T0TaskSource):
    """The real T0 source over local files; notes each prepare_data call."""

    def prepare_data(self, tasks: list[str], training: bool) -> None:
        with open(OUT / "prepare.log", "a") as f:
            f.write(f"rank {rank()}\n")
        super().prepare_data(tasks, training)


class Recorder(L.LightningModule):
    """Notes the examples each process is given."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
        self.seen: list[tuple[str, int]] = []

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self.seen.extend((e.task, e.uid) for e in batch["examples"])

    def on_test_end(self) -> None:
        (OUT / f"seen_rank{self.global_rank}.json").write_text(json.dumps(self.seen))


def items(examples: dict[str, list[Example]]) -> list[dict[str, Any]]:
    with open(OUT / "setup.log", "a") as f:
        f.write(f"rank {rank()}\n")
    return [{"example": e} for task in examples for e in examples[task]]


def main() -> None:
    source = RecordingT0(splits=["heldin", "heldout"], tasks=["p3agnews", "p3rte"], data_dir=DATA)
    tasks = source.tasks()
    collator = EvalCollator(build_tokenizer("byte", None), {t.name: i for i, t in enumerate(tasks)}, 64, 16)
    data = EvalDataModule(source, tasks, n=100, seed=0, collator=collator, batch_size=3, build_items=items)
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy=DDPStrategy(process_group_backend="gloo"), use_distributed_sampler=False,
                        logger=False, enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False)
    trainer.test(Recorder(), datamodule=data, verbose=False)
    if trainer.is_global_zero:
        (OUT / "expected.json").write_text(json.dumps([(i["example"].task, i["example"].uid) for i in data.items or []]))


if __name__ == "__main__":
    main()
