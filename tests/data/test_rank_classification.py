"""Rank classification on real-schema examples: a model made to prefer a choice scores it highest."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from transformers import ByT5Tokenizer
from transformers.modeling_outputs import Seq2SeqLMOutput

from glider.backbone import build_tiny_t5
from glider.data.bigbench_source import BigBenchLiteSource
from glider.data.collate import EvalCollator
from glider.data.t0_source import T0TaskSource
from glider.lit.scoring import rank_classification_scores
from tests.data.fixtures import write_bbl, write_t0

TINY = {"d_model": 16, "d_kv": 4, "d_ff": 24, "num_layers": 1, "num_decoder_layers": 1, "num_heads": 2}


class PreferTokens(nn.Module):
    """A T5 whose decoder logits get +bias on the given token ids (so it prefers text made of them)."""

    def __init__(self, model: nn.Module, token_ids: list[int], bias: float = 20.0) -> None:
        super().__init__()
        self.model = model
        self.boost = torch.zeros(model.config.vocab_size)
        self.boost[token_ids] = bias

    def get_encoder(self) -> nn.Module:
        return self.model.get_encoder()

    def forward(self, **kwargs) -> Seq2SeqLMOutput:
        out = self.model(**kwargs)
        return Seq2SeqLMOutput(logits=out.logits + self.boost, loss=out.loss)


def _scores_for(examples, prefer: str) -> torch.Tensor:
    tokenizer = ByT5Tokenizer()
    torch.manual_seed(0)
    model = build_tiny_t5(TINY, vocab_size=len(tokenizer)).eval()
    ids = tokenizer(prefer)["input_ids"]  # its bytes and EOS
    batch = EvalCollator(tokenizer, {examples[0].task: 0}, max_source_length=128, max_target_length=32)([{"example": e} for e in examples])
    return rank_classification_scores(PreferTokens(model, ids), batch), batch


def test_preferred_correct_choice_ranks_first(tmp_path: Path) -> None:
    source = T0TaskSource(splits=["heldin"], tasks=["p3agnews"], data_dir=str(write_t0(tmp_path, ["p3agnews"])))
    examples = source.eval_examples("p3agnews", 3, seed=0)
    assert examples[0].target == "Sports" and examples[0].label == 1
    scores, batch = _scores_for(examples, "Sports")
    assert scores.shape == (3, 4)
    assert (scores.argmax(-1) == batch["labels"]).all()


def test_preference_moves_the_prediction_and_padding_is_never_picked(tmp_path: Path) -> None:
    t0 = T0TaskSource(splits=["heldin"], tasks=["p3agnews"], data_dir=str(write_t0(tmp_path / "t0", ["p3agnews"])))
    scores, _ = _scores_for(t0.eval_examples("p3agnews", 2, seed=0), "Business")
    assert (scores.argmax(-1) == 2).all()  # the preferred (wrong) choice wins: the score follows the model
    bbl = BigBenchLiteSource(tasks=["bbwinowhy"], data_dir=str(write_bbl(tmp_path / "bbl", ["winowhy"])))
    examples = bbl.eval_examples("bbwinowhy", 2, seed=0)
    mixed = [examples[0], type(examples[0])(task=examples[0].task, source="q", target="x", choices=("x", "y"), label=0, uid=9)]
    scores, batch = _scores_for(mixed, "alpha")
    assert scores.shape == (2, 3) and torch.isinf(scores[1, 2]) and scores[1, 2] < 0  # padded third choice
    assert scores[0].argmax() == 1 == batch["labels"][0]


def test_label_is_the_choice_equal_to_the_target_else_the_best_word_match() -> None:
    from glider.data.raw_task import find_label

    assert find_label("Yes", ("No", "Yes")) == 1
    assert find_label("the red one", ("a blue one", "the red", "the red one here")) == 2  # most words equal position by position
    assert find_label("the red one", ("the red", "the red two")) == 0  # 2 each: the shorter wins the tie
    assert find_label("zzz", ("a", "bb")) == 1  # no match at all: the original's tie rule (shorter, then later)
