"""router=lorahub's searches inside the eval Trainer: once per task and seed, on rank 0, broadcast to every process.

At ``on_test_start`` (the process group exists, the model is on its device), for each task in
turn: rank 0 reuses the stored search of the run directory (``lorahub/<task>.json``, when its
key matches) or searches (glider/lit/lorahub_search.py) and stores it atomically; the record is
broadcast and every process writes the composition into the task's slot (a user error in rank
0's search is broadcast instead, and every process raises it). Rank 0 logs each
search and, at the end, the weights and loss curves to the run's logger (W&B tables).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import lightning as L
import pandas as pd

from glider.data.collate import Seq2SeqCollator
from glider.data.spec import Example
from glider.errors import GliderError
from glider.io import atomic_write_json, read_json
from glider.library.expert import Expert
from glider.lit.lorahub_search import FewShotLoss, SearchRecord, search_task
from glider.moe.lorahub_slots import SlotComposer
from glider.routers.lorahub import LoraHubSettings

log = logging.getLogger("glider")


@dataclass
class TaskSearch:
    """One task's search inputs (the same on every process)."""

    task: str
    slot: int  # the task's composed expert in the routed model
    experts: list[int]  # the M sampled experts (library indices, in sampled order)
    examples: list[Example]  # few-shot examples, never evaluated ones
    example_split: str  # "train" or "validation"
    key: str  # identity of these inputs (a stored search is reused only under the same key)


def record_path(run_dir: Path, task: str) -> Path:
    return run_dir / "lorahub" / (re.sub(r"[^A-Za-z0-9_.-]", "_", task) + ".json")


class LoraHubSearchCallback(L.Callback):
    """Searches (or reuses) every task's composition before the test loop; ``records`` holds them afterwards."""

    def __init__(self, searches: list[TaskSearch] | Callable[[], list[TaskSearch]], library: list[Expert], scale: float,
                 settings: LoraHubSettings, seed: int, run_dir: Path, collator: Seq2SeqCollator, batch_size: int) -> None:
        """``searches``: the tasks' search inputs, or what makes them when the test starts (after the data is set up)."""
        self.plan = searches if callable(searches) else (lambda: searches)
        self.searches: list[TaskSearch] = []
        self.library, self.scale, self.settings, self.seed = library, scale, settings, seed
        self.run_dir, self.collator, self.batch_size = run_dir, collator, batch_size
        self.records: dict[str, SearchRecord] = {}
        self.reused: list[str] = []

    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        routed = pl_module.routed
        self.searches = self.plan()
        for i, search in enumerate(self.searches, 1):
            composer = SlotComposer(routed.layers, [self.library[j] for j in search.experts], self.scale)
            record: SearchRecord | GliderError | None = None
            if trainer.is_global_zero:
                try:
                    record = self._stored(search) or self._search(search, routed, composer, trainer, f"{i}/{len(self.searches)}")
                except GliderError as err:  # e.g. every candidate non-finite: every process stops with the same message
                    record = err
            record = trainer.strategy.broadcast(record, src=0)
            if isinstance(record, GliderError):
                raise record
            composer.write(search.slot, record.weights)
            self.records[search.task] = record
        if trainer.is_global_zero and trainer.logger is not None:
            log_searches(trainer.logger, list(self.records.values()))

    def _stored(self, search: TaskSearch) -> SearchRecord | None:
        path = record_path(self.run_dir, search.task)
        if not path.is_file():
            return None
        try:
            record = SearchRecord.from_dict(read_json(path))
        except (OSError, ValueError, TypeError, KeyError) as err:
            log.warning("lorahub: %s is unreadable (%s); searching task %s again", path, err, search.task)
            return None
        if record.key != search.key:
            log.info("lorahub: %s was searched with other inputs (key %s, now %s); searching again", path, record.key, search.key)
            return None
        log.info("lorahub: task %s: reusing the search in %s (objective %.4f)", search.task, path, record.objective)
        self.reused.append(search.task)
        return record

    def _search(self, search: TaskSearch, routed: Any, composer: SlotComposer, trainer: L.Trainer, position: str) -> SearchRecord:
        loss = FewShotLoss(routed, composer, search.slot, search.task, search.examples, self.collator, self.batch_size)
        names = [self.library[j].name for j in search.experts]
        progress = trainer.progress_bar_callback is not None
        record = search_task(loss, self.settings, self.seed, search.key, names, search.example_split, progress=progress)
        atomic_write_json(record_path(self.run_dir, search.task), record.as_dict())
        top = sorted(zip(record.weights, names), key=lambda p: -abs(p[0]))[:3]
        log.info("lorahub: [%s] %s: %d %s examples, %d experts, %d steps: objective %.4f (first candidate) -> %.4f (%.1f s); "
                 "largest |w|: %s",
                 position, search.task, record.examples, record.example_split, len(names), len(record.losses), record.losses[0],
                 record.objective, record.seconds, ", ".join(f"{n} {w:+.2f}" for w, n in top))
        return record


def log_searches(logger: Any, records: list[SearchRecord]) -> None:
    """Each task's objective, and (W&B) tables of the weights and of the loss curves."""
    logger.log_metrics({f"lorahub/{r.task}/objective": r.objective for r in records})
    if hasattr(logger, "log_table"):
        weights = pd.DataFrame([{"task": r.task, "expert": e, "weight": w} for r in records for e, w in zip(r.experts, r.weights)])
        curves = pd.DataFrame([{"task": r.task, "step": s, "objective": v} for r in records for s, v in enumerate(r.losses)])
        logger.log_table(key="lorahub/weights", dataframe=weights)
        logger.log_table(key="lorahub/loss_curves", dataframe=curves.astype({"objective": float}))
