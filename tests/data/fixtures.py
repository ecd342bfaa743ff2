"""Fixture data directories in the real schemas of each benchmark family (small, written to tmp dirs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from glider.data.bigbench_tasks import BBH_HUB, BIGBENCH_TASKS
from tests.data.t0_rows import T0_ROWS, T0_SPLITS


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_t0(root: Path, tasks: Iterable[str] | None = None, n_train: int = 6, n_eval: int = 6) -> Path:
    """``root/<task>/<train split>.jsonl`` and ``<eval split>.jsonl`` for each T0 task (one row repeated)."""
    for task in tasks or T0_ROWS:
        train, evaluation = T0_SPLITS.get(task, ("train", "validation"))
        row = T0_ROWS[task]
        if train:
            write_jsonl(root / task / f"{train}.jsonl", [row] * n_train)
        if evaluation:
            write_jsonl(root / task / f"{evaluation}.jsonl", [row] * n_eval)
    return root


def flan_rows(key: str, n: int, with_options: bool) -> list[dict]:
    """FLAN-collection rows (Open-Orca/FLAN schema) for one expert key."""
    rows = []
    for i in range(n):
        if with_options:
            target = "yes" if i % 2 == 0 else "no"
            inputs = f"[{key}] Is statement {i} true?\nOPTIONS:\n- yes\n- no"
        else:
            target = f"answer {i} for {key}"
            inputs = f"[{key}] Write the answer for item {i}."
        rows.append({"inputs": inputs, "targets": target, "_task_name": key, "_task_source": "Flan2021", "_template_type": "zs_opt"})
    return rows


def write_flan(root: Path, keys: Iterable[str], n: int = 40, rank_keys: Iterable[str] = ()) -> Path:
    """``root/<key>/train.jsonl`` (the layout ``flan_prepare`` writes)."""
    rank = set(rank_keys)
    for key in keys:
        write_jsonl(root / key / "train.jsonl", flan_rows(key, n, key in rank))
    return root


def bigbench_rows(key: str, n: int) -> list[dict]:
    """Rows of one BIG-bench key in its source's schema (tasksource/bigbench, or lukaemon/bbh = the BBH files)."""
    task = BIGBENCH_TASKS[key]
    if task.hub_id == BBH_HUB:
        answers = task.answer_choices or ("42",)
        return [{"input": f"{task.config} question {i}", "target": answers[i % len(answers)]} for i in range(n)]
    mc = task.metric == "rank_classification"
    return [{
        "idx": i,
        "inputs": f"{task.config}: question {i}",
        "targets": ["alpha"] if mc else [f"out {i}", f"alt {i}"],
        "multiple_choice_targets": ["beta", "alpha", "gamma"] if mc else [],
        "multiple_choice_scores": [0, 1, 0] if mc else [],
    } for i in range(n)]


def write_bigbench(root: Path, keys: Iterable[str], n: int = 4) -> Path:
    """The BIG-bench layout: ``root/<subtask>.json`` (BBH repository files) for lukaemon/bbh keys,
    ``root/<BIG-bench task>/{train,validation}.jsonl`` for tasksource/bigbench keys."""
    root.mkdir(parents=True, exist_ok=True)
    for key in keys:
        task = BIGBENCH_TASKS[key]
        rows = bigbench_rows(key, n)
        if task.hub_id == BBH_HUB:
            (root / f"{task.config}.json").write_text(json.dumps({"canary": "x", "examples": rows}), encoding="utf-8")
        else:
            write_jsonl(root / task.config / "train.jsonl", rows[: n // 2])
            write_jsonl(root / task.config / "validation.jsonl", rows[n // 2:])
    return root


def write_bbh(root: Path, keys: Iterable[str], n: int = 4) -> Path:
    """BIG-bench Hard keys in their sources' layouts."""
    return write_bigbench(root, keys, n)


def bbl_rows(name: str, n: int) -> list[dict]:
    """tasksource/bigbench rows of one BIG-bench task (by its BIG-bench name)."""
    return bigbench_rows(KEY_OF_CONFIG[name], n)


def write_bbl(root: Path, names: Iterable[str], n: int = 4) -> Path:
    """BIG-bench Lite tasks (by BIG-bench name) in the tasksource/bigbench layout."""
    return write_bigbench(root, [KEY_OF_CONFIG[name] for name in names], n)


KEY_OF_CONFIG = {task.config: key for key, task in BIGBENCH_TASKS.items()}
