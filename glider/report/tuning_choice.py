"""What the tuning split chooses, and how the choice scores on the evaluation examples.

For every router with several configurations scored on a tuning split (summary.json's
``tuning``: glider/lit/tuning_eval.py), the configuration of the best tuning score
(the mean of its tuning held-in and tuning held-out averages, over seeds) is the choice;
its evaluation scores are shown beside it, never used to make it.
"""

from __future__ import annotations

import math

import pandas as pd

from glider.report.sweep_table import ROUTER_PARAMS, format_param

TUNING = ("tuning_heldin", "tuning_heldout")


def tuning_score(row: pd.Series) -> float:
    """The tuning objective of one configuration: mean of the tuning averages it has."""
    values = [float(row[c]) for c in TUNING if c in row and not math.isnan(float(row[c]))]
    return sum(values) / len(values) if values else math.nan


def tuning_choices(agg: pd.DataFrame) -> str | None:
    """Markdown lines, one per router with at least two tuned configurations; None when there is none."""
    if not set(TUNING) & set(agg.columns):
        return None
    scored = agg.assign(_tuning=agg.apply(tuning_score, axis=1)).dropna(subset=["_tuning"])
    lines = []
    for router, group in scored.groupby("router", sort=True):
        if len(group) < 2:
            continue
        best = group.loc[group["_tuning"].idxmax()]
        params = " ".join(f"{p}={format_param(best[p])}" for p in ROUTER_PARAMS if p in best and format_param(best[p]) != "-")
        evaluation = ", ".join(f"{name} {_value(best, key)}" for key, name in
                               (("heldin_avg", "held-in"), ("heldout_avg", "held-out"), ("overall_avg", "overall")) if key in best)
        lines.append(f"- {router}: {params or 'its only setting'} (tuning score {best['_tuning']:.3f}); "
                     f"on the evaluation examples: {evaluation}")
    if not lines:
        return None
    return "Chosen on the tuning split (mean of tuning held-in and held-out; evaluation examples not used):\n\n" + "\n".join(lines) + "\n"


def _value(row: pd.Series, key: str) -> str:
    value, std = float(row[key]), float(row.get(f"{key}_std", math.nan))
    if math.isnan(value):
        return "n/a"
    return f"{value:.3f}" + ("" if math.isnan(std) else f" ± {std:.3f}")
