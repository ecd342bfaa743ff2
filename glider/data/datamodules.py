"""LightningDataModules over a TaskSource: one for training (expert, gate, backbone) and one for evaluation.

Every stage gets its data through these; the source behind them may be the synthetic zoo,
T0/P3, FLAN, BIG-bench or local files. ``prepare_data`` asks the source to download and
cache what the stage needs (Lightning runs it once per node, on local rank 0, before the
processes meet); ``setup`` then builds the examples in every process from that cache. A
data error in ``prepare_data`` is left for ``setup`` to raise in every process alike (a lone
failing rank 0 would leave the others waiting at the rendezvous).

Evaluation batches never mix tasks and are sharded exactly across processes (every
example once, no padding): :class:`~glider.data.eval_data.TaskBatchSampler`.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import lightning as L
import torch
from torch.utils.data import DataLoader

from glider.data.collate import EvalCollator, Seq2SeqCollator
from glider.data.eval_data import EvalItems, TaskBatchSampler
from glider.data.source import TaskSource, check_examples
from glider.data.spec import Example, TaskSpec
from glider.errors import GliderError

log = logging.getLogger("glider")

ItemBuilder = Callable[[dict[str, list[Example]]], list[dict[str, Any]]]  # examples per task -> eval items (+ query embeddings)


def _prepare(source: TaskSource, tasks: list[str], training: bool) -> None:
    try:
        source.prepare_data(tasks, training)
    except GliderError as err:  # raised again by setup, in every process
        log.warning("data: preparing %s left an error for setup to report: %s", ", ".join(tasks) or source.name, str(err).split(". ")[0])


class TrainingDataModule(L.LightningDataModule):
    """(source, target) pairs for one training job, shuffled by a seeded generator.

    ``task`` set: up to ``n`` training examples of that task (expert and gate training);
    ``task`` None: ``n`` pairs of the source's generic pretraining objective (tiny backbone).
    """

    def __init__(self, source: TaskSource, task: str | None, n: int, seed: int, collator: Seq2SeqCollator, batch_size: int,
                 shuffle_seed: int | None = None) -> None:
        super().__init__()
        self.source, self.task, self.n, self.seed = source, task, int(n), int(seed)
        self.collator, self.batch_size = collator, int(batch_size)
        self.shuffle_seed = self.seed if shuffle_seed is None else int(shuffle_seed)
        self.examples: list[Example] | None = None
        self.pairs: list[tuple[str, str]] | None = None

    def prepare_data(self) -> None:
        if self.task is not None:
            _prepare(self.source, [self.task], training=True)

    def setup(self, stage: str | None = None) -> None:
        if self.pairs is not None:
            return
        if self.task is None:
            self.pairs = self.source.pretrain_pairs(self.n, self.seed)
            return
        self.examples = check_examples(self.source.task(self.task), self.source.train_examples(self.task, self.n, self.seed), "training")
        self.pairs = [(e.source, e.target) for e in self.examples]

    def train_dataloader(self) -> DataLoader:
        assert self.pairs is not None, "setup() first"
        return DataLoader(self.pairs, batch_size=self.batch_size, shuffle=True, collate_fn=self.collator,
                          generator=torch.Generator().manual_seed(self.shuffle_seed))


class EvalDataModule(L.LightningDataModule):
    """The evaluation examples of ``tasks`` (up to ``n`` each), as items for the evaluator, in task-homogeneous batches."""

    def __init__(self, source: TaskSource, tasks: list[TaskSpec], n: int, seed: int, collator: EvalCollator, batch_size: int,
                 build_items: ItemBuilder | None = None) -> None:
        super().__init__()
        self.source, self.tasks, self.n, self.seed = source, list(tasks), int(n), int(seed)
        self.collator, self.batch_size = collator, int(batch_size)
        self.build_items = build_items or (lambda examples: [{"example": e} for t in self.tasks for e in examples[t.name]])
        self.items: list[dict[str, Any]] | None = None

    def prepare_data(self) -> None:
        _prepare(self.source, [t.name for t in self.tasks], training=False)

    def setup(self, stage: str | None = None) -> None:
        if self.items is not None:
            return
        examples = {t.name: check_examples(t, self.source.eval_examples(t.name, self.n, self.seed), "evaluation") for t in self.tasks}
        self.items = self.build_items(examples)
        log.info("eval: %d tasks, %d examples", len(self.tasks), len(self.items))

    def transfer_batch_to_device(self, batch: dict[str, Any], device: torch.device, dataloader_idx: int) -> dict[str, Any]:
        """Move the tensors; the Example records (frozen dataclasses, which Lightning cannot copy) stay as they are."""
        examples = batch.pop("examples")
        moved = super().transfer_batch_to_device(batch, device, dataloader_idx)
        moved["examples"] = examples
        return moved

    def test_dataloader(self) -> DataLoader:
        assert self.items is not None, "setup() first"
        sampler = TaskBatchSampler([item["example"].task for item in self.items], self.batch_size)
        return DataLoader(EvalItems(self.items), batch_sampler=sampler, collate_fn=self.collator)
