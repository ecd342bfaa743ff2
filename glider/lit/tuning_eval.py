"""eval.tuning: score the router on a tuning split disjoint from the evaluation examples.

A search (``hparams_search=glider_optuna``) or an experiment that picks a setting must not
pick it on the examples it reports. With ``eval.tuning.examples_per_task: n`` (> 0) every
evaluation also scores, on rank 0:

- **held-in**: for each task that has an expert, n held-back rows of its training split:
  rows [E, E + n) with E = library.experts.train_examples, rows no expert was trained on.
  (The synthetic zoos draw them from their training words and training instructions: never an
  evaluation word or instruction.)
- **held-out**: the same rows with the task's own expert removed (its global score -inf, so
  it is never selected), as on a task that has no expert. This is all a user has for tasks
  without an expert: the library's own data, each expert left out in turn; no row of a
  held-out task is used.

Both are scored by the routed model itself (local + alpha * global, the router's selection;
alpha=auto decides per example on the scores it sees). The averages go to summary.json
(``tuning``) and are what ``objective=tuning`` returns.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import torch
from omegaconf import DictConfig
from torch import Tensor

from glider.data.collate import EvalCollator
from glider.data.spec import Example
from glider.errors import ConfigError
from glider.lit.auto_alpha_utility import calibration_device, items_by_task, score_with_bias, without_expert
from glider.moe.routed_model import RoutedSeq2Seq
from glider.routers.base import QueryBatch
from glider.routers.router import scale_global_scores
from glider.stages.context import StageContext

log = logging.getLogger("glider")


def tuning_rows(cfg: DictConfig) -> int:
    """eval.tuning.examples_per_task (0: no tuning split)."""
    return int((cfg.eval.get("tuning") or {}).get("examples_per_task", 0) or 0)


def tuning_examples(ctx: StageContext, task: str, n: int) -> list[Example]:
    """Rows [E, E + n) of ``task``'s training split (E = library.experts.train_examples), uids 0..n-1."""
    held_back = int(ctx.cfg.library.experts.train_examples)
    rows = ctx.source.train_examples(task, held_back + n, ctx.seed)[held_back:]
    return [replace(example, uid=uid) for uid, example in enumerate(rows)]


def check_tuning_router(routed: RoutedSeq2Seq) -> None:
    """One clear error for a router that cannot be scored with an expert left out."""
    router = routed.router
    if router.mode != "routed" or router.global_scorer_names() & {"oracle", "lorahub"}:
        raise ConfigError(
            f"eval.tuning scores a router that routes among the library's experts with one of them left out; "
            f"router '{router.name}' does not ({router.describe()}): set eval.tuning.examples_per_task=0 for it."
        )


def tuning_biases(routed: RoutedSeq2Seq, queries: QueryBatch, own: int) -> tuple[Tensor, Tensor]:
    """The global bias [B, N] of these queries as routed (own expert present) and with expert ``own`` removed (-inf)."""
    router = routed.router
    scores = router.global_scores(queries)
    if scores is None:
        scores = torch.zeros(queries.size, routed.num_experts)
    return tuple(scale_global_scores(s, router.alpha_for(s)[:, None]) for s in (scores, without_expert(scores, own)))  # type: ignore[return-value]


@torch.no_grad()
def run_tuning(ctx: StageContext, routed: RoutedSeq2Seq, tokenizer: Any, n: int) -> dict[str, Any]:
    """Tuning held-in and held-out scores of the routed model (see the module docstring)."""
    check_tuning_router(routed)
    side = routed.expert_side
    known = {t.name for t in ctx.source.heldin()}
    tasks = [t for t in dict.fromkeys(side.tasks) if t in known]
    if not tasks:
        raise ConfigError("eval.tuning needs experts whose tasks have training data in task=...; this library has none.")
    specs = {t: ctx.source.task(t) for t in tasks}
    items = items_by_task(ctx, routed.router, specs, tasks, [tuning_examples(ctx, t, n) for t in tasks])
    collator = EvalCollator(tokenizer, {t: i for i, t in enumerate(tasks)}, ctx.model_cfg.max_source_length, ctx.model_cfg.max_target_length)
    device, batch_size, max_new = calibration_device(ctx), int(ctx.cfg.eval.batch_size), int(ctx.cfg.eval.max_new_tokens)
    was_training = routed.training
    routed.to(device).eval()
    present: dict[str, float] = {}
    removed: dict[str, float] = {}
    for task in tasks:
        own = side.tasks.index(task)
        hits_present, hits_removed = [], []
        for first in range(0, len(items[task]), batch_size):
            chunk = items[task][first : first + batch_size]
            queries = QueryBatch(tasks=[it["example"].task for it in chunk], instruction_emb=_stack(chunk, "instruction_emb"),
                                 input_emb=_stack(chunk, "input_emb"))
            bias_present, bias_removed = tuning_biases(routed, queries, own)
            hits_present.append(score_with_bias(routed, tokenizer, collator, specs[task], chunk, bias_present, max_new, device))
            hits_removed.append(score_with_bias(routed, tokenizer, collator, specs[task], chunk, bias_removed, max_new, device))
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
