"""Find and read run directories (a run directory holds ``summary.json`` and ``results.csv``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from glider.errors import ReportError
from glider.hydra_job import parse_overrides


@dataclass
class RunRecord:
    """One evaluated run: its directory, summary and per-task results."""

    path: Path
    summary: dict[str, Any]
    results: pd.DataFrame  # results.csv: router, seed, task, split, family, metric, n, score

    @property
    def router(self) -> str:
        return str(self.summary.get("router", "?"))

    @property
    def seed(self) -> int | None:
        return self.summary.get("seed")

    @property
    def params(self) -> dict[str, Any]:
        """Router knobs (alpha, top_k, top_p...) as configured."""
        return dict(self.summary.get("router_params") or {})

    @property
    def overrides(self) -> dict[str, str]:
        """The job's command-line overrides, ``{'router.alpha': '3', ...}``."""
        return parse_overrides(list(self.summary.get("overrides") or []))


def find_run_dirs(paths: list[Path]) -> list[Path]:
    """Every directory at or under ``paths`` that holds summary.json and results.csv, sorted."""
    found: set[Path] = set()
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise ReportError(f"'{root}' does not exist. Pass run or sweep directories (e.g. outputs/multiruns/<date>/<time>).")
        for summary in root.rglob("summary.json") if root.is_dir() else []:
            if summary.is_file() and (summary.parent / "results.csv").is_file():
                found.add(summary.parent.resolve())
    return sorted(found)


def load_run(path: Path) -> RunRecord:
    """Read one run directory; a damaged file names itself."""
    try:
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        results = pd.read_csv(path / "results.csv")
    except (OSError, ValueError) as err:
        raise ReportError(f"Cannot read run directory '{path}': {err}") from None
    return RunRecord(path=path, summary=summary, results=results)


def load_runs(paths: list[Path]) -> list[RunRecord]:
    """All runs under ``paths``; one clear error when there is none."""
    dirs = find_run_dirs(paths)
    if not dirs:
        shown = ", ".join(str(p) for p in paths)
        raise ReportError(f"No run directories (summary.json + results.csv) under {shown}. Evaluate first: python -m glider.run ...")
    return [load_run(d) for d in dirs]
