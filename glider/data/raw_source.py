"""A task source over raw benchmark rows: local directory first, then the hub, else one clear error.

Train examples are (row, template) pairs drawn from the task's train split x its train
templates. Evaluation follows the original GLIDER code: the first eval split present (or
rows carved from the end of train) less its last ``val_fraction`` (the original's
validation part), and of that at most ``n`` rows drawn with a fixed seed (the same for
every run seed), each with its template(s). A source with no eval split at all (FLAN)
holds out a fixed ``hold_fraction`` of train, never used for training.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from glider.data.raw_task import RawTask, Template
from glider.data.rows import Rows, find_local_split, hub_disabled, hub_reachable, load_hub_split
from glider.data.source import TaskSource
from glider.data.spec import Example, TaskSpec
from glider.errors import ConfigError, DataError

log = logging.getLogger("glider")

HOLD_SEED = 20241009  # fixes the held part of train (sources without an eval split), independent of the run seed
EVAL_SEED = 42  # the original's dataset seed: which rows of a large eval pool are evaluated
FULL_PERMUTATION = 5_000_000  # rows x templates up to this are shuffled in full; larger products are sampled
TEMPLATE_VERSION = "2"


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

    def prepare_data(self, tasks: list[str], training: bool) -> None:
        """Load (hub: download into the datasets cache) the rows training or evaluation of ``tasks`` reads;
        every task is tried, then the first error is raised."""
        errors: list[DataError] = []
        for name in tasks:
            raw = self.raw_task(name)
            try:
                self.train_pool(raw) if training else self.eval_pool(raw)
            except DataError as err:
                errors.append(err)
        if errors:
            raise errors[0]

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

    def _train_rows(self, task: RawTask, what: str) -> Rows:
        rows = self.split_rows(task, task.train_split) if task.train_split else None
        if rows is None or len(rows) == 0:
            raise self.missing_error(task, what)
        return rows

    def train_pool(self, task: RawTask) -> tuple[Rows, np.ndarray]:
        """Train rows and the indices training may use (the rows held for evaluation excluded)."""
        rows = self._train_rows(task, f"training ('{task.train_split}' split)")
        if task.carve_eval_rows:
            return rows, np.arange(max(0, len(rows) - task.carve_eval_rows))
        if not task.eval_splits:
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
        """Eval rows and the indices evaluation may use, in their fixed order.

        The original's rule: the task's eval split (or the rows carved from the end of train),
        less its last ``val_fraction`` (the original's validation part). A source without any eval split
        (FLAN) holds out a fixed random ``hold_fraction`` of train instead.
        """
        if task.carve_eval_rows:
            rows = self._train_rows(task, f"evaluation (the last {task.carve_eval_rows} rows of '{task.train_split}')")
            base = np.arange(max(0, len(rows) - task.carve_eval_rows), len(rows))
        elif task.eval_splits:
            split = self._eval_split(task)
            if split is None:
                raise self.missing_error(task, f"evaluation ({' / '.join(task.eval_splits)} split)")
            rows = self.split_rows(task, split)
            base = np.arange(len(rows))
        else:
            rows = self._train_rows(task, "evaluation (held part of the train split)")
            return rows, self._permutation(task, task.train_split, len(rows))[: self._hold_count(len(rows))]
        return rows, base[: len(base) - int(task.val_fraction * len(base))]

    # ------------------------------------------------------------------ examples
    def render(self, task: RawTask, rows: Rows, pairs: Iterable[tuple[int, Template]], n: int) -> list[Example]:
        """Up to n examples from (row index, template) pairs (in order), skipping rows the template gives no answer."""
        out: list[Example] = []
        for index, template in pairs:
            if len(out) >= n:
                break
            row = rows[int(index)]
            try:
                rendered = template(row)
            except DataError:
                raise
            except Exception as err:  # a template reading a field in a way the row does not fit (KeyError, jinja errors ...)
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
        """Up to n (row, template) pairs drawn at random (by ``seed``) from the training rows x the task's train templates."""
        raw = self.raw_task(task)
        rows, pool = self.train_pool(raw)
        templates = raw.train_templates()
        return self.render(raw, rows, train_pairs(pool, templates, n, seed), n)

    def eval_examples(self, task: str, n: int, seed: int) -> list[Example]:
        """Up to n eval rows (all when the pool is smaller, else a fixed draw), each with its template(s):
        round robin (row i gets template i mod T) or, for held-out T0 tasks, every template."""
        raw = self.raw_task(task)
        rows, pool = self.eval_pool(raw)
        picked = pool if len(pool) <= n else pool[np.random.default_rng(EVAL_SEED).choice(len(pool), n, replace=False)]
        templates = raw.eval_templates()
        if raw.round_robin:
            pairs = [(int(r), templates[i % len(templates)]) for i, r in enumerate(picked)]
        else:
            pairs = [(int(r), t) for r in picked for t in templates]
        examples = self.render(raw, rows, pairs, len(pairs))
        if not examples and len(picked) and raw.metric == "rank_classification":
            raise DataError(self.no_choices_message(raw, len(picked)))
        return examples


def train_pairs(pool: np.ndarray, templates: list[Template], n: int, seed: int) -> Iterator[tuple[int, Template]]:
    """(row index, template) pairs in a random order of rows x templates (lazily; large products are sampled)."""
    count = len(pool) * len(templates)
    rng = np.random.default_rng(seed)
    order = rng.permutation(count) if count <= FULL_PERMUTATION else rng.choice(count, size=min(count, 2 * n + 1000), replace=False)
    for flat in order:
        yield int(pool[flat // len(templates)]), templates[flat % len(templates)]
