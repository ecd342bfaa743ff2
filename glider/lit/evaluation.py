"""LightningModule for routed evaluation: rank classification and generation, per-task scores,
per-example predictions and routing statistics."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch

from glider.data.spec import Example, TaskSpec
from glider.lit.scoring import generate_answers, rank_classification_scores
from glider.lit.task_scores import TaskScores
from glider.lit.text_metrics import CORPUS_BLEU_METRICS, corpus_bleu, references_of, score_generation
from glider.moe.routed_model import RoutedSeq2Seq
from glider.moe.stats import RoutingStats
from glider.routers.base import QueryBatch


def batch_masks(batch: dict[str, Any]) -> list[torch.Tensor]:
    """The encoder mask, and for rank classification the decoder mask of the choice rows."""
    masks = [batch["attention_mask"]]
    if "choice_labels" in batch:
        labels = batch["choice_labels"]
        masks.append(torch.cat([torch.ones_like(labels[:, :1]), (labels[:, :-1] != -100).long()], dim=1))
    return masks


def choice_scores(examples: list[Example], predicted: list[int]) -> torch.Tensor:
    """Accuracy [B] (float64) of predicted choice indices: right when the choice is the label, or any of
    ``correct`` for multi-answer examples (the original's ``accuracy_multiple_ans``)."""
    return torch.tensor([float(p in (ex.correct or (ex.label,))) for ex, p in zip(examples, predicted)], dtype=torch.float64)


def generation_scores(metric: str, examples: list[Example], outputs: list[str]) -> torch.Tensor:
    """Scores [B] (float64) of generated answers by the task's metric."""
    return torch.tensor([score_generation(metric, out, ex) for out, ex in zip(outputs, examples)], dtype=torch.float64)


def task_max_new_tokens(spec: TaskSpec, default: int) -> int:
    """The task's own generation length (the original's max_gen_length), else ``default`` (eval.max_new_tokens)."""
    return int(spec.extra.get("max_new_tokens") or default)


def score_batch(model: Any, tokenizer: Any, spec: TaskSpec, batch: dict[str, Any], max_new_tokens: int) -> tuple[torch.Tensor, list[str]]:
    """Per-example scores [B] (float64) and outputs of one task-homogeneous batch, by the task's metric."""
    examples = batch["examples"]
    if spec.metric == "rank_classification":
        predicted = rank_classification_scores(model, batch).argmax(dim=-1).cpu().tolist()  # [B]
        return choice_scores(examples, predicted), [ex.choices[p] for ex, p in zip(examples, predicted)]
    outputs = generate_answers(model, tokenizer, batch, task_max_new_tokens(spec, max_new_tokens))
    return generation_scores(spec.metric, examples, outputs), outputs


class RoutedEvaluator(L.LightningModule):
    """Evaluates a routed backbone on task-homogeneous batches (``trainer.test``)."""

    def __init__(self, routed: RoutedSeq2Seq, tokenizer: Any, tasks: list[TaskSpec], max_new_tokens: int = 8, record_routing: bool = True) -> None:
        super().__init__()
        self.routed = routed
        self.tokenizer = tokenizer
        self.tasks = tasks
        self.max_new_tokens = max_new_tokens
        self.scores = TaskScores(len(tasks))
        # corpus BLEU of the tasks whose score averages it with ROUGE-L (metric bleu_rouge_l), by task index
        self.bleu = torch.nn.ModuleDict({str(i): corpus_bleu() for i, t in enumerate(tasks) if t.metric in CORPUS_BLEU_METRICS})
        self.stats = RoutingStats([t.name for t in tasks], routed.num_experts) if record_routing and routed.layers else None
        self.predictions: list[dict[str, Any]] = []

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        examples = batch["examples"]
        if not examples:  # the empty batch of a process that has none of its own
            return
        spec = self.tasks[int(batch["task_ids"][0])]
        queries = QueryBatch(tasks=[e.task for e in examples], instruction_emb=batch.get("instruction_emb"), input_emb=batch.get("input_emb"))
        with self.routed.batch(queries, len(examples), masks=batch_masks(batch), task_ids=batch["task_ids"], stats=self.stats):
            scores, outputs = score_batch(self.routed.model, self.tokenizer, spec, batch, self.max_new_tokens)
        self.scores.update(batch["task_ids"], scores)
        if str(int(batch["task_ids"][0])) in self.bleu:
            self.bleu[str(int(batch["task_ids"][0]))].update(outputs, [list(references_of(ex)) for ex in examples])
        alphas = self._auto_alphas(len(examples))
        top = self._top_experts(len(examples))
        for i, (ex, out, score) in enumerate(zip(examples, outputs, scores.tolist())):
            record = {"task": ex.task, "uid": ex.uid, "prediction": out, "target": ex.target, "score": score}
            if alphas is not None:
                record["alpha"] = alphas[i]
            if top is not None:
                record["top_expert"] = top[i]
            self.predictions.append(record)

    def task_scores(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(score [tasks], examples [tasks]) summed over DDP processes (every process calls it): the mean per-example
        score, or for bleu_rouge_l tasks the mean of the corpus BLEU and the mean ROUGE-L."""
        mean, count = self.scores.per_task()
        for index, bleu in self.bleu.items():
            value = float(bleu.compute())
            i = int(index)
            mean[i] = (mean[i] + value) / 2 if count[i] > 0 else mean[i]
        return mean, count

    def _top_experts(self, count: int) -> list[str | None] | None:
        """The expert with the highest global score for each example of this batch: None for an example
        whose best score is shared (no expert singled out); None for all without global scores."""
        top = self.routed.example_top_expert
        if top is None or top.numel() != count:
            return None
        return [self.routed.expert_names[i] if i >= 0 else None for i in top.tolist()]

    def _auto_alphas(self, count: int) -> list[float] | None:
        """The per-example alpha that router.alpha=auto chose for this batch (None for a fixed alpha)."""
        alpha = self.routed.example_alpha
        if alpha is None or self.routed.router.auto_alpha is None or alpha.numel() != count:
            return None
        return [float(a) for a in alpha.tolist()]

    def configure_optimizers(self) -> None:
        return None
