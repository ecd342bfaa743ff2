"""Batching: tokenise sources, targets and answer choices into padded tensors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
from torch import Tensor

from glider.data.spec import Example

LABEL_PAD = -100


@dataclass
class TruncationCounter:
    """Counts inputs longer than the model's maximum source length (they are truncated)."""

    truncated: int = 0
    seen: int = 0


def encode_sources(tokenizer: Any, texts: Sequence[str], max_length: int, counter: TruncationCounter | None = None) -> dict[str, Tensor]:
    """input_ids / attention_mask [B, S] with right padding, truncated to max_length."""
    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    if counter is not None:
        full = tokenizer(list(texts), truncation=False)["input_ids"]
        counter.seen += len(full)
        counter.truncated += sum(len(ids) > max_length for ids in full)
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def encode_targets(tokenizer: Any, texts: Sequence[str], max_length: int) -> Tensor:
    """labels [B, L] with padding replaced by -100 (ignored by the loss)."""
    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    labels = enc["input_ids"].clone()
    labels[enc["attention_mask"] == 0] = LABEL_PAD
    return labels


@dataclass
class Seq2SeqCollator:
    """(source, target) pairs -> a training batch."""

    tokenizer: Any
    max_source_length: int = 64
    max_target_length: int = 32

    def __call__(self, pairs: list[tuple[str, str]]) -> dict[str, Tensor]:
        sources, targets = zip(*pairs)
        batch = encode_sources(self.tokenizer, sources, self.max_source_length)
        batch["labels"] = encode_targets(self.tokenizer, targets, self.max_target_length)
        return batch


@dataclass
class EvalCollator:
    """Examples (+ their precomputed query embeddings) -> an evaluation batch.

    Rank classification: every example's choices are padded to the batch's largest
    choice count C; ``choice_labels`` is [B*C, L] example-major, ``choice_valid`` [B, C].
    """

    tokenizer: Any
    task_index: dict[str, int]
    max_source_length: int = 64
    max_target_length: int = 32
    counter: TruncationCounter = field(default_factory=TruncationCounter)

    def __call__(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        if not items:  # a process with no batch of its own gets one empty batch (nothing scored)
            return {"examples": [], "task_ids": torch.zeros(0, dtype=torch.long)}
        examples: list[Example] = [item["example"] for item in items]
        batch: dict[str, Any] = encode_sources(self.tokenizer, [e.source for e in examples], self.max_source_length, self.counter)
        batch["examples"] = examples
        batch["task_ids"] = torch.tensor([self.task_index[e.task] for e in examples])
        batch["uids"] = torch.tensor([e.uid for e in examples])
        for key in ("instruction_emb", "input_emb"):
            if items[0].get(key) is not None:
                batch[key] = torch.stack([item[key] for item in items])
        if any(e.choices for e in examples):
            width = max(len(e.choices) for e in examples)
            texts, valid = [], torch.zeros(len(examples), width, dtype=torch.bool)
            for row, ex in enumerate(examples):
                padded = list(ex.choices) + [ex.choices[0] if ex.choices else ""] * (width - len(ex.choices))
                texts.extend(padded)
                valid[row, : len(ex.choices)] = True
            batch["choice_labels"] = encode_targets(self.tokenizer, texts, self.max_target_length)  # [B*C, L]
            batch["choice_valid"] = valid
            batch["labels"] = torch.tensor([e.label for e in examples])
        return batch
