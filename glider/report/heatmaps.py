"""Routing heatmaps: average routing weight of each expert in each layer, per eval task."""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from glider.io import atomic_path  # noqa: E402
from glider.moe.stats import RoutingStats  # noqa: E402

_BLOCK = re.compile(r"^(?P<stack>encoder|decoder)\.block\.(?P<index>\d+)\.")


def layer_of(module: str) -> str:
    """'encoder.block.3.layer.0.SelfAttention.q' -> 'enc3'; other names are kept."""
    match = _BLOCK.match(module)
    return f"{match['stack'][:3]}{match['index']}" if match else module


def experts_by_layer(stats: RoutingStats, task: str) -> tuple[list[str], torch.Tensor]:
    """(layer names, [N, layers]) mean routing weight, averaged over the modules of each layer."""
    modules, weights = stats.mean_weights(task)  # [modules, N]
    layers: dict[str, list[int]] = {}
    for i, module in enumerate(modules):
        layers.setdefault(layer_of(module), []).append(i)
    names = list(layers)
    if not names:
        return [], torch.zeros(stats.num_experts, 0)
    return names, torch.stack([weights[idx].mean(dim=0) for idx in layers.values()], dim=1)


def plot_routing_heatmaps(stats: RoutingStats, expert_names: list[str], tasks: list[str], path: Path, title: str) -> Path | None:
    """One panel per task: experts (rows) x layers (columns), colour = mean routing weight."""
    panels = [(t, *experts_by_layer(stats, t)) for t in tasks]
    panels = [p for p in panels if p[1]]
    if not panels:
        return None
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    height = max(2.5, 0.22 * len(expert_names) + 1.2)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, height * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    for ax, (task, layers, grid) in zip(axes.flat, panels):
        image = ax.imshow(grid.numpy(), aspect="auto", vmin=0.0, vmax=1.0, cmap="viridis")
        ax.set_title(task, fontsize=9)
        ax.set_xticks(range(len(layers)), layers, rotation=90, fontsize=6)
        ax.set_yticks(range(len(expert_names)), expert_names, fontsize=6)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, label="mean routing weight")
    fig.suptitle(title, fontsize=11)
    _save(fig, path)
    return path


def plot_task_expert_overview(stats: RoutingStats, expert_names: list[str], tasks: list[str], path: Path, title: str) -> Path | None:
    """Tasks (rows) x experts (columns): routing weight averaged over all modules."""
    rows, names = [], []
    for task in tasks:
        modules, weights = stats.mean_weights(task)
        if modules:
            rows.append(weights.mean(dim=0))
            names.append(task)
    if not rows:
        return None
    grid = torch.stack(rows).numpy()
    fig, ax = plt.subplots(figsize=(max(5, 0.35 * len(expert_names) + 2), max(3, 0.3 * len(names) + 1.5)))
    image = ax.imshow(grid, aspect="auto", vmin=0.0, vmax=max(0.5, float(grid.max())), cmap="magma")
    ax.set_xticks(range(len(expert_names)), expert_names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.set_xlabel("expert")
    ax.set_ylabel("eval task")
    fig.colorbar(image, ax=ax, label="mean routing weight (all modules)")
    ax.set_title(title, fontsize=10)
    _save(fig, path)
    return path


def _save(fig: "plt.Figure", path: Path) -> None:
    """PNG written atomically (a killed run leaves no half image under the final name)."""
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
