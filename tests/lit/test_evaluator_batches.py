"""The evaluator's batch path (``RoutedEvaluator.test_step``) on a tiny routed T5, without a Trainer or a
pipeline run: scores per task, prediction records, routing statistics, and the routing of each batch."""

from __future__ import annotations

import copy

import torch
from transformers import T5ForConditionalGeneration

from glider.backbone import build_tokenizer
from glider.data.collate import EvalCollator
from glider.data.spec import Example, TaskSpec
from glider.lit.evaluation import RoutedEvaluator, batch_masks
from glider.lit.scoring import rank_classification_scores
from glider.moe.routed_model import RoutedSeq2Seq
from glider.routers import build_router
from glider.routers.base import ExpertSide, QueryBatch
from tests.conftest import random_expert, tiny_t5_config

TASKS = [TaskSpec("colors", split="heldin", metric="rank_classification", num_choices=3),
         TaskSpec("echo", split="heldout", metric="exact_match")]


def _items(task: str, n: int, emb: torch.Tensor) -> list[dict]:
    if task == "colors":
        choices = ("red", "green", "blue")
        examples = [Example(task, f"what color {i}?", choices[i % 3], choices, i % 3, uid=i) for i in range(n)]
    else:
        examples = [Example(task, f"say {i}", str(i), uid=i) for i in range(n)]
    return [{"example": e, "instruction_emb": emb} for e in examples]


def _evaluator() -> tuple[RoutedEvaluator, EvalCollator, torch.Tensor]:
    torch.manual_seed(0)
    tokenizer = build_tokenizer("byte", None)
    model = T5ForConditionalGeneration(tiny_t5_config(vocab_size=384)).eval()
    experts = [random_expert(model, f"e{i}", t.name, seed=i) for i, t in enumerate(TASKS)]
    emb = torch.eye(2, 8)  # expert i's instruction embedding: unit vector i
    side = ExpertSide(names=[e.name for e in experts], tasks=[e.task for e in experts], instruction_emb=emb)
    router = build_router("glider", local=["phatgoose"], global_scorers=["instruction"], alpha=100.0, top_k=1)
    routed = RoutedSeq2Seq(copy.deepcopy(model), router, experts, side).eval()
    return RoutedEvaluator(routed, tokenizer, TASKS, max_new_tokens=3), EvalCollator(tokenizer, {t.name: i for i, t in enumerate(TASKS)}), emb


def test_batches_give_scores_predictions_and_statistics() -> None:
    evaluator, collate, emb = _evaluator()
    batches = [collate(_items("colors", 5, emb[0])), collate(_items("colors", 2, emb[0])), collate(_items("echo", 4, emb[1])),
               collate([])]  # a process without a batch of its own
    with torch.inference_mode():
        for i, batch in enumerate(batches):
            evaluator.test_step(batch, i)
    mean, count = evaluator.scores.per_task()
    assert count.tolist() == [7, 4]
    for t, task in enumerate(TASKS):
        records = [r for r in evaluator.predictions if r["task"] == task.name]
        assert len(records) == int(count[t])
        assert sorted(r["uid"] for r in records) == ([0, 0, 1, 1, 2, 3, 4] if task.name == "colors" else [0, 1, 2, 3])
        assert float(mean[t]) == sum(r["score"] for r in records) / len(records)
        assert all(r["top_expert"] == f"e{t}" for r in records)  # each query's instruction names its own expert
    assert all(r["prediction"] in ("red", "green", "blue") for r in evaluator.predictions if r["task"] == "colors")
    assert all(r["score"] == float(r["prediction"] == r["target"]) for r in evaluator.predictions if r["task"] == "colors")
    stats = evaluator.stats
    for module, sums in stats.weight_sums.items():  # top-1 with alpha 100: every token goes to its task's own expert
        per_token = sums / stats.token_counts[module][:, None]
        torch.testing.assert_close(per_token, torch.eye(2), atol=1e-3, rtol=0)


def test_a_rank_classification_batch_is_scored_with_its_own_routing() -> None:
    evaluator, collate, emb = _evaluator()
    batch = collate(_items("colors", 6, emb[0]))
    routed = evaluator.routed
    queries = QueryBatch(tasks=["colors"] * 6, instruction_emb=batch["instruction_emb"])
    with torch.inference_mode():
        with routed.batch(queries, 6, masks=batch_masks(batch)):
            want = rank_classification_scores(routed.model, batch).argmax(-1)
        evaluator.test_step(batch, 0)
    got = [("red", "green", "blue").index(r["prediction"]) for r in evaluator.predictions]
    assert got == want.tolist()
