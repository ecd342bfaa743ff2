"""What one evaluation run leaves in its directory: tables, predictions, routing statistics and plots, summary.json.

    results.md, results.csv        per-task scores (and split averages)
    predictions.jsonl              one record per example (prediction, target, score, top expert, alpha)
    routing_heatmaps.png, routing_overview.png, routing_stats.safetensors   (when statistics were recorded)
    summary.json                   averages, scores, counts, the router, alpha=auto's choices, cost, overrides
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from glider.data.spec import TaskSpec
from glider.hydra_job import job_overrides
from glider.io import atomic_write_json, atomic_write_text
from glider.moe.stats import RoutingStats
from glider.report.heatmaps import plot_routing_heatmaps, plot_task_expert_overview
from glider.report.routing_choices import global_identification, high_alpha_fractions
from glider.report.routing_stats_file import save_routing_stats
from glider.report.tables import results_frame, run_report, split_averages, write_run_tables
from glider.routers.router import Router


@dataclass
class EvalResult:
    """What one evaluation produced (on rank 0)."""

    router: str
    scores: dict[str, float]
    counts: dict[str, int]
    averages: dict[str, float]
    files: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    world_size: int = 1
    frame: Any = field(default=None, repr=False)
    tuning: dict[str, Any] | None = None  # eval.tuning: scores on the tuning split (glider/lit/tuning_eval.py)


def eval_result(router: Router, seed: int, all_tasks: list[TaskSpec], tasks: list[TaskSpec], mean: Any, count: Any,
                start: float, world_size: int) -> EvalResult:
    """Scores per task (``mean``/``count`` indexed like ``tasks``), the results frame and split averages; tasks the
    router does not score (``all_tasks`` beyond ``tasks``) are rows of n/a."""
    scores = {t.name: float(mean[i]) for i, t in enumerate(tasks)}
    counts = {t.name: int(count[i]) for i, t in enumerate(tasks)}
    rows = [{"router": router.name, "seed": seed, "task": t.name, "split": t.split, "family": t.family, "metric": t.metric,
             "n": counts.get(t.name, 0), "score": scores.get(t.name, float("nan"))} for t in all_tasks]
    frame = results_frame(rows)
    return EvalResult(router=router.name, scores=scores, counts=counts, averages=split_averages(frame),
                      seconds=round(time.time() - start, 1), world_size=world_size, frame=frame)


def write_run_outputs(cfg: DictConfig, out: Path, router: Router, result: EvalResult, predictions: list[dict],
                      stats: RoutingStats | None, expert_names: list[str], expert_tasks: list[str], tasks: list[TaskSpec],
                      truncated: int, extra: dict[str, Any]) -> list[Path]:
    """Write every file of the run into ``out`` (atomic), print the report; returns the plots written."""
    md, csv = write_run_tables(result.frame, router.name, out)
    result.files.update({"results_md": str(md), "results_csv": str(csv)})
    if cfg.eval.get("save_predictions", True):
        path = out / "predictions.jsonl"
        atomic_write_text(path, "".join(json.dumps(p) + "\n" for p in predictions))
        result.files["predictions"] = str(path)
    images: list[Path] = []
    if stats is not None:
        title = f"{router.name} ({router.describe()}), seed {cfg.seed}"
        task_names = [t.name for t in tasks]
        heat = plot_routing_heatmaps(stats, expert_names, task_names, out / "routing_heatmaps.png", title)
        overview = plot_task_expert_overview(stats, expert_names, task_names, out / "routing_overview.png", title)
        images = [p for p in (heat, overview) if p is not None]
        result.files.update({p.stem: str(p) for p in images})
        result.files["routing_stats"] = str(save_routing_stats(stats, expert_names, out / "routing_stats.safetensors"))
    summary = {
        "router": router.name,
        "router_formula": router.describe(),
        "seed": cfg.seed,
        **result.averages,
        "scores": result.scores,
        "counts": result.counts,
        "truncated_inputs": truncated,
        "seconds": result.seconds,
        "world_size": result.world_size,
        "alpha_auto": auto_alpha_info(router, predictions, tasks),
        "global_top1": global_identification(predictions, dict(zip(expert_names, expert_tasks))),
        "tuning": result.tuning,
        "router_params": router_params(cfg),
        "overrides": job_overrides(),
        **extra,
    }
    atomic_write_json(out / "summary.json", summary)
    result.files["summary"] = str(out / "summary.json")
    print_run_report(result, router, summary)
    return images


def print_run_report(result: EvalResult, router: Router, summary: dict[str, Any]) -> None:
    """The results table, and what the global router and alpha=auto chose, on the console."""
    print("\n" + run_report(result.frame, f"{router.name} ({router.describe()})"), flush=True)
    if summary["global_top1"]:
        print(f"global router: the task's own expert scores highest for {summary['global_top1']['average']:.3f} of its examples "
              "(average over tasks with an expert)", flush=True)
    if result.tuning:
        print(f"tuning split ({result.tuning['examples_per_task']} held-back training rows per task, not the evaluation examples): "
              f"held-in {result.tuning['heldin_avg']:.3f}, held-out (own expert left out) {result.tuning['heldout_avg']:.3f}", flush=True)
    if summary["alpha_auto"]:
        auto = summary["alpha_auto"]
        shares = ", ".join(f"{share:.0%} of {split}" for split, share in auto["high_fraction_by_split"].items())
        print(f"alpha=auto ({auto['cutoff']} cutoff, threshold {auto['threshold']:.3f}): alpha {auto['high']:g} for {shares} examples, "
              f"{auto['low']:g} for the others",
              flush=True)


def router_params(cfg: DictConfig) -> dict[str, Any]:
    """The router's swept knobs as configured (alpha may be 'auto')."""
    router = OmegaConf.to_container(cfg.router, resolve=True)
    keys = ("alpha", "top_k", "top_p", "dense", "local", "global_scorers", "global_granularity")
    return {k: router[k] for k in keys if k in router}


def auto_alpha_info(router: Router, predictions: list[dict], tasks: list[TaskSpec]) -> dict | None:
    """alpha=auto's calibration, and how often it chose the high alpha (per task and per split)."""
    alpha = router.auto_alpha
    if alpha is None:
        return None
    return {"threshold": alpha.threshold, "high": alpha.high, "low": alpha.low, "matched_mean": alpha.matched_mean,
            "unmatched_mean": alpha.unmatched_mean, "separation": alpha.separation, "matched": alpha.matched,
            "cutoff": alpha.cutoff, "matched_gain": alpha.matched_gain, "unmatched_gain": alpha.unmatched_gain,
            "grid": alpha.grid, "probe_accuracy": alpha.probe_accuracy,
            **high_alpha_fractions(predictions, tasks, alpha.high)}
