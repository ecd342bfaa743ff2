"""router.alpha_auto.cutoff=utility: run the experts' probe examples with each candidate alpha, then fit the rule.

For every expert i (task t_i) the probe examples are the held-back training examples
samples[K+R : K+R+P] of its task, with their answers (the task source's training data,
drawn as the experts stage drew it). Each is scored by the routed model itself (local
scores + alpha * global scores, the router's selection) with every candidate alpha
(``router.alpha_auto.grid``, else alpha_high and alpha_low):
  own expert present          -> acc_p(alpha)       (g_p = acc_p(high) - acc_p(low))
  own expert removed (-inf)   -> acc'_q(alpha)      (h_q = acc'_q(high) - acc'_q(low))
and AutoAlpha.fit_utility picks the pair and the cut of largest expected accuracy on the
probes' best global scores (m with the expert present, u with it removed; see auto_alpha.py).
Expert side only: no evaluation example is used.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import torch
from torch import Tensor

from glider.data.collate import EvalCollator
from glider.data.spec import Example, TaskSpec
from glider.errors import ConfigError, DataError
from glider.instruct.queries import attach_query_embeddings
from glider.lit.evaluation import batch_masks, score_batch
from glider.moe.routed_model import RoutedSeq2Seq
from glider.routers.auto_alpha import AutoAlpha, probe_match_scores
from glider.routers.base import QueryBatch
from glider.routers.router import scale_global_scores
from glider.stages.context import StageContext

log = logging.getLogger("glider")


def probe_examples(ctx: StageContext, names: list[str], tasks: list[str]) -> list[list[Example]]:
    """Per expert, its task's training examples at the probe positions [K+R, K+R+P)."""
    describe = ctx.cfg.library.describe
    start = int(describe.k) + int(describe.retrieval_inputs)
    stop = start + int(describe.probe_queries)
    drawn = int(ctx.cfg.library.experts.train_examples)
    out = []
    for name, task in zip(names, tasks):
        try:
            ctx.source.task(task)
        except DataError as err:
            raise ConfigError(
                f"router.alpha_auto.cutoff=utility runs probe examples of expert '{name}' (task '{task}') from the task "
                f"source's training data, and task={ctx.cfg.task.name} has no such task: use router.alpha_auto.cutoff=balanced "
                "(or a task source that holds the experts' tasks)."
            ) from err
        examples = ctx.source.train_examples(task, max(drawn, stop), ctx.seed)[start:stop]
        if not examples:
            raise ConfigError(
                f"router.alpha_auto.cutoff=utility found no probe examples for expert '{name}': task '{task}' has "
                f"fewer than {start + 1} training examples; lower library.describe.retrieval_inputs or use cutoff=balanced."
            )
        out.append(examples)
    return out


def calibration_device(ctx: StageContext) -> torch.device:
    """Where evaluation will run in this process (its GPU under trainer=gpu / ddp), so that the probes run there too."""
    accelerator = str(ctx.cfg.trainer.get("accelerator", "cpu"))
    if accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def score_with_bias(routed: RoutedSeq2Seq, tokenizer: Any, collator: EvalCollator, spec: TaskSpec, items: list[dict[str, Any]], bias: Tensor,
           max_new_tokens: int, device: torch.device) -> Tensor:
    """Per-example scores [P] of the probe examples routed with this global bias [P, N]."""
    batch = {key: value.to(device) if isinstance(value, Tensor) else value for key, value in collator(items).items()}
    with routed.batch(None, len(items), masks=batch_masks(batch), task_ids=batch["task_ids"], global_bias=bias.to(device)):
        scores, _ = score_batch(routed.model, tokenizer, spec, batch, max_new_tokens)
    return scores.float().cpu()


def without_expert(scores: Tensor, index: int) -> Tensor:
    """Global scores [P, N] with expert ``index`` removed (-inf: never selected), as for a task without its expert."""
    removed = scores.clone()
    removed[:, index] = float("-inf")
    return removed


def items_by_task(ctx: StageContext, router: Any, specs: dict[str, TaskSpec], tasks: list[str],
                   per_expert: list[list[Example]]) -> dict[str, list[dict[str, Any]]]:
    """Every probe example with its query embeddings, per task (one embedding pass for all experts)."""
    examples_by_task: dict[str, list[Example]] = {}
    for task, examples in zip(tasks, per_expert):
        examples_by_task.setdefault(task, examples)
    items = attach_query_embeddings(ctx.cfg, router, [specs[t] for t in examples_by_task], examples_by_task)
    out, start = {}, 0
    for task, examples in examples_by_task.items():
        out[task] = items[start : start + len(examples)]
        start += len(examples)
    return out


@torch.no_grad()
def calibrate_by_utility(ctx: StageContext, routed: RoutedSeq2Seq, tokenizer: Any) -> AutoAlpha:
    """Refit router.alpha=auto's threshold from its probes' gains."""
    router, side = routed.router, routed.expert_side
    auto = router.auto_alpha
    assert auto is not None
    per_expert = probe_examples(ctx, side.names, side.tasks)
    specs = {task: ctx.source.task(task) for task in side.tasks}
    task_index = {task: i for i, task in enumerate(specs)}
    collator = EvalCollator(tokenizer, task_index, ctx.model_cfg.max_source_length, ctx.model_cfg.max_target_length)
    max_new = int(ctx.cfg.eval.max_new_tokens)
    was_training = routed.training
    device = calibration_device(ctx)
    routed.to(device).eval()  # evaluation moves it there anyway
    probe_items = items_by_task(ctx, router, specs, side.tasks, per_expert)
    if "instruction_emb" not in next(iter(probe_items.values()))[0]:
        raise ConfigError("router.alpha_auto.cutoff=utility needs the instruction global scorer (router=glider or instruction).")
    alphas = auto.candidate_alphas()
    queries_emb: list = []
    present: dict[float, list[Tensor]] = {a: [] for a in alphas}
    removed_acc: dict[float, list[Tensor]] = {a: [] for a in alphas}
    for i, examples in enumerate(per_expert):
        spec = specs[side.tasks[i]]
        items = probe_items[spec.name]
        queries = QueryBatch(
            tasks=[e.task for e in examples],
            instruction_emb=torch.stack([it["instruction_emb"] for it in items]),
            input_emb=torch.stack([it["input_emb"] for it in items]) if "input_emb" in items[0] else None,
        )
        scores = router.global_scores(queries)  # [P, N]
        removed = without_expert(scores, i)
        for alpha in alphas:
            present[alpha].append(score_with_bias(routed, tokenizer, collator, spec, items, scale_global_scores(scores, alpha), max_new, device))
            removed_acc[alpha].append(score_with_bias(routed, tokenizer, collator, spec, items, scale_global_scores(removed, alpha), max_new, device))
        queries_emb.append(queries.instruction_emb)
    routed.train(was_training)
    matched, unmatched = probe_match_scores(side, queries_emb, auto.matched)
    auto.fit_utility(torch.cat(matched), torch.cat(unmatched), {a: torch.cat(v) for a, v in present.items()},
                     {a: torch.cat(v) for a, v in removed_acc.items()})
    log.info(
        "alpha=auto (cutoff=utility, alphas %s): on %d probe examples alpha %g vs %g gains %+.3f with the own expert, "
        "%+.3f without; threshold %.3f; probe accuracy %.3f",
        "/".join(f"{a:g}" for a in alphas), sum(len(e) for e in per_expert), auto.high, auto.low, auto.matched_gain,
        auto.unmatched_gain, auto.threshold, auto.probe_accuracy,
    )
    return auto
