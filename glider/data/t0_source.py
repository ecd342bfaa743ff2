"""T0 benchmark (P3 datasets with promptsource's templates, as the original): held-in and/or held-out tasks.

``task=t0_heldin``: the 35 held-in tasks of the paper, evaluated on the first 80 % of their
eval split. ``task=t0_heldout``: hswag, copa, storycloze, cb, rte, anli r1/r2/r3,
winogrande, wscfixed, wic, on all of theirs. ``task=t0``: both (held-in and held-out
averages). Tasks, templates and splits: ``glider/data/t0_tasks.py``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from glider.data.raw_source import RawTaskSource
from glider.data.raw_task import RawTask
from glider.data.t0_tasks import T0_HELDIN, T0_HELDOUT
from glider.errors import ConfigError


def override_hubs(tasks: list[RawTask], overrides: dict[str, str] | None) -> list[RawTask]:
    """Replace hub ids: ``{task: "owner/name"}`` or ``{task: "owner/name:config"}``."""
    overrides = dict(overrides or {})
    known = {t.name for t in tasks}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"task.hub_overrides names unknown task(s) {unknown}. Known: {', '.join(sorted(known))}.")
    out = []
    for task in tasks:
        if task.name in overrides:
            hub_id, _, config = str(overrides[task.name]).partition(":")
            task = dataclasses.replace(task, hub_id=hub_id, hub_config=config or None)
        out.append(task)
    return out


class T0TaskSource(RawTaskSource):
    """The T0 held-in / held-out tasks from raw P3 datasets (local ``data_dir/<task>/`` or the hub)."""

    family_title = "T0"

    def __init__(
        self,
        name: str = "t0",
        splits: list[str] | tuple[str, ...] = ("heldin", "heldout"),
        tasks: list[str] | None = None,
        data_dir: str | None = None,
        eval_tasks: list[str] | None = None,
        hub: bool = True,
        hub_overrides: dict[str, str] | None = None,
        revision: str | None = None,
        only_present: bool | None = None,
    ) -> None:
        bad = sorted(set(splits) - {"heldin", "heldout"})
        if bad or not splits:
            raise ConfigError(f"task.splits must be a non-empty subset of [heldin, heldout], got {list(splits)}.")
        pool = (T0_HELDIN if "heldin" in splits else []) + (T0_HELDOUT if "heldout" in splits else [])
        if tasks:
            names = {t.name for t in pool}
            unknown = [t for t in tasks if t not in names]
            if unknown:
                raise ConfigError(f"task.tasks names unknown T0 task(s) {unknown}. Known: {', '.join(sorted(names))}.")
            pool = [t for t in pool if t.name in set(tasks)]
        self.name = name
        self.splits = list(splits)
        super().__init__(override_hubs(pool, hub_overrides), data_dir=data_dir, eval_tasks=eval_tasks, hub=hub,
                         revision=revision, only_present=only_present)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "splits": self.splits}
