"""BIG-bench Hard (``task=bbh``) and BIG-bench Lite (``task=bbl``): held-out evaluation tasks.

BBH rows: ``input``, ``target`` (hub ``lukaemon/bbh``, one config per subtask, split ``test``;
or the BBH repository's ``<subtask>.json`` files ``{"examples": [...]}``); scored by exact
match of the greedy generation. BBL rows: ``inputs``, ``targets`` (list),
``multiple_choice_targets``, ``multiple_choice_scores`` (hub ``tasksource/bigbench``, one
config per task, splits train / validation); multiple-choice tasks are rank-classified over
their choices, the others scored by exact match (ROUGE-L for conlang_translation).
Local folders are named by BIG-bench task (``data_dir/<subtask>.json`` or
``data_dir/<task>/<split>.jsonl``); task keys are those of ``bb_instruction.json``.
No experts are trained on these tasks (``expert_tasks`` is empty).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from glider.data.bigbench_tasks import BBH_PAPER_KEYS, BBL_TASKS, bb_key, bbh_keys
from glider.data.raw_source import RawTaskSource
from glider.data.raw_task import RawTask, Rendered, choice, generation
from glider.data.rows import Rows, find_local_split, load_hub_split, read_file_rows
from glider.data.spec import TaskSpec
from glider.errors import ConfigError

BBH_HUB = "lukaemon/bbh"
BBL_HUB = "tasksource/bigbench"


def bbh_row(row: dict[str, Any]) -> Rendered | None:
    return generation(str(row["input"]), str(row["target"]))


def bbl_choice_row(row: dict[str, Any]) -> Rendered | None:
    choices, scores = list(row["multiple_choice_targets"] or []), list(row["multiple_choice_scores"] or [])
    if len(choices) < 2 or len(scores) != len(choices):
        return None
    return choice(str(row["inputs"]), choices, max(range(len(scores)), key=lambda i: scores[i]))


def bbl_generation_row(row: dict[str, Any]) -> Rendered | None:
    return generation(str(row["inputs"]), list(row["targets"]))


def _select(keys: list[str], wanted: list[str] | None, what: str) -> list[str]:
    if not wanted:
        return keys
    unknown = [k for k in wanted if k not in keys]
    if unknown:
        raise ConfigError(f"task.tasks names unknown {what} task(s) {unknown}. Known: {', '.join(keys)}.")
    return [k for k in keys if k in set(wanted)]


class BigBenchSource(RawTaskSource):
    """Shared by BBH and BBL: eval-only tasks, local files named by BIG-bench task."""

    def expert_tasks(self) -> list[TaskSpec]:
        return []

    def subtasks(self, task: RawTask) -> list[str]:
        return list(task.extra["subtasks"])

    def has_local(self, task: RawTask) -> bool:
        return self.data_dir is not None and any(self._local_paths(sub) for sub in self.subtasks(task))

    def _local_paths(self, sub: str) -> list[Path]:
        assert self.data_dir is not None
        paths = [self.data_dir / f"{sub}{suffix}" for suffix in (".json", ".jsonl", ".parquet")]
        return [p for p in paths + [self.data_dir / sub] if p.exists()]

    def task_dir(self, task: RawTask) -> Path | None:
        return self.data_dir / self.subtasks(task)[0] if self.data_dir else None

    def _load(self, task: RawTask, split: str) -> Rows | None:
        parts: list[dict[str, Any]] = []
        found = False
        for sub in self.subtasks(task):
            rows = self._subtask_rows(task, sub, split)
            if rows is not None:
                found = True
                parts.extend(rows[i] for i in range(len(rows)))
        return parts if found else None

    def _subtask_rows(self, task: RawTask, sub: str, split: str) -> Rows | None:
        if self.data_dir is not None and self._local_paths(sub):
            directory = self.data_dir / sub
            if directory.is_dir():
                return find_local_split(directory, split)
            file = next(p for p in self._local_paths(sub) if p.is_file())
            return read_file_rows([file]) if split == task.extra["file_split"] else None
        if self.hub_usable():
            return load_hub_split(task.hub_id, sub, split, self.revision)
        return None


class BigBenchHardSource(BigBenchSource):
    """BIG-bench Hard: 27 subtasks under 23 keys; by default the paper's 22 keys."""

    family_title = "BIG-bench Hard"

    def __init__(self, name: str = "bbh", tasks: list[str] | None = None, data_dir: str | None = None,
                 eval_tasks: list[str] | None = None, hub: bool = True, hub_id: str = BBH_HUB, only_present: bool | None = None,
                 revision: str | None = None) -> None:
        groups = bbh_keys()
        keys = _select(list(groups), list(tasks) if tasks else BBH_PAPER_KEYS, "BBH")
        self.name = name
        raw = [RawTask(name=k, hub_id=hub_id, template=bbh_row, metric="exact_match", split="heldout", family="bbh",
                       train_split=None, eval_splits=("test",), schema="input, target",
                       extra={"subtasks": groups[k], "file_split": "test"}) for k in keys]
        super().__init__(raw, data_dir=data_dir, eval_tasks=eval_tasks, hub=hub, revision=revision, only_present=only_present)

    def layout_help(self) -> str:
        return ("data_dir/<subtask>.json (the BBH repository files: {\"examples\": [{\"input\", \"target\"}]}) or "
                "data_dir/<subtask>/test.jsonl, one file per BBH subtask (boolean_expressions, "
                "logical_deduction_three_objects, ...)")


class BigBenchLiteSource(BigBenchSource):
    """BIG-bench Lite: the 22 tasks of the instruction files (BBL minus the two that overlap BBH)."""

    family_title = "BIG-bench Lite"

    def __init__(self, name: str = "bbl", tasks: list[str] | None = None, data_dir: str | None = None,
                 eval_tasks: list[str] | None = None, hub: bool = True, hub_id: str = BBL_HUB, only_present: bool | None = None,
                 revision: str | None = None, hold_fraction: float = 0.05, max_hold: int = 2000) -> None:
        names = {bb_key(t): t for t in BBL_TASKS}
        keys = _select(list(names), list(tasks) if tasks else None, "BBL")
        self.name = name
        raw = []
        for key in keys:
            bb_name = names[key]
            metric = BBL_TASKS[bb_name]
            raw.append(RawTask(
                name=key, hub_id=hub_id, template=bbl_choice_row if metric == "rank_classification" else bbl_generation_row,
                metric=metric, split="heldout", family="bbl", train_split="train", eval_splits=("validation",),
                schema="inputs, targets (list), multiple_choice_targets (list), multiple_choice_scores (list)",
                extra={"subtasks": [bb_name], "file_split": "validation"}))
        super().__init__(raw, data_dir=data_dir, eval_tasks=eval_tasks, hub=hub, revision=revision, only_present=only_present,
                         hold_fraction=hold_fraction, max_hold=max_hold)

    def layout_help(self) -> str:
        return ("data_dir/<task>/validation.jsonl (and train.jsonl; or .parquet / save_to_disk), one folder per BIG-bench "
                "Lite task (auto_debugging, bbq_lite_json, ...), rows in the tasksource/bigbench schema")
