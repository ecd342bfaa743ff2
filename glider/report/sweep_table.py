"""One table across runs: router, seed, swept parameters, split averages, diagnostics, cost per task
(seconds, forward passes) and per-task scores; runs that differ only in their seed are aggregated as
mean and standard deviation."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from glider.io import atomic_write_text
from glider.report.runs import RunRecord

ROUTER_PARAMS = ("alpha", "top_k", "top_p")
AVERAGES = ("heldin_avg", "heldout_avg", "overall_avg")
# what the global router chose (from summary.json; a column only when some run has it)
# column: (header, path of keys into summary.json)
DIAGNOSTICS = {
    "global_top1": ("top-1 own expert", ("global_top1", "average")),
    "auto_high_heldin": ("alpha=auto high, held-in", ("alpha_auto", "high_fraction_by_split", "heldin")),
    "auto_high_heldout": ("alpha=auto high, held-out", ("alpha_auto", "high_fraction_by_split", "heldout")),
    # the tuning split (eval.tuning, glider/lit/tuning_eval.py): never the evaluation examples
    "tuning_heldin": ("tuning held-in", ("tuning", "heldin_avg")),
    "tuning_heldout": ("tuning held-out (own expert left out)", ("tuning", "heldout_avg")),
}
# cost per evaluated task (summary.json's ``cost``, glider/report/cost.py): column: (header, key, decimals)
COST = {
    "seconds_per_task": ("s/task", "seconds_per_task", 2),
    "forward_passes_per_task": ("passes/task", "forward_passes_per_task", 0),
}
HEADERS = {"heldin_avg": "held-in avg", "heldout_avg": "held-out avg", "overall_avg": "overall avg", **{k: v[0] for k, v in DIAGNOSTICS.items()},
           **{k: v[0] for k, v in COST.items()}}


def _dig(summary: dict, path: tuple[str, ...]) -> Any:
    """summary[path[0]][path[1]]..., None where a level is missing or null."""
    value: Any = summary
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value
# overrides that never distinguish configurations (where things are written, run bookkeeping)
_BOOKKEEPING = ("library.dir", "logger", "trainer.progress_bar", "stage", "seed", "router")


def _swept_overrides(runs: list[RunRecord]) -> list[str]:
    """Override keys whose value differs between runs (router knobs are reported from router_params)."""
    shown = {f"router.{p}" for p in ROUTER_PARAMS}
    keys = sorted({k for r in runs for k in r.overrides})
    keys = [k for k in keys if k not in shown and k not in _BOOKKEEPING and not k.startswith(("paths.", "hydra.", "hydra/"))]
    return [k for k in keys if len({r.overrides.get(k) for r in runs}) > 1]


def task_order(runs: list[RunRecord]) -> list[str]:
    """Task names, held-in first, in the order the runs list them."""
    order: dict[str, str] = {}
    for run in runs:
        for row in run.results.itertuples():
            order.setdefault(str(row.task), str(row.split))
    return [t for t, s in order.items() if s == "heldin"] + [t for t, s in order.items() if s != "heldin"]


def runs_frame(runs: list[RunRecord]) -> pd.DataFrame:
    """One row per run: run_dir, router, seed, alpha, top_k[, top_p], swept overrides, averages, per-task scores."""
    overrides = _swept_overrides(runs)
    tasks = task_order(runs)
    with_top_p = any(r.params.get("top_p") is not None for r in runs)
    diagnostics = [k for k, (_, path) in DIAGNOSTICS.items() if any(_dig(r.summary, path) is not None for r in runs)]
    costs = [k for k, (_, key, _) in COST.items() if any(_dig(r.summary, ("cost", key)) is not None for r in runs)]
    rows = []
    for run in runs:
        row: dict[str, Any] = {"run_dir": str(run.path), "router": run.router, "seed": run.seed}
        for name in ROUTER_PARAMS:
            if name != "top_p" or with_top_p:
                row[name] = run.params.get(name)
        row.update({key: run.overrides.get(key) for key in overrides})
        row.update({name: run.summary.get(name, math.nan) for name in AVERAGES})
        row.update({name: _or_nan(_dig(run.summary, DIAGNOSTICS[name][1])) for name in diagnostics})
        row.update({name: _or_nan(_dig(run.summary, ("cost", COST[name][1]))) for name in costs})
        scores = dict(zip(run.results["task"].astype(str), run.results["score"]))
        row.update({task: scores.get(task, math.nan) for task in tasks})
        rows.append(row)
    return pd.DataFrame(rows)


def _or_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def config_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that define a configuration (everything but the run, the seed and the scores)."""
    metrics = set(metric_columns(frame))
    return [c for c in frame.columns if c not in metrics and c not in ("run_dir", "seed")]


def metric_columns(frame: pd.DataFrame) -> list[str]:
    start = list(frame.columns).index(AVERAGES[0])
    return list(frame.columns)[start:]


def config_key(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One text key per row from ``columns`` (missing values included)."""
    if not columns:
        return pd.Series([""] * len(frame), index=frame.index)
    return frame[columns].map(str).agg("|".join, axis=1)


def aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: metric means (named as the metric), ``<metric>_std`` and ``n_seeds``, ``seeds``."""
    configs, metrics = config_columns(frame), metric_columns(frame)
    key = config_key(frame, configs)
    rows = []
    for _, group in frame.groupby(key, sort=False):
        row: dict[str, Any] = {c: group[c].iloc[0] for c in configs}
        row["n_seeds"] = len(group)
        row["seeds"] = " ".join(str(s) for s in group["seed"])
        for m in metrics:
            values = pd.to_numeric(group[m], errors="coerce")
            row[m] = float(values.mean()) if values.notna().any() else math.nan
            row[f"{m}_std"] = float(values.std(ddof=0)) if values.notna().sum() > 1 else math.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    sort = [c for c in ("router", "alpha", "top_k", "top_p") if c in out.columns]
    return out.sort_values(sort, key=_sort_key, kind="stable").reset_index(drop=True) if len(out) else out


def _sort_key(column: pd.Series) -> pd.Series:
    numeric = pd.to_numeric(column, errors="coerce")
    return numeric if numeric.notna().any() else column.astype(str)


def _score(value: Any, std: Any = math.nan) -> str:
    value = float(value)
    if math.isnan(value):
        return "n/a"
    return f"{value:.3f}" if math.isnan(float(std)) else f"{value:.3f} ± {float(std):.3f}"


def _cost(value: Any, std: Any, decimals: int) -> str:
    """A cost cell: the mean, and the spread over seeds where there is one."""
    value, std = float(value), float(std)
    if math.isnan(value):
        return "n/a"
    return f"{value:.{decimals}f}" + ("" if math.isnan(std) or round(std, decimals) == 0 else f" ± {std:.{decimals}f}")


def _cell(row: pd.Series, column: str) -> str:
    """A metric cell: scores with 3 decimals and their std, costs with their own decimals."""
    if column in COST:
        return _cost(row[column], row[f"{column}_std"], COST[column][2])
    return _score(row[column], row[f"{column}_std"])


def format_param(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def markdown(agg: pd.DataFrame) -> str:
    """The aggregated table as GitHub markdown (mean ± std where a configuration has several seeds)."""
    metrics = [c for c in agg.columns if f"{c}_std" in agg.columns]
    configs = [c for c in agg.columns if c not in metrics and not c.endswith("_std") and c != "n_seeds"]
    columns = configs + metrics
    header = [HEADERS.get(c, c) for c in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for _, row in agg.iterrows():
        cells = [_cell(row, c) if c in metrics else format_param(row[c]) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_tables(frame: pd.DataFrame, agg: pd.DataFrame, out: Path) -> dict[str, Path]:
    """report.md (with the tuning split's choices, when the runs have one), report.csv (one row per
    configuration) and runs.csv (one row per run) in ``out``."""
    from glider.report.tuning_choice import tuning_choices

    out.mkdir(parents=True, exist_ok=True)
    files = {"report_md": out / "report.md", "report_csv": out / "report.csv", "runs_csv": out / "runs.csv"}
    chosen = tuning_choices(agg)
    atomic_write_text(files["report_md"], markdown(agg) + (f"\n{chosen}" if chosen else ""))
    atomic_write_text(files["report_csv"], agg.to_csv(index=False))
    atomic_write_text(files["runs_csv"], frame.to_csv(index=False))
    return files
