"""Results tables: per-task scores plus held-in / held-out averages, as markdown and CSV."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from glider.io import atomic_write_text


def results_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per (run, task): router, seed, task, split, family, metric, n, score."""
    return pd.DataFrame(rows, columns=["router", "seed", "task", "split", "family", "metric", "n", "score"])


def split_averages(frame: pd.DataFrame) -> dict[str, float]:
    """Mean task score per split (tasks without examples are ignored), and ``overall_avg``.

    ``overall_avg`` is the mean over every task, held-in and held-out together (the
    examples together: tasks have equally many); n/a when some task has no score
    (the oracle on held-out tasks), since it would then be the mean of one split.
    """
    out = {}
    for split in ("heldin", "heldout"):
        scores = frame.loc[frame["split"] == split, "score"].dropna()
        out[f"{split}_avg"] = float(scores.mean()) if len(scores) else math.nan
    scores = frame["score"]
    out["overall_avg"] = float(scores.mean()) if len(scores) and scores.notna().all() else math.nan
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def markdown_table(frame: pd.DataFrame, columns: list[str] | None = None) -> str:
    """A GitHub markdown table (no extra dependency)."""
    columns = columns or list(frame.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for _, row in frame[columns].iterrows():
        lines.append("| " + " | ".join(_fmt(row[c]) for c in columns) + " |")
    return "\n".join(lines)


def run_report(frame: pd.DataFrame, router: str) -> str:
    """Markdown: per-task table and the split averages of one run."""
    averages = split_averages(frame)
    table = markdown_table(frame, ["task", "split", "family", "metric", "n", "score"])
    summary = (f"**{router}**: held-in avg {_fmt(averages['heldin_avg'])}, held-out avg {_fmt(averages['heldout_avg'])}, "
               f"overall {_fmt(averages['overall_avg'])}")
    return f"{table}\n\n{summary}\n"


def write_run_tables(frame: pd.DataFrame, router: str, directory: Path) -> tuple[Path, Path]:
    """results.md and results.csv in ``directory`` (atomic)."""
    md, csv = Path(directory) / "results.md", Path(directory) / "results.csv"
    atomic_write_text(md, run_report(frame, router))
    atomic_write_text(csv, frame.to_csv(index=False))
    return md, csv
