"""Stage `eval`: routed evaluation of every eval task; results table, heatmaps, predictions, logger."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import torch
from lightning.pytorch import seed_everything
from omegaconf import OmegaConf
from torch.utils.data import DataLoader

from glider.data.collate import EvalCollator
from glider.data.eval_data import EvalItems, TaskBatchSampler
from glider.data.source import check_examples
from glider.data.spec import Example, TaskSpec
from glider.instruct.queries import cached_encode, query_instructions
from glider.io import atomic_write_json, atomic_write_text
from glider.lit.evaluation import RoutedEvaluator
from glider.lit.trainer_factory import quiet_lightning
from glider.moe.routed_model import RoutedSeq2Seq
from glider.moe.stats import RoutingStats
from glider.report.heatmaps import plot_routing_heatmaps, plot_task_expert_overview
from glider.report.tables import results_frame, run_report, split_averages, write_run_tables
from glider.routers.base import ExpertSide
from glider.routers.router import Router
from glider.stages.context import StageContext
from glider.stages.describe_stage import load_expert_side, make_embedder, make_writer

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


def _needs_embeddings(router: Router) -> bool:
    return router.mode == "routed" and any(s.name in ("instruction", "retrieval") for s, _ in router.global_)


def build_items(ctx: StageContext, router: Router, tasks: list[TaskSpec], examples: dict[str, list[Example]]) -> list[dict[str, Any]]:
    """Examples with the query-side embeddings the router's global scorers need."""
    items = [{"example": e} for t in tasks for e in examples[t.name]]
    if not _needs_embeddings(router):
        return items
    writer, embedder = make_writer(ctx), make_embedder(ctx)
    cache = Path(ctx.cfg.paths.cache_dir) / "query_embeddings"
    names = {s.name for s, _ in router.global_}
    if "instruction" in names:
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
    if _needs_embeddings(router) or (router.mode == "routed" and router.alpha.__class__.__name__ == "AutoAlpha"):
        embedder = make_embedder(ctx)
        return load_expert_side(ctx, library, embedder.name, embedder.dim, router.global_granularity)
    return ExpertSide(names=list(library.names), tasks=list(library.tasks))


def make_logger(ctx: StageContext, router: Router) -> Any:
    if ctx.cfg.get("logger") is None:
        return None
    return hydra.utils.instantiate(ctx.cfg.logger)


def eval_trainer(ctx: StageContext, logger: Any) -> L.Trainer:
    quiet_lightning()
    t = ctx.cfg.trainer
    return L.Trainer(
        accelerator=t.get("accelerator", "cpu"),
        devices=t.get("devices", 1),
        num_nodes=t.get("num_nodes", 1),
        strategy=t.get("strategy", "auto"),
        precision=t.get("eval_precision", t.get("precision", "32-true")),
        logger=logger if logger is not None else False,
        use_distributed_sampler=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=t.get("progress_bar", True),
        inference_mode=True,
        deterministic=t.get("deterministic", False),  # trainer.deterministic=true: bitwise-reproducible GPU evaluation too
    )


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
    model, tokenizer = ctx.load_backbone()
    routed = RoutedSeq2Seq(model, router, experts, side, targets=ctx.target_modules)
    all_tasks = ctx.source.eval_tasks()
    tasks = [t for t in all_tasks if not router.uses_experts or router.mode != "routed" or router.supports(t.name)]
    skipped = [t.name for t in all_tasks if t not in tasks]
    if skipped:
        log.info("eval: router %s has no score for %s (no expert of that task); reported as n/a", router.name, ", ".join(skipped))
    n = int(ctx.cfg.eval.examples_per_task)
    examples = {t.name: check_examples(t, ctx.source.eval_examples(t.name, n, ctx.seed), "evaluation") for t in tasks}
    items = build_items(ctx, router, tasks, examples)
    task_index = {t.name: i for i, t in enumerate(tasks)}
    collator = EvalCollator(tokenizer, task_index, ctx.model_cfg.max_source_length, ctx.model_cfg.max_target_length)
    loader = DataLoader(
        EvalItems(items),
        batch_sampler=TaskBatchSampler([it["example"].task for it in items], int(ctx.cfg.eval.batch_size)),
        collate_fn=collator,
    )
    evaluator = RoutedEvaluator(routed, tokenizer, tasks, max_new_tokens=int(ctx.cfg.eval.max_new_tokens), record_routing=bool(ctx.cfg.eval.heatmaps))
    logger = make_logger(ctx, router)
    trainer = eval_trainer(ctx, logger)
    log.info("eval: router %s (%s) on %d tasks, %d examples", router.name, router.describe(), len(tasks), len(items))
    trainer.test(evaluator, dataloaders=loader, verbose=False)
    mean, count = evaluator.scores.per_task()
    predictions, stats = _gather(evaluator, trainer)
    if collator.counter.truncated:
        log.warning("eval: %d of %d inputs were longer than model.max_source_length=%d and were truncated", collator.counter.truncated, collator.counter.seen, ctx.model_cfg.max_source_length)
    if not trainer.is_global_zero:
        return None
    scores = {t.name: float(mean[i]) for i, t in enumerate(tasks)}
    counts = {t.name: int(count[i]) for i, t in enumerate(tasks)}
    rows = []
    for t in all_tasks:
        rows.append({"router": router.name, "seed": ctx.seed, "task": t.name, "split": t.split, "family": t.family, "metric": t.metric,
                     "n": counts.get(t.name, 0), "score": scores.get(t.name, float("nan"))})
    frame = results_frame(rows)
    averages = split_averages(frame)
    result = EvalResult(router=router.name, scores=scores, counts=counts, averages=averages, seconds=round(time.time() - start, 1))
    _write_outputs(ctx, router, frame, result, predictions, stats, routed, tasks, collator, logger)
    return result


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
                   routed: RoutedSeq2Seq, tasks: list[TaskSpec], collator: EvalCollator, logger: Any) -> None:
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
    summary = {
        "router": router.name,
        "router_formula": router.describe(),
        "seed": ctx.seed,
        **result.averages,
        "scores": result.scores,
        "counts": result.counts,
        "truncated_inputs": collator.counter.truncated,
        "seconds": result.seconds,
        "alpha_auto": _auto_alpha_info(router),
        "overrides": list(ctx.cfg.get("overrides_for_summary", [])),
    }
    atomic_write_json(out / "summary.json", summary)
    result.files["summary"] = str(out / "summary.json")
    print("\n" + run_report(frame, f"{router.name} ({router.describe()})"), flush=True)
    if logger is not None:
        _log_to_logger(ctx, logger, frame, result, images)


def _auto_alpha_info(router: Router) -> dict | None:
    alpha = router.alpha
    if alpha.__class__.__name__ != "AutoAlpha":
        return None
    return {"threshold": alpha.threshold, "high": alpha.high, "low": alpha.low, "matched_mean": alpha.matched_mean,
            "unmatched_mean": alpha.unmatched_mean, "separation": alpha.separation}


def _log_to_logger(ctx: StageContext, logger: Any, frame: Any, result: EvalResult, images: list[Path]) -> None:
    """Resolved config, per-task metrics, the results table and heatmaps; then finish the run."""
    logger.log_hyperparams(OmegaConf.to_container(ctx.cfg, resolve=True))
    metrics = {f"{row.split}/{row.task}": row.score for row in frame.itertuples() if row.score == row.score}
    metrics.update({k: v for k, v in result.averages.items() if v == v})
    logger.log_metrics(metrics)
    if hasattr(logger, "log_table"):
        logger.log_table(key="results", dataframe=frame)
    if hasattr(logger, "log_image") and images:
        logger.log_image(key="routing", images=[str(p) for p in images])
    logger.finalize("success")
    experiment = getattr(logger, "_experiment", None)
    if experiment is not None and hasattr(experiment, "finish"):
        experiment.finish()
