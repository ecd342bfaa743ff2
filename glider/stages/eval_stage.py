"""Stage `eval`: routed evaluation of every eval task; results table, heatmaps, predictions, logger.

The stage wires the parts together: the router and its expert side (``glider/instruct/expert_side.py``),
the evaluation data with query embeddings (``glider/data/datamodules.py``, ``glider/instruct/queries.py``),
the routed model and its evaluator under a Lightning Trainer (``glider/lit``), what DDP gathers
(``glider/lit/eval_gather.py``), and the run's files (``glider/report/run_outputs.py``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import hydra
from lightning.pytorch import seed_everything

from glider.data.collate import EvalCollator
from glider.data.datamodules import EvalDataModule
from glider.data.spec import Example
from glider.instruct.expert_side import expert_side_for
from glider.instruct.queries import attach_query_embeddings, queries_lock
from glider.library.expert_subset import select_experts
from glider.lit.auto_alpha_utility import calibrate_by_utility
from glider.lit.ddp import ddp_job_scope, wait_for_children
from glider.lit.eval_gather import check_each_example_once, gather_predictions, sum_over_processes
from glider.lit.evaluation import RoutedEvaluator
from glider.lit.lorahub_eval import LoraHubEval
from glider.lit.run_logging import log_run, make_logger
from glider.lit.trainer_factory import evaluation_trainer
from glider.lit.tuning_eval import check_tuning_router, run_tuning, tuning_rows
from glider.moe.routed_model import RoutedSeq2Seq
from glider.report.cost import run_cost
from glider.report.run_outputs import EvalResult, eval_result, write_run_outputs
from glider.routers.base import ExpertSide
from glider.routers.lorahub import lorahub_settings
from glider.routers.router import Router
from glider.stages.context import StageContext

log = logging.getLogger("glider")

__all__ = ["EvalResult", "run_eval"]


def run_eval(ctx: StageContext) -> EvalResult | None:
    """Evaluate the configured router on every eval task; rank 0 writes and returns the results."""
    start = time.time()
    seed_everything(ctx.seed, workers=True, verbose=False)
    router: Router = hydra.utils.instantiate(ctx.cfg.router, _convert_="all")
    if router.uses_experts:
        library = ctx.open_library()
        experts = library.load_all()
        side = expert_side_for(ctx.cfg, router, library)
        subset = ctx.cfg.eval.get("experts")
        experts, side = select_experts(experts, side, None if subset is None else [str(n) for n in subset])
    else:
        library, experts, side = None, [], ExpertSide(names=[], tasks=[])
    hub = LoraHubEval(ctx, lorahub_settings(router), experts) if lorahub_settings(router) else None
    if hub is not None:  # the model holds one composed expert per task, filled by the search
        experts, side = hub.model_experts(ctx.source.eval_tasks())
    model, tokenizer = ctx.load_backbone()
    routed = RoutedSeq2Seq(model, router, experts, side, targets=ctx.target_modules)
    tuning_n = tuning_rows(ctx.cfg)
    if tuning_n:
        check_tuning_router(routed)  # before any evaluation work
    if router.mode == "routed" and router.auto_alpha is not None and router.auto_alpha.cutoff == "utility":
        calibrate_by_utility(ctx, routed, tokenizer)
    all_tasks = ctx.source.eval_tasks()
    tasks = [t for t in all_tasks if not router.uses_experts or router.mode != "routed" or router.supports(t.name)]
    skipped = [t.name for t in all_tasks if t not in tasks]
    if skipped:
        log.info("eval: router %s has no score for %s (no expert of that task); reported as n/a", router.name, ", ".join(skipped))
    collator = EvalCollator(tokenizer, {t.name: i for i, t in enumerate(tasks)}, ctx.model_cfg.max_source_length, ctx.model_cfg.max_target_length)

    def items_with_queries(examples: dict[str, list[Example]]) -> list[dict[str, Any]]:
        with queries_lock(ctx.cfg):
            return attach_query_embeddings(ctx.cfg, router, tasks, examples)

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
        predictions, stats = gather_predictions(evaluator, trainer)
        truncated = sum_over_processes(collator.counter.truncated, trainer)
        if not trainer.is_global_zero:
            return None
        check_each_example_once(predictions, items)
        if truncated:
            log.warning("eval: %d of %d inputs were longer than model.max_source_length=%d and were truncated", truncated, len(items), ctx.model_cfg.max_source_length)
        result = eval_result(router, ctx.seed, all_tasks, tasks, mean, count, start, trainer.world_size)
        if tuning_n:
            result.tuning = run_tuning(ctx, routed, tokenizer, tuning_n)
        cost = run_cost(result.seconds, result.counts, **(hub.search_cost() if hub else {}))
        extra = {"cost": cost, **(hub.summary_entries() if hub else {})}
        images = write_run_outputs(ctx.cfg, ctx.run_dir, router, result, predictions, stats, routed.expert_names,
                                   routed.expert_side.tasks, tasks, truncated, extra)
        if logger is not None:
            log_run(logger, ctx.cfg, result.frame, result.averages, images)
        wait_for_children(trainer)
    return result


def examples_by_task(items: list[dict[str, Any]]) -> dict[str, list[Example]]:
    """The evaluated examples of each task, from the evaluation items."""
    out: dict[str, list[Example]] = {}
    for item in items:
        out.setdefault(item["example"].task, []).append(item["example"])
    return out
