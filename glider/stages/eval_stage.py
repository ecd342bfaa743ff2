"""Stage `eval`: routed evaluation of every eval task; results table, heatmaps, predictions, logger."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import torch
from filelock import FileLock
from lightning.pytorch import seed_everything
from omegaconf import OmegaConf

from glider.data.collate import EvalCollator
from glider.data.datamodules import EvalDataModule
from glider.data.spec import Example, TaskSpec
from glider.errors import ConfigError
from glider.instruct.embedding_file import gives_embeddings
from glider.instruct.queries import cached_encode, query_instructions
from glider.io import atomic_write_json, atomic_write_text
from glider.hydra_job import job_overrides
from glider.lit.ddp import ddp_job_scope, wait_for_children
from glider.lit.evaluation import RoutedEvaluator
from glider.lit.run_logging import log_run, make_logger
from glider.lit.trainer_factory import evaluation_trainer
from glider.moe.routed_model import RoutedSeq2Seq
from glider.moe.stats import RoutingStats
from glider.report.cost import run_cost
from glider.report.heatmaps import plot_routing_heatmaps, plot_task_expert_overview
from glider.report.routing_choices import global_identification, high_alpha_fractions
from glider.report.routing_stats_file import save_routing_stats
from glider.report.tables import results_frame, run_report, split_averages, write_run_tables
from glider.routers.auto_alpha import AutoAlpha
from glider.routers.base import ExpertSide
from glider.routers.lorahub import lorahub_settings
from glider.routers.router import Router
from glider.stages.auto_alpha_utility import calibrate_by_utility
from glider.stages.context import StageContext
from glider.stages.describe_stage import load_expert_side, make_embedder, make_writer
from glider.stages.lorahub_stage import LoraHubEval

log = logging.getLogger("glider")


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


def _needs_embeddings(router: Router) -> bool:
    return router.mode == "routed" and bool(router.global_scorer_names() & {"instruction", "retrieval"})


def build_items(ctx: StageContext, router: Router, tasks: list[TaskSpec], examples: dict[str, list[Example]]) -> list[dict[str, Any]]:
    """Examples with the query-side embeddings the router's global scorers need."""
    items = [{"example": e} for t in tasks for e in examples[t.name]]
    if not _needs_embeddings(router):
        return items
    writer, embedder = make_writer(ctx).for_queries(), make_embedder(ctx)
    cache = Path(ctx.cfg.paths.cache_dir) / "query_embeddings"
    names = router.global_scorer_names()
    if "instruction" in names and gives_embeddings(writer):  # llm=embeddings: one precomputed vector per task
        per_task = writer.query_embeddings([t.name for t in tasks])
        for item in items:
            item["instruction_emb"] = per_task[item["example"].task]
    elif "instruction" in names:
        texts = query_instructions(writer, examples, router.global_granularity, int(ctx.cfg.library.describe.k))
        flat = [text for t in tasks for text in texts[t.name]]
        emb = cached_encode(embedder, flat, "query", cache)
        for item, row in zip(items, emb):
            item["instruction_emb"] = row
    if "retrieval" in names:
        emb = cached_encode(embedder, [item["example"].source for item in items], "query", cache)
        for item, row in zip(items, emb):
            item["input_emb"] = row
    return items


def expert_side_for(ctx: StageContext, router: Router, library: Any) -> ExpertSide:
    auto_alpha = router.mode == "routed" and isinstance(router.alpha, AutoAlpha)
    if _needs_embeddings(router) or auto_alpha:
        writer = make_writer(ctx)
        if gives_embeddings(writer):
            return expert_side_from_file(writer, router, library, auto_alpha)
        embedder = make_embedder(ctx)
        return load_expert_side(ctx, library, embedder.name, embedder.dim, router.global_granularity)
    return ExpertSide(names=list(library.names), tasks=list(library.tasks))


def expert_side_from_file(source: Any, router: Router, library: Any, auto_alpha: bool) -> ExpertSide:
    """llm=embeddings: the experts' instruction embeddings straight from the expert-side file."""
    if auto_alpha:
        raise ConfigError("router.alpha=auto calibrates on the embeddings of described experts (probe queries), which "
                          "llm=embeddings does not have: give a number (the paper: router.alpha=100 held-in, 3 held-out).")
    if "retrieval" in router.global_scorer_names():
        raise ConfigError("router=retrieval compares inputs with the experts' training inputs, which llm=embeddings does not "
                          "embed: use llm=none/file/openai/hf with it.")
    return ExpertSide(names=list(library.names), tasks=list(library.tasks), instruction_emb=source.expert_embeddings(library.tasks))


def run_eval(ctx: StageContext) -> EvalResult | None:
    """Evaluate the configured router on every eval task; rank 0 writes and returns the results."""
    start = time.time()
    seed_everything(ctx.seed, workers=True, verbose=False)
    router: Router = hydra.utils.instantiate(ctx.cfg.router, _convert_="all")
    if router.uses_experts:
        library = ctx.open_library()
        experts = library.load_all()
        side = expert_side_for(ctx, router, library)
    else:
        library, experts, side = None, [], ExpertSide(names=[], tasks=[])
    hub = LoraHubEval(ctx, lorahub_settings(router), experts) if lorahub_settings(router) else None
    if hub is not None:  # the model holds one composed expert per task, filled by the search
        experts, side = hub.model_experts(ctx.source.eval_tasks())
    model, tokenizer = ctx.load_backbone()
    routed = RoutedSeq2Seq(model, router, experts, side, targets=ctx.target_modules)
    if isinstance(router.alpha, AutoAlpha) and router.mode == "routed" and router.alpha.cutoff == "utility":
        calibrate_by_utility(ctx, routed, tokenizer, build_items)
    all_tasks = ctx.source.eval_tasks()
    tasks = [t for t in all_tasks if not router.uses_experts or router.mode != "routed" or router.supports(t.name)]
    skipped = [t.name for t in all_tasks if t not in tasks]
    if skipped:
        log.info("eval: router %s has no score for %s (no expert of that task); reported as n/a", router.name, ", ".join(skipped))
    collator = EvalCollator(tokenizer, {t.name: i for i, t in enumerate(tasks)}, ctx.model_cfg.max_source_length, ctx.model_cfg.max_target_length)

    def items_with_queries(examples: dict[str, list[Example]]) -> list[dict[str, Any]]:
        with _queries_lock(ctx):
            return build_items(ctx, router, tasks, examples)

    data = EvalDataModule(ctx.source, tasks, int(ctx.cfg.eval.examples_per_task), ctx.seed, collator, int(ctx.cfg.eval.batch_size),
                          build_items=items_with_queries)
    evaluator = RoutedEvaluator(routed, tokenizer, tasks, max_new_tokens=int(ctx.cfg.eval.max_new_tokens), record_routing=bool(ctx.cfg.eval.heatmaps))
    logger = make_logger(ctx.cfg)
    with ddp_job_scope():
        evaluated = lambda: examples_by_task(data.items or [])  # noqa: E731 (after setup: lorahub's few-shot examples avoid them)
        callbacks = [hub.make_callback(tasks, routed.expert_side.tasks, evaluated, tokenizer)] if hub else []
        trainer = evaluation_trainer(ctx.cfg.trainer, logger, callbacks)
        log.info("eval: router %s (%s) on %d tasks", router.name, router.describe(), len(tasks))
        trainer.test(evaluator, datamodule=data, verbose=False)
        items = data.items or []
        log.info("eval: process %d of %d scored %d examples", trainer.global_rank, trainer.world_size, len(evaluator.predictions))
        mean, count = evaluator.task_scores()  # summed over processes (torchmetrics states)
        predictions, stats = _gather(evaluator, trainer)
        truncated = _sum_over_processes(collator.counter.truncated, trainer)
        if not trainer.is_global_zero:
            return None
        _check_each_example_once(predictions, items)
        if truncated:
            log.warning("eval: %d of %d inputs were longer than model.max_source_length=%d and were truncated", truncated, len(items), ctx.model_cfg.max_source_length)
        result = _finish(ctx, router, all_tasks, tasks, mean, count, start, trainer.world_size)
        cost = run_cost(result.seconds, result.counts, **(hub.search_cost() if hub else {}))
        extra = {"cost": cost, **(hub.summary_entries() if hub else {})}
        _write_outputs(ctx, router, result.frame, result, predictions, stats, routed, tasks, truncated, logger, extra)
        wait_for_children(trainer)
    return result


def _finish(ctx: StageContext, router: Router, all_tasks: list[TaskSpec], tasks: list[TaskSpec], mean: torch.Tensor, count: torch.Tensor,
            start: float, world_size: int) -> EvalResult:
    """Scores per task, the results frame and split averages (rank 0)."""
    scores = {t.name: float(mean[i]) for i, t in enumerate(tasks)}
    counts = {t.name: int(count[i]) for i, t in enumerate(tasks)}
    rows = []
    for t in all_tasks:
        rows.append({"router": router.name, "seed": ctx.seed, "task": t.name, "split": t.split, "family": t.family, "metric": t.metric,
                     "n": counts.get(t.name, 0), "score": scores.get(t.name, float("nan"))})
    frame = results_frame(rows)
    return EvalResult(router=router.name, scores=scores, counts=counts, averages=split_averages(frame), seconds=round(time.time() - start, 1),
                      world_size=world_size, frame=frame)


def examples_by_task(items: list[dict[str, Any]]) -> dict[str, list[Example]]:
    """The evaluated examples of each task, from the evaluation items."""
    out: dict[str, list[Example]] = {}
    for item in items:
        out.setdefault(item["example"].task, []).append(item["example"])
    return out


def _queries_lock(ctx: StageContext) -> Any:
    """Processes started together (torchrun, SLURM tasks) write query instructions once: the first writes, the others read the cache."""
    if int(os.environ.get("WORLD_SIZE", os.environ.get("SLURM_NTASKS", "1"))) <= 1:
        return contextlib.nullcontext()
    Path(ctx.cfg.paths.cache_dir).mkdir(parents=True, exist_ok=True)
    return FileLock(str(Path(ctx.cfg.paths.cache_dir) / ".queries.lock"))


def _sum_over_processes(value: int, trainer: L.Trainer) -> int:
    if trainer.world_size > 1 and torch.distributed.is_initialized():
        gathered: list[Any] = [None] * trainer.world_size
        torch.distributed.all_gather_object(gathered, value)
        return int(sum(gathered))
    return value


def _check_each_example_once(predictions: list[dict], items: list[dict[str, Any]]) -> None:
    """Every example was evaluated by exactly one process (no sampler padding, no loss)."""
    seen = [(p["task"], p["uid"]) for p in predictions]
    expected = sorted((it["example"].task, it["example"].uid) for it in items)
    if sorted(seen) != expected:
        raise RuntimeError(f"eval: {len(seen)} predictions for {len(expected)} examples ({len(set(seen))} distinct): the sampler must shard exactly")


def _gather(evaluator: RoutedEvaluator, trainer: L.Trainer) -> tuple[list[dict], RoutingStats | None]:
    """Per-example predictions and routing statistics of every process, on every process."""
    predictions, stats = evaluator.predictions, evaluator.stats
    if trainer.world_size > 1 and torch.distributed.is_initialized():
        gathered: list[Any] = [None] * trainer.world_size
        torch.distributed.all_gather_object(gathered, (predictions, stats))
        predictions = [p for part, _ in gathered for p in part]
        if stats is not None:
            merged = RoutingStats(stats.task_names, stats.num_experts)
            for _, part in gathered:
                merged.merge_(part)
            stats = merged
    predictions.sort(key=lambda p: (p["task"], p["uid"]))
    return predictions, stats


def _write_outputs(ctx: StageContext, router: Router, frame: Any, result: EvalResult, predictions: list[dict], stats: RoutingStats | None,
                   routed: RoutedSeq2Seq, tasks: list[TaskSpec], truncated: int, logger: Any, extra: dict[str, Any]) -> None:
    out = ctx.run_dir
    md, csv = write_run_tables(frame, router.name, out)
    result.files.update({"results_md": str(md), "results_csv": str(csv)})
    if ctx.cfg.eval.get("save_predictions", True):
        path = out / "predictions.jsonl"
        atomic_write_text(path, "".join(json.dumps(p) + "\n" for p in predictions))
        result.files["predictions"] = str(path)
    images = []
    if stats is not None:
        title = f"{router.name} ({router.describe()}), seed {ctx.seed}"
        heat = plot_routing_heatmaps(stats, routed.expert_names, [t.name for t in tasks], out / "routing_heatmaps.png", title)
        overview = plot_task_expert_overview(stats, routed.expert_names, [t.name for t in tasks], out / "routing_overview.png", title)
        images = [p for p in (heat, overview) if p is not None]
        result.files.update({p.stem: str(p) for p in images})
        result.files["routing_stats"] = str(save_routing_stats(stats, routed.expert_names, out / "routing_stats.safetensors"))
    summary = {
        "router": router.name,
        "router_formula": router.describe(),
        "seed": ctx.seed,
        **result.averages,
        "scores": result.scores,
        "counts": result.counts,
        "truncated_inputs": truncated,
        "seconds": result.seconds,
        "world_size": result.world_size,
        "alpha_auto": _auto_alpha_info(router, predictions, tasks),
        "global_top1": global_identification(predictions, dict(zip(routed.expert_names, routed.expert_side.tasks))),
        "router_params": _router_params(ctx),
        "overrides": job_overrides(),
        **extra,
    }
    atomic_write_json(out / "summary.json", summary)
    result.files["summary"] = str(out / "summary.json")
    print("\n" + run_report(frame, f"{router.name} ({router.describe()})"), flush=True)
    if summary["global_top1"]:
        print(f"global router: the task's own expert scores highest for {summary['global_top1']['average']:.3f} of its examples "
              "(average over tasks with an expert)", flush=True)
    if summary["alpha_auto"]:
        auto = summary["alpha_auto"]
        shares = ", ".join(f"{share:.0%} of {split}" for split, share in auto["high_fraction_by_split"].items())
        print(f"alpha=auto ({auto['cutoff']} cutoff, threshold {auto['threshold']:.3f}): alpha {auto['high']:g} for {shares} examples",
              flush=True)
    if logger is not None:
        log_run(logger, ctx.cfg, frame, result.averages, images)


def _router_params(ctx: StageContext) -> dict[str, Any]:
    """The router's swept knobs as configured (alpha may be 'auto')."""
    router = OmegaConf.to_container(ctx.cfg.router, resolve=True)
    keys = ("alpha", "top_k", "top_p", "dense", "local", "global_scorers", "global_granularity")
    return {k: router[k] for k in keys if k in router}


def _auto_alpha_info(router: Router, predictions: list[dict], tasks: list[TaskSpec]) -> dict | None:
    """alpha=auto's calibration, and how often it chose the high alpha (per task and per split)."""
    alpha = router.alpha
    if not isinstance(alpha, AutoAlpha):
        return None
    return {"threshold": alpha.threshold, "high": alpha.high, "low": alpha.low, "matched_mean": alpha.matched_mean,
            "unmatched_mean": alpha.unmatched_mean, "separation": alpha.separation, "matched": alpha.matched,
            "cutoff": alpha.cutoff, "matched_gain": alpha.matched_gain, "unmatched_gain": alpha.unmatched_gain,
            **high_alpha_fractions(predictions, tasks, alpha.high)}

