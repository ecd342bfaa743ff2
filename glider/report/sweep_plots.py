"""Plots across runs: score vs alpha per router, held-in vs held-out average per router (PNG)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from glider.report.sweep_table import ROUTER_PARAMS, config_columns, config_key, format_param  # noqa: E402

_TITLES = {"heldin_avg": "held-in average", "heldout_avg": "held-out average"}  # the two panels / axes


def _describe(row: pd.Series, columns: list[str], limit: int = 60) -> str:
    """'top_k=2 trainer=ddp_cpu' from the row's values (unset ones left out), at most ``limit`` characters."""
    parts = [f"{c}={format_param(row[c])}" for c in columns if format_param(row[c]) != "-"]
    text = " ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _varying(agg: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if agg[c].map(str).nunique() > 1]


def plot_score_vs_alpha(agg: pd.DataFrame, path: Path) -> Path | None:
    """Held-in and held-out average against alpha (log scale), one line per router (and other swept setting)."""
    if "alpha" not in agg.columns:
        return None
    data = agg.assign(alpha_value=pd.to_numeric(agg["alpha"], errors="coerce")).dropna(subset=["alpha_value"])
    if data.empty:
        return None
    series_cols = [c for c in config_columns(agg) if c != "alpha"]
    varying = [c for c in _varying(data, series_cols) if c != "router"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), squeeze=False)
    for ax, metric in zip(axes[0], _TITLES):
        for _, group in data.groupby(config_key(data, series_cols), sort=True):
            group = group.sort_values("alpha_value")
            std = group[f"{metric}_std"].fillna(0.0)
            ax.errorbar(group["alpha_value"], group[metric], yerr=std, marker="o", capsize=3, label=" ".join([str(group.iloc[0]["router"]), _describe(group.iloc[0], varying)]).strip())
        ax.set_xscale("log")
        ax.set_xlabel("alpha")
        ax.set_ylabel(_TITLES[metric])
        ax.set_title(_TITLES[metric])
        ax.grid(alpha=0.3)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8)
    fig.suptitle("score vs alpha")
    return _save(fig, path)


def plot_heldin_vs_heldout(agg: pd.DataFrame, path: Path) -> Path | None:
    """One point per configuration: x = held-in average, y = held-out average, colour = router."""
    data = agg.dropna(subset=list(_TITLES), how="all")
    if data.empty:
        return None
    labels = [c for c in _varying(data, config_columns(agg)) if c in ROUTER_PARAMS]
    fig, ax = plt.subplots(figsize=(6, 5))
    for router, group in data.groupby("router", sort=True):
        ax.errorbar(group["heldin_avg"], group["heldout_avg"], xerr=group["heldin_avg_std"].fillna(0.0),
                    yerr=group["heldout_avg_std"].fillna(0.0), fmt="o", capsize=3, label=str(router))
        for _, row in group.iterrows():
            text = _describe(row, labels)
            if text and not (math.isnan(row["heldin_avg"]) or math.isnan(row["heldout_avg"])):
                ax.annotate(text, (row["heldin_avg"], row["heldout_avg"]), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("held-in average")
    ax.set_ylabel("held-out average")
    ax.set_title("held-in vs held-out")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
