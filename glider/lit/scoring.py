"""Scoring an evaluation batch: rank classification and greedy generation.

Rank classification (as in T0 / GLIDER): for every answer choice y of an example,
    score(y) = (1/|y|) * sum_t log p(y_t | y_<t, x)
(length-normalised log-likelihood, EOS included); the prediction is the argmax.
The encoder runs once per example; the decoder runs on B*C example-major rows.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from transformers.modeling_outputs import BaseModelOutput

from glider.data.collate import LABEL_PAD


@torch.no_grad()
def rank_classification_scores(model: Any, batch: dict[str, Any]) -> Tensor:
    """-> [B, C] length-normalised log-likelihood of every choice (-inf for padded choices)."""
    valid = batch["choice_valid"]  # [B, C]
    n_examples, n_choices = valid.shape
    encoder = model.get_encoder()
    hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state  # [B, S, d]
    hidden = hidden.repeat_interleave(n_choices, dim=0)  # [B*C, S, d]
    mask = batch["attention_mask"].repeat_interleave(n_choices, dim=0)
    labels = batch["choice_labels"]  # [B*C, L]
    out = model(encoder_outputs=BaseModelOutput(last_hidden_state=hidden), attention_mask=mask, labels=labels)
    logprobs = torch.log_softmax(out.logits.float(), dim=-1)  # [B*C, L, V]
    token_mask = labels != LABEL_PAD
    picked = logprobs.gather(-1, labels.clamp_min(0).unsqueeze(-1)).squeeze(-1) * token_mask
    scores = picked.sum(-1) / token_mask.sum(-1).clamp_min(1)  # [B*C]
    scores = scores.view(n_examples, n_choices)
    return scores.masked_fill(~valid, float("-inf"))


@torch.no_grad()
def generate_answers(model: Any, tokenizer: Any, batch: dict[str, Any], max_new_tokens: int) -> list[str]:
    """Greedy decoding of each example's answer."""
    out = model.generate(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        max_new_tokens=max_new_tokens,
        do_sample=False,
        num_beams=1,
    )
    return tokenizer.batch_decode(out, skip_special_tokens=True)
