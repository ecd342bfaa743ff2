"""eval.tuning: score the router on a tuning split disjoint from the evaluation examples.

A search (``hparams_search=glider_optuna``) or an experiment that picks a setting must not
pick it on the examples it reports. With ``eval.tuning.examples_per_task: n`` (> 0) every
evaluation also scores, on rank 0:

- **held-in**: for each task that has an expert, n held-back rows of its training split:
  rows [E, E + n) with E = library.experts.train_examples, rows no expert was trained on.
  (The synthetic zoos draw them from their training words and training instructions: never an
  evaluation word or instruction.)
- **held-out**: the same rows with the task's own expert removed (its score -inf), so the
  router must answer without it, as on a task that has no expert. This is all a user has for
  tasks without an expert: the library's own data, each expert left out in turn; no row of
  a held-out task is used.

The averages go to summary.json (``tuning``) and are what ``objective=tuning`` returns.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Callable

import torch
from torch import Tensor

from glider.data.collate import EvalCollator
from glider.data.spec import Example, TaskSpec
from glider.errors import ConfigError
from glider.lit.evaluation import batch_masks, score_batch
from glider.moe.routed_model import RoutedSeq2Seq
from glider.routers.auto_alpha import AutoAlpha
from glider.routers.base import QueryBatch
from glider.routers.router import scale_global_scores
from glider.stages.auto_alpha_utility import calibration_device
from glider.stages.context import StageContext

log = logging.getLogger("glider")

ItemBuilder = Callable[[StageContext, Any, list[TaskSpec], dict[str, list[Example]]], list[dict[str, Any]]]


def tuning_examples(ctx: StageContext, task: str, n: int) -> list[Example]:
    """Rows [E, E + n) of ``task``'s training split (E = library.experts.train_examples), uids 0..n-1."""
    held_back = int(ctx.cfg.library.experts.train_examples)
    rows = ctx.source.train_examples(task, held_back + n, ctx.seed)[held_back:]
    return [_renumber(example, uid) for uid, example in enumerate(rows)]


def _renumber(example: Example, uid: int) -> Example:
    return replace(example, uid=uid)


def check_tuning_router(routed: RoutedSeq2Seq) -> None:
    """One clear error for a router that cannot be scored with an expert left out."""
    router = routed.router
    if router.mode != "routed" or any(s.name in ("oracle", "lorahub") for s, _ in router.global_):
        raise ConfigError(
            f"eval.tuning scores a router that routes among the library's experts with one of them left out; "
            f"router '{router.name}' does not ({router.describe()}): set eval.tuning.examples_per_task=0 for it."
        )


def removed_bias(routed: RoutedSeq2Seq, queries: QueryBatch, own: int) -> Tensor:
    """The global bias [B, N] of these queries with expert ``own`` removed (-inf); alpha=auto decides without it."""
    router = routed.router
    scores = router.global_scores(queries)
    if scores is None:
        scores = torch.zeros(queries.size, routed.num_experts)
    scores = scores.clone()
    scores[:, own] = float("-inf")
    if isinstance(router.alpha, AutoAlpha):
        alpha = router.alpha(scores)
    else:
        alpha = torch.full((queries.size,), float(router.alpha))
    return scale_global_scores(scores, alpha[:, None])


@torch.no_grad()
def run_tuning(ctx: StageContext, routed: RoutedSeq2Seq, tokenizer: Any, build_items: ItemBuilder, n: int) -> dict[str, Any]:
    """Tuning held-in and held-out scores of the routed model (see the module docstring)."""
    check_tuning_router(routed)
    side = routed.expert_side
    known = {t.name for t in ctx.source.heldin()}
    tasks = [t for t in dict.fromkeys(side.tasks) if t in known]
    if not tasks:
        raise ConfigError("eval.tuning needs experts whose tasks have training data in task=...; this library has none.")
    specs = {t: ctx.source.task(t) for t in tasks}
    examples = {t: tuning_examples(ctx, t, n) for t in tasks}
    items = build_items(ctx, routed.router, [specs[t] for t in tasks], examples)
    collator = EvalCollator(tokenizer, {t: i for i, t in enumerate(tasks)}, ctx.model_cfg.max_source_length, ctx.model_cfg.max_target_length)
    device, batch_size = calibration_device(ctx), int(ctx.cfg.eval.batch_size)
    was_training = routed.training
    routed.to(device).eval()
    present: dict[str, float] = {}
    removed: dict[str, float] = {}
    start = 0
    for task in tasks:
        task_items, start = items[start : start + len(examples[task])], start + len(examples[task])
        own = side.tasks.index(task)
        hits_present, hits_removed = [], []
        for first in range(0, len(task_items), batch_size):
            chunk = task_items[first : first + batch_size]
            batch = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in collator(chunk).items()}
            queries = QueryBatch(tasks=[it["example"].task for it in chunk], instruction_emb=_stack(chunk, "instruction_emb"),
                                 input_emb=_stack(chunk, "input_emb"))
            hits_present.append(_score(routed, tokenizer, specs[task], batch, queries, None, ctx))
            hits_removed.append(_score(routed, tokenizer, specs[task], batch, queries, removed_bias(routed, queries, own).to(device), ctx))
        present[task] = float(torch.cat(hits_present).mean())
        removed[task] = float(torch.cat(hits_removed).mean())
    routed.train(was_training)
    result = {"examples_per_task": n, "heldin_avg": sum(present.values()) / len(present),
              "heldout_avg": sum(removed.values()) / len(removed), "heldin": present, "heldout": removed}
    log.info("tuning split (%d held-back training rows per task, %d tasks): held-in %.3f, held-out (own expert left out) %.3f",
             n, len(tasks), result["heldin_avg"], result["heldout_avg"])
    return result


def _stack(items: list[dict[str, Any]], key: str) -> Tensor | None:
    return torch.stack([it[key] for it in items]) if items[0].get(key) is not None else None


def _score(routed: RoutedSeq2Seq, tokenizer: Any, spec: TaskSpec, batch: dict[str, Any], queries: QueryBatch, bias: Tensor | None,
           ctx: StageContext) -> Tensor:
    with routed.batch(queries, len(queries.tasks), masks=batch_masks(batch), task_ids=batch["task_ids"], global_bias=bias):
        scores, _ = score_batch(routed.model, tokenizer, spec, batch, int(ctx.cfg.eval.max_new_tokens))
    return scores.float().cpu()
