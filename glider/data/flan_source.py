"""FLAN: the 166 expert tasks of ``flan_instruction.json`` (FLAN collection rows, ``inputs`` -> ``targets``).

Local layout: ``data_dir/<key>/train.jsonl`` (or any split file the raw source accepts),
rows in the ``Open-Orca/FLAN`` schema (``inputs``, ``targets``; ``_task_name``,
``_template_type`` optional). ``python -m glider.data.flan_prepare`` writes it from raw
FLAN shards or the hub. With no local folder and a reachable hub, the source streams
``Open-Orca/FLAN`` once into ``cache_dir`` (same layout) and reads it from there.

Scoring: tasks in ``FLAN_RANK_TASKS`` are rank-classified over the options their inputs
list (held rows without an options block are not evaluated); all others are scored by
ROUGE-L of the greedy generation. ``task.metric_overrides`` changes either.
Evaluation uses a held part of train (FLAN has one split), never used for training.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from glider.data.flan_names import FLAN_TASKS, FLAN_V2_WITHOUT_ROWS
from glider.data.flan_options import parse_options
from glider.data.raw_source import RawTaskSource
from glider.data.raw_task import RawTask, Rendered, Template
from glider.data.rows import Rows, find_local_split, hub_reachable
from glider.errors import ConfigError, DataError

log = logging.getLogger("glider")

HUB_ID = "Open-Orca/FLAN"
FLAN_RANK_TASKS = frozenset({
    "p3agnews", "p3amazonpolarity", "p3cosmosqa", "p3quartz", "p3paws", "p3wikiqa", "p3socialiqa", "p3qasc", "p3quail",
    "p3dream", "p3wiqa", "p3quarel", "p3sciq", "p3rottentomatoes", "p3yelp", "p3mrpc", "p3qqp", "p3commonsenseqa",
    "p3cose", "p3wikihop", "p3appreviews", "p3trec", "p3imdb", "p3dbpedia14", "p3wscfixed", "p3copa", "p3hswag", "p3wic",
    "p3racehigh", "p3racemiddle",
    "flanv2ai2arceasy", "flanv2ai2arcchallenge", "flanv2boolq", "flanv2defpronounresolution", "flanv2gluesst2",
    "flanv2gluecola", "flanv2gluemnli", "flanv2glueqnli", "flanv2gluewnli", "flanv2openbookqa", "flanv2piqa",
    "flanv2sentiment140", "flanv2snli", "flanv2supergluemultirc", "flanv2supergluerecord",
})
METRICS = ("rank_classification", "exact_match", "squad", "rouge_l")
SCHEMA = "inputs, targets (optional: _task_name, _task_source, _template_type)"


def flan_generation(row: dict[str, Any]) -> Rendered | None:
    """A FLAN row as a (source, target) pair."""
    source, target = str(row["inputs"]), str(row["targets"])
    return Rendered(source=source, target=target.strip()) if target.strip() else None


def flan_choices(row: dict[str, Any]) -> Rendered | None:
    """A FLAN row whose inputs list answer options that contain the target; None otherwise."""
    base = flan_generation(row)
    if base is None:
        return None
    choices, label = parse_options(base.source, base.target)
    return dataclasses.replace(base, choices=choices, label=label) if choices else None


@dataclass(frozen=True)
class FlanPrompts:
    """Training reads every row as (inputs, targets); evaluation renders rank-classification keys with their options."""

    rank: bool
    round_robin: bool = True

    def train(self, task: str) -> list[Template]:
        return [flan_generation]

    def eval(self, task: str) -> list[Template]:
        return [flan_choices if self.rank else flan_generation]


def family_of(key: str) -> str:
    return "niv2" if key.startswith("niv2") else "flanv2" if key.startswith("flanv2") else "p3"


class FlanTaskSource(RawTaskSource):
    """The FLAN expert tasks; every task is held-in (experts are trained / imported for them)."""

    family_title = "FLAN"

    def __init__(
        self,
        name: str = "flan",
        tasks: list[str] | None = None,
        data_dir: str | None = None,
        eval_tasks: list[str] | None = None,
        hub: bool = True,
        hub_id: str = HUB_ID,
        cache_dir: str | None = None,
        max_rows_per_task: int = 10000,
        template_types: list[str] | None = ("zs_opt", "zs_noopt"),
        niv2_categories: str | None = None,
        metric_overrides: dict[str, str] | None = None,
        only_present: bool | None = None,
        hold_fraction: float = 0.05,
        max_hold: int = 2000,
    ) -> None:
        keys = list(tasks) if tasks else list(FLAN_TASKS)
        unknown = [k for k in keys if k not in set(FLAN_TASKS)]
        if unknown:
            raise ConfigError(f"task.tasks names unknown FLAN task(s) {unknown}; the keys are those of flan_instruction.json.")
        overrides = dict(metric_overrides or {})
        bad = {k: v for k, v in overrides.items() if v not in METRICS or k not in set(FLAN_TASKS)}
        if bad:
            raise ConfigError(f"task.metric_overrides: {bad} must map FLAN task keys to one of {METRICS}.")
        self.name = name
        self.hub_id = hub_id
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        self.max_rows_per_task = int(max_rows_per_task)
        self.template_types = list(template_types) if template_types else None
        self.niv2_categories = niv2_categories
        raw = [self._raw_task(k, overrides.get(k)) for k in keys]
        super().__init__(raw, data_dir=data_dir, eval_tasks=eval_tasks, hub=hub, hold_fraction=hold_fraction, max_hold=max_hold,
                         only_present=only_present)

    def _raw_task(self, key: str, metric: str | None) -> RawTask:
        metric = metric or ("rank_classification" if key in FLAN_RANK_TASKS else "rouge_l")
        return RawTask(name=key, hub_id=self.hub_id, prompts=FlanPrompts(rank=metric == "rank_classification"), metric=metric,
                       split="heldin", family=family_of(key), train_split="train", eval_splits=(), schema=SCHEMA)

    def hub_usable(self) -> bool:
        return self.hub and self.cache_dir is not None and hub_reachable()

    def config(self) -> dict[str, Any]:
        return {**super().config(), "template_types": self.template_types, "max_rows_per_task": self.max_rows_per_task}

    def layout_help(self) -> str:
        return (
            "data_dir/<key>/train.jsonl (or .json / .parquet / save_to_disk), one FLAN row per line with "
            "'inputs' and 'targets' (keys as in flan_instruction.json, e.g. p3agnews, flanv2gluemnli, niv2translation); "
            "`python -m glider.data.flan_prepare --out DIR --raw <Open-Orca/FLAN parquet shards>` writes this layout"
        )

    # ------------------------------------------------------------------ rows
    def _load(self, task: RawTask, split: str) -> Rows | None:
        directory = self.task_dir(task)
        if directory is not None and directory.is_dir():
            return find_local_split(directory, split)
        if self.hub and self.cache_dir is not None and hub_reachable():
            if task.name in FLAN_V2_WITHOUT_ROWS:
                raise DataError(
                    f"FLAN task '{task.name}' has no rows in {self.hub_id}: the FLAN collection drops the P3 templates of "
                    "datasets that are in Flan 2021, so nothing is streamed for it. llm=file needs no samples; for its "
                    f"training data put P3 rows in the FLAN schema under task.data_dir/{task.name}/train.jsonl."
                )
            self._prepare_cache()
            return find_local_split(self.cache_dir / task.name, split)
        return None

    def _prepare_cache(self) -> None:
        """Stream the hub FLAN collection once into ``cache_dir/<key>/train.jsonl``."""
        from glider.data.flan_prepare import iter_hub, prepare_flan, read_categories

        if (self.cache_dir / "manifest.json").is_file():
            return
        log.info("data: streaming %s into %s (up to %d rows per task; this reads a large dataset once)",
                 self.hub_id, self.cache_dir, self.max_rows_per_task)
        prepare_flan(iter_hub(self.hub_id), self.cache_dir, self.max_rows_per_task, self.template_types,
                     read_categories(self.niv2_categories), keys=list(self._tasks))

    # ------------------------------------------------------------------ examples
    def no_choices_message(self, task: RawTask, rows: int) -> str:
        return (f"FLAN task '{task.name}' is scored by rank classification but none of its held rows lists answer options "
                f"that contain the target (e.g. 'OPTIONS:\\n- yes\\n- no'). Add zs_opt rows, or set "
                f"task.metric_overrides.{task.name}=rouge_l.")
