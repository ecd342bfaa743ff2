"""BIG-bench Hard (``task=bbh``) and BIG-bench Lite (``task=bbl``): held-out evaluation tasks, as the original.

Task table, sources, splits and metrics: ``glider/data/bigbench_tasks.py``. Rows of
``tasksource/bigbench`` tasks: ``inputs``, ``targets`` (list), ``multiple_choice_targets``,
``multiple_choice_scores``; rows of ``lukaemon/bbh`` tasks: ``input``, ``target``. Local
layout: ``data_dir/<BIG-bench task>/{train,validation}.jsonl`` for tasksource tasks (both
splits are evaluated, concatenated) and ``data_dir/<BBH subtask>.json`` (the BBH
repository's files) or ``data_dir/<BBH subtask>/test.jsonl`` for lukaemon/bbh tasks. No
experts are trained on these tasks (``expert_tasks`` is empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glider.data.bigbench_tasks import BBH_EXTRA, BBH_TASKS, BBL_EXTRA, BBL_TASKS, BIGBENCH_TASKS, TASKSOURCE, BigBenchTask
from glider.data.raw_source import RawTaskSource
from glider.data.raw_task import RawTask, Rendered, find_label
from glider.data.rows import Rows, find_local_split, load_hub_split, read_file_rows
from glider.data.spec import TaskSpec
from glider.errors import ConfigError, DataError

TASKSOURCE_SPLITS = ("train", "validation")  # concatenated: the original's "train_validation"
TASKSOURCE_SCHEMA = "inputs, targets (list), multiple_choice_targets (list), multiple_choice_scores (list)"


@dataclass(frozen=True)
class BigBenchRow:
    """A BIG-bench row as the original renders it: input + "\\nAnswer:", and the answer(s) by the task's metric."""

    task: BigBenchTask

    def __call__(self, row: dict[str, Any]) -> Rendered | None:
        if self.task.hub_id == TASKSOURCE:
            source, targets = str(row["inputs"]) + "\nAnswer:", [str(t) for t in row["targets"] or []]
        else:
            source, targets = str(row["input"]) + "\nAnswer:", [str(row["target"])]
        if not targets:
            return None
        if self.task.metric != "rank_classification":
            return Rendered(source=source, target=targets[0], references=tuple(targets) if self.task.multi else ())
        choices = self.task.answer_choices or tuple(str(c) for c in row.get("multiple_choice_targets") or ())
        if len(choices) < 2:
            raise DataError(
                f"BIG-bench task '{self.task.key}' ({self.task.config}) is scored by rank classification, but a row has "
                f"{len(choices)} multiple_choice_targets (inputs: {source[:60]!r}...). Rows need the {TASKSOURCE} schema: "
                f"{TASKSOURCE_SCHEMA}; fix or replace the data in task.data_dir."
            )
        target = max(targets, key=len)
        scores = list(row.get("multiple_choice_scores") or [])
        correct = tuple(i for i, s in enumerate(scores) if s == 1) if self.task.multi else ()
        return Rendered(source=source, target=target, choices=choices, label=find_label(target, choices), correct=correct)


def _select(keys: list[str], allowed: list[str], wanted: list[str] | None, what: str) -> list[str]:
    if not wanted:
        return keys
    unknown = [k for k in wanted if k not in allowed]
    if unknown:
        raise ConfigError(f"task.tasks names unknown {what} task(s) {unknown}. Known: {', '.join(allowed)}.")
    return list(wanted)


class BigBenchSource(RawTaskSource):
    """BBH or BBL keys: eval-only tasks read from tasksource/bigbench or lukaemon/bbh (local files first)."""

    family = "bb"

    def __init__(self, keys: list[str], name: str, data_dir: str | None, eval_tasks: list[str] | None, hub: bool,
                 only_present: bool | None, revision: str | None) -> None:
        self.name = name
        raw = [self._raw_task(BIGBENCH_TASKS[k]) for k in keys]
        super().__init__(raw, data_dir=data_dir, eval_tasks=eval_tasks, hub=hub, revision=revision, only_present=only_present)

    def _raw_task(self, task: BigBenchTask) -> RawTask:
        schema = TASKSOURCE_SCHEMA if task.hub_id == TASKSOURCE else "input, target"
        return RawTask(name=task.key, hub_id=task.hub_id, hub_config=task.config, template=BigBenchRow(task), metric=task.metric,
                       split="heldout", family=self.family, train_split=None, eval_splits=(task.split,),
                       num_choices=len(task.answer_choices), schema=schema, max_new_tokens=task.max_new_tokens,
                       extra={"bigbench": task})

    def expert_tasks(self) -> list[TaskSpec]:
        return []

    def has_local(self, task: RawTask) -> bool:
        return self.data_dir is not None and bool(self._local_paths(task))

    def _local_paths(self, task: RawTask) -> list[Path]:
        assert self.data_dir is not None
        folder = self.data_dir / str(task.hub_config)
        if task.hub_id == TASKSOURCE:
            return [folder] if folder.is_dir() else []
        files = [self.data_dir / f"{task.hub_config}{suffix}" for suffix in (".json", ".jsonl", ".parquet")]
        return [p for p in files + [folder] if p.exists()]

    def task_dir(self, task: RawTask) -> Path | None:
        return (self.data_dir or Path("<data_dir>")) / str(task.hub_config)

    def _load(self, task: RawTask, split: str) -> Rows | None:
        """The task's rows: tasksource's train + validation, or BBH's test rows."""
        if task.hub_id != TASKSOURCE:
            return self._part(task, split)
        parts = [rows for part in TASKSOURCE_SPLITS if (rows := self._part(task, part)) is not None]
        return ConcatRows(parts) if parts else None

    def _part(self, task: RawTask, split: str) -> Rows | None:
        if self.data_dir is not None and self._local_paths(task):
            path = self._local_paths(task)[0]
            return find_local_split(path, split) if path.is_dir() else read_file_rows([path])
        if self.hub_usable():
            return load_hub_split(task.hub_id, task.hub_config, split, self.revision)
        return None

    def layout_help(self) -> str:
        return ("data_dir/<BIG-bench task>/train.jsonl and validation.jsonl for tasksource/bigbench tasks (rows: "
                f"{TASKSOURCE_SCHEMA}; e.g. data_dir/causal_judgment/), and data_dir/<BBH subtask>.json (the BBH repository "
                "files: {\"examples\": [{\"input\", \"target\"}]}) for boolean_expressions, web_of_lies and "
                "multistep_arithmetic_two")


class ConcatRows:
    """Several row sets read as one (tasksource's train + validation)."""

    def __init__(self, parts: list[Rows]) -> None:
        self.parts = parts
        self.offsets = [0]
        for part in parts:
            self.offsets.append(self.offsets[-1] + len(part))

    def __len__(self) -> int:
        return self.offsets[-1]

    def __getitem__(self, index: int) -> dict[str, Any]:
        for part, start, end in zip(self.parts, self.offsets, self.offsets[1:]):
            if start <= index < end:
                return part[index - start]
        raise IndexError(index)


class BigBenchHardSource(BigBenchSource):
    """BIG-bench Hard: the original's 22 keys (``bbdycklanguages`` selectable with task.tasks)."""

    family_title = "BIG-bench Hard"
    family = "bbh"

    def __init__(self, name: str = "bbh", tasks: list[str] | None = None, data_dir: str | None = None,
                 eval_tasks: list[str] | None = None, hub: bool = True, only_present: bool | None = None,
                 revision: str | None = None) -> None:
        keys = _select(BBH_TASKS, BBH_TASKS + BBH_EXTRA, list(tasks) if tasks else None, "BBH")
        super().__init__(keys, name, data_dir, eval_tasks, hub, only_present, revision)


class BigBenchLiteSource(BigBenchSource):
    """BIG-bench Lite: the original's 17 keys (its 7 further BBL keys selectable with task.tasks)."""

    family_title = "BIG-bench Lite"
    family = "bbl"

    def __init__(self, name: str = "bbl", tasks: list[str] | None = None, data_dir: str | None = None,
                 eval_tasks: list[str] | None = None, hub: bool = True, only_present: bool | None = None,
                 revision: str | None = None) -> None:
        keys = _select(BBL_TASKS, BBL_TASKS + BBL_EXTRA, list(tasks) if tasks else None, "BBL")
        super().__init__(keys, name, data_dir, eval_tasks, hub, only_present, revision)
