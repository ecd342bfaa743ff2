"""A task source over raw benchmark rows: local directory first, then the hub, else one clear error.

Train examples come from the task's train split. Evaluation uses a *held part*: a fixed
random subset (the same for every run seed) of the first eval split present; when a
dataset has none of its eval splits, a fixed ``hold_fraction`` of train is held out and
never used for training.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from glider.data.raw_task import RawTask
from glider.data.rows import Rows, find_local_split, hub_disabled, hub_reachable, load_hub_split
from glider.data.source import TaskSource
from glider.data.spec import Example, TaskSpec
from glider.errors import ConfigError, DataError

log = logging.getLogger("glider")

HOLD_SEED = 20241009  # fixes the held part of every task, independent of the run seed
TEMPLATE_VERSION = "1"


class RawTaskSource(TaskSource):
    """Tasks given as ``RawTask`` records (hub id + template); data from ``data_dir`` or the hub."""

    name = "raw"
    family_title = "benchmark"

    def __init__(
        self,
        tasks: list[RawTask],
        data_dir: str | None = None,
        eval_tasks: list[str] | None = None,
        hub: bool = True,
        hold_fraction: float = 0.05,
        max_hold: int = 2000,
        revision: str | None = None,
        only_present: bool | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser() if data_dir else None
        self.hub = bool(hub)
        self.hold_fraction = float(hold_fraction)
        self.max_hold = int(max_hold)
        self.revision = revision
        self._all_tasks = {t.name: t for t in tasks}
        self._tasks = self._present(tasks, only_present)
        unknown = [t for t in (eval_tasks or []) if t not in self._all_tasks]
        if unknown:
            raise ConfigError(f"task.eval_tasks names unknown {self.name} task(s) {unknown}. Known: {', '.join(self._all_tasks)}.")
        self._eval_tasks = [t for t in eval_tasks if t in self._tasks] if eval_tasks else None
        self._rows: dict[tuple[str, str], Rows | None] = {}
        self._order: dict[tuple[str, str], np.ndarray] = {}

    def _present(self, tasks: list[RawTask], only_present: bool | None) -> dict[str, RawTask]:
        """Keep the tasks with local data when asked (True), or by default (None) when the hub cannot fill gaps."""
        keep = only_present if only_present is not None else (self.data_dir is not None and not self.hub_usable())
        if not keep or self.data_dir is None:
            return {t.name: t for t in tasks}
        present = {t.name: t for t in tasks if self.has_local(t)}
        missing = [t.name for t in tasks if t.name not in present]
        if present and missing:
            log.warning("data: %d of %d %s task(s) have no folder under %s and are left out: %s", len(missing), len(tasks),
                        self.family_title, self.data_dir, ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""))
        return present

    def hub_usable(self) -> bool:
        return self.hub and hub_reachable()

    def has_local(self, task: RawTask) -> bool:
        """Whether ``data_dir`` holds a folder for ``task``."""
        directory = self.task_dir(task)
        return directory is not None and directory.is_dir()

    def check_available(self) -> None:
        """One clear DataError when no task of the source can get data (no local folder, no hub)."""
        if self._tasks and (self.hub_usable() or any(self.has_local(t) for t in self._tasks.values())):
            return
        raise self.missing_error(None, "")

    # ------------------------------------------------------------------ tasks
    def tasks(self) -> list[TaskSpec]:
        specs = [t.spec() for t in self._tasks.values()]
        return [s for s in specs if s.split == "heldin"] + [s for s in specs if s.split != "heldin"]

    def raw_task(self, name: str) -> RawTask:
        if name not in self._tasks:
            raise DataError(f"Unknown task '{name}' in task source '{self.name}'. Known tasks: {', '.join(self._tasks)}.")
        return self._tasks[name]

    def eval_tasks(self) -> list[TaskSpec]:
        if self._eval_tasks is None:
            return self.tasks()
        return [self.task(n) for n in self._eval_tasks]

    def config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "data_dir": str(self.data_dir) if self.data_dir else None,
            "tasks": {n: [t.hub_id, t.hub_config] for n, t in self._tasks.items()},
            "hold": [self.hold_fraction, self.max_hold, HOLD_SEED],
            "templates": TEMPLATE_VERSION,
            "revision": self.revision,
        }

    # ------------------------------------------------------------------ rows
    def task_dir(self, task: RawTask) -> Path | None:
        """Where the local rows of ``task`` live (``data_dir/<task name>/``)."""
        return self.data_dir / task.name if self.data_dir else None

    def layout_help(self) -> str:
        """The expected local layout (named in the missing-data error)."""
        return (
            "data_dir/<task>/<split>.jsonl (or .json / .parquet / <split>-*.parquet shards / a save_to_disk "
            "Dataset in <split>/ / a save_to_disk DatasetDict in data_dir/<task>/), one row per line in the "
            "schema of the task's hub dataset"
        )

    def split_rows(self, task: RawTask, split: str) -> Rows | None:
        """Rows of one split (local directory first, then the hub when allowed); None if absent."""
        key = (task.name, split)
        if key not in self._rows:
            self._rows[key] = self._load(task, split)
        return self._rows[key]

    def _load(self, task: RawTask, split: str) -> Rows | None:
        directory = self.task_dir(task)
        if directory is not None and directory.is_dir():
            return find_local_split(directory, split)
        if self.hub and hub_reachable():
            log.info("data: loading %s split %s from the hub (%s)", task.name, split, task.hub_id)
            return load_hub_split(task.hub_id, task.hub_config, split, self.revision)
        return None

    def missing_error(self, task: RawTask | None, what: str) -> DataError:
        """One clear message: what is missing, where to put it, in which schema (task None: the whole source)."""
        if self.data_dir is None:
            where = "no task.data_dir is set"
        elif not self.data_dir.is_dir():
            where = f"task.data_dir={self.data_dir} does not exist"
        else:
            where = f"task.data_dir={self.data_dir} has no folder for it"
        if hub_disabled():
            hub = "the hub is disabled (HF_HUB_OFFLINE=1), so it was not tried"
        elif not self.hub:
            hub = "hub loading is off (task.hub=false)"
        elif not hub_reachable():
            hub = "the hub is not reachable"
        else:
            hub = f"the hub dataset '{task.hub_id}' lacks it" if task else "the hub did not provide it"
        if task is None:
            names = list(self._tasks or self._all_tasks)
            subject = f"No data for the {self.family_title} tasks ({len(names)}: {', '.join(names[:6])}{' ...' if len(names) > 6 else ''})"
            expected, schema = "", ""
        else:
            subject = f"No {what} data for {self.family_title} task '{task.name}'"
            expected = f" (expected for this task: {self.task_dir(task) or Path('<data_dir>') / task.name}/)"
            schema = f" Rows of '{task.name}' need the fields of {task.hub_id}" + (f" ({task.hub_config})" if task.hub_config else "")
            schema += f": {task.schema}." if task.schema else "."
        return DataError(
            f"{subject}: {where}, and {hub}. Put the data under {self.layout_help()}; then run with "
            f"task.data_dir=/path/to/data{expected}.{schema} See docs/real-benchmarks.md."
        )

    def _permutation(self, task: RawTask, split: str, n_rows: int) -> np.ndarray:
        key = (task.name, split)
        if key not in self._order:
            self._order[key] = np.random.default_rng(HOLD_SEED).permutation(n_rows)
        return self._order[key]

    def _hold_count(self, n_rows: int) -> int:
        return max(1, min(self.max_hold, int(round(n_rows * self.hold_fraction)))) if n_rows > 1 else 0

    def train_pool(self, task: RawTask) -> tuple[Rows, np.ndarray]:
        """Train rows and the indices training may use (the held part of a carved split excluded)."""
        rows = self.split_rows(task, task.train_split) if task.train_split else None
        if rows is None or len(rows) == 0:
            raise self.missing_error(task, f"training ('{task.train_split}' split)")
        if self._eval_split(task) is None:
            order = self._permutation(task, task.train_split, len(rows))
            return rows, order[self._hold_count(len(rows)):]
        return rows, np.arange(len(rows))

    def _eval_split(self, task: RawTask) -> str | None:
        for split in task.eval_splits:
            rows = self.split_rows(task, split)
            if rows is not None and len(rows) > 0:
                return split
        return None

    def eval_pool(self, task: RawTask) -> tuple[Rows, np.ndarray]:
        """Eval rows and the held indices, in their fixed order."""
        split = self._eval_split(task)
        if split is not None:
            rows = self.split_rows(task, split)
            return rows, self._permutation(task, split, len(rows))
        rows = self.split_rows(task, task.train_split) if task.train_split else None
        if rows is None or len(rows) == 0:
            raise self.missing_error(task, f"evaluation ({' / '.join(task.eval_splits)} split)")
        order = self._permutation(task, task.train_split, len(rows))
        return rows, order[: self._hold_count(len(rows))]

    # ------------------------------------------------------------------ examples
    def render(self, task: RawTask, rows: Rows, indices: np.ndarray, n: int) -> list[Example]:
        """Up to n examples from rows at ``indices`` (in order), skipping rows without an answer."""
        out: list[Example] = []
        for index in indices:
            if len(out) >= n:
                break
            row = rows[int(index)]
            try:
                rendered = task.template(row)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
                raise DataError(
                    f"Task '{task.name}': a row does not fit its template ({type(err).__name__}: {err}). "
                    f"Rows must have the fields of {task.hub_id}: {task.schema or 'see docs/real-benchmarks.md'}. "
                    f"Row keys: {sorted(row)}."
                ) from None
            if rendered is not None:
                out.append(rendered.example(task.name, len(out)))
        return out

    def no_choices_message(self, task: RawTask, rows: int) -> str:
        """Why a rank-classification task has no evaluation example: none of its rows has answer choices."""
        return (f"Task '{task.name}' is scored by rank classification but none of its {rows} rows has answer choices "
                f"(at least 2, with the answer among them). Rows must have the fields of {task.hub_id}: "
                f"{task.schema or 'see docs/real-benchmarks.md'}; fix the data in task.data_dir.")

    def train_examples(self, task: str, n: int, seed: int) -> list[Example]:
        raw = self.raw_task(task)
        rows, pool = self.train_pool(raw)
        order = pool[np.random.default_rng(seed).permutation(len(pool))]
        return self.render(raw, rows, order, n)

    def eval_examples(self, task: str, n: int, seed: int) -> list[Example]:
        raw = self.raw_task(task)
        rows, held = self.eval_pool(raw)
        examples = self.render(raw, rows, held, n)
        if not examples and len(held) and raw.metric == "rank_classification":
            raise DataError(self.no_choices_message(raw, len(held)))
        return examples
