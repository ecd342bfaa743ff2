"""Fixture data directories in the real schemas of each benchmark family (small, written to tmp dirs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from glider.data.bigbench_tasks import BBL_TASKS, bbh_keys
from tests.data.t0_rows import T0_ROWS, T0_SPLITS


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_t0(root: Path, tasks: Iterable[str] | None = None, n_train: int = 6, n_eval: int = 6) -> Path:
    """``root/<task>/<train split>.jsonl`` and ``<eval split>.jsonl`` for each T0 task (one row repeated)."""
    for task in tasks or T0_ROWS:
        train, evaluation = T0_SPLITS.get(task, ("train", "validation"))
        if task == "p3storycloze":
            train = ""
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


def write_bbh(root: Path, keys: Iterable[str], n: int = 4) -> Path:
    """BBH repository files ``root/<subtask>.json`` = {"canary": ..., "examples": [{"input", "target"}]}."""
    groups = bbh_keys()
    root.mkdir(parents=True, exist_ok=True)
    for key in keys:
        for sub in groups[key]:
            examples = [{"input": f"{sub} question {i}\nOptions:\n(A) yes\n(B) no", "target": "(A)"} for i in range(n)]
            (root / f"{sub}.json").write_text(json.dumps({"canary": "x", "examples": examples}), encoding="utf-8")
    return root


def bbl_rows(name: str, n: int) -> list[dict]:
    """tasksource/bigbench rows for one BBL task."""
    mc = BBL_TASKS[name] == "rank_classification"
    rows = []
    for i in range(n):
        rows.append({
            "idx": i,
            "inputs": f"{name}: question {i}",
            "targets": ["alpha"] if mc else [f"out {i}", f"alt {i}"],
            "multiple_choice_targets": ["beta", "alpha", "gamma"] if mc else [],
            "multiple_choice_scores": [0, 1, 0] if mc else [],
        })
    return rows


def write_bbl(root: Path, names: Iterable[str], n: int = 4) -> Path:
    """``root/<task>/{train,validation}.jsonl`` in the tasksource/bigbench schema."""
    for name in names:
        write_jsonl(root / name / "train.jsonl", bbl_rows(name, n))
        write_jsonl(root / name / "validation.jsonl", bbl_rows(name, n))
    return root
