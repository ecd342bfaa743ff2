"""Generation metrics against values worked out by hand, on real BBH rows (../shared/data/bbh)."""

from __future__ import annotations

import json

import pytest

from glider.data.spec import Example
from tests.shared import shared_dir
from glider.lit.text_metrics import exact_match, references_of, rouge_l, score_generation, squad_score


def bbh(task: str) -> list[dict]:
    path = shared_dir() / "data/bbh" / f"{task}.json"
    if not path.is_file():
        pytest.fail(f"the BBH files are not in {path.parent}; set GLIDER_SHARED")
    return json.loads(path.read_text())["examples"]


def test_exact_match_is_string_equality() -> None:
    target = bbh("date_understanding")[0]["target"]  # "(B)"
    assert target == "(B)"
    assert exact_match("(B)", (target,)) == 1.0
    assert exact_match("(B) ", (target,)) == 1.0  # evaluate compares numpy strings: trailing whitespace is ignored
    for wrong in ("", ".", "The", "B", "(b)", " (B)", "(B)."):
        assert exact_match(wrong, (target,)) == 0.0, wrong


def test_rouge_l_by_hand_on_word_sorting() -> None:
    target = bbh("word_sorting")[2]["target"]
    assert target == "artillery bainite doris fda harm incongruous monkey prosody vegetate vivian"  # 10 words
    # LCS with "Artillery bainite doris harm monkey vivian vegetate" (7 words, case folded): 6 -> P 6/7, R 6/10
    precision, recall = 6 / 7, 6 / 10
    assert rouge_l("Artillery bainite doris harm monkey vivian vegetate", (target,)) == pytest.approx(
        2 * precision * recall / (precision + recall), abs=1e-6)
    assert rouge_l(target, (target,)) == 1.0 and rouge_l("", (target,)) == 0.0
    # rouge_score tokenisation: non-alphanumerics split words ("it&t" is "it t")
    assert rouge_l("it t", ("it&t",)) == 1.0
    assert rouge_l("vivian", ("zebra", "vivian prosody")) == pytest.approx(2 * 1 * 0.5 / 1.5, abs=1e-6)  # best reference


def test_squad_is_mean_of_normalised_exact_match_and_f1() -> None:
    target = bbh("object_counting")[0]["target"]
    assert target == "8"
    assert squad_score("The 8.", (target,)) == 1.0  # SQuAD normalisation: case, punctuation, articles
    # "8 musical instruments" vs "8": EM 0; F1 with P 1/3, R 1 = 0.5; score (0 + 0.5) / 2
    assert squad_score("8 musical instruments", (target,)) == pytest.approx(0.25, abs=1e-6)
    assert squad_score("eight", (target,)) == 0.0
    assert squad_score("8 lamps", ("two lamps", "8")) == pytest.approx((0 + 2 * 0.5 * 1 / 1.5) / 2, abs=1e-6)  # best reference


def test_references_replace_the_target_when_given() -> None:
    plain = Example(task="t", source="s", target="(A)")
    multi = Example(task="t", source="s", target="two", references=("two", "2"))
    assert references_of(plain) == ("(A)",) and references_of(multi) == ("two", "2")
    assert score_generation("exact_match", "2", multi) == 1.0 and score_generation("exact_match", "", plain) == 0.0
    with pytest.raises(KeyError):
        score_generation("f1", "x", plain)


def test_corpus_bleu_by_hand_on_word_sorting() -> None:
    """bleu_rouge_l's BLEU: corpus counts over the task (4-grams, 13a tokens, no smoothing, brevity penalty)."""
    import math

    from glider.lit.text_metrics import corpus_bleu

    target = bbh("word_sorting")[2]["target"]  # 10 words
    pred = "artillery bainite doris fda harm incongruous monkey prosody"  # its first 8 words
    bleu = corpus_bleu()
    bleu.update([pred], [[target]])
    # every n-gram of the prediction is in the reference: precisions 1; brevity penalty exp(1 - 10/8)
    assert float(bleu.compute()) == pytest.approx(math.exp(1 - 10 / 8), abs=1e-6)
    bleu.update([target], [[target]])  # a second example: counts add up over the corpus (18 vs 20 words)
    assert float(bleu.compute()) == pytest.approx(math.exp(1 - 20 / 18), abs=1e-6)


def test_bleu_rouge_l_task_score_averages_corpus_bleu_and_mean_rouge_l(tiny_t5) -> None:
    """RoutedEvaluator.task_scores: for a bleu_rouge_l task, (corpus BLEU + mean ROUGE-L) / 2."""
    import math

    import torch

    from glider.data.spec import TaskSpec
    from glider.lit.evaluation import RoutedEvaluator
    from glider.moe.routed_model import RoutedSeq2Seq
    from glider.routers import build_router

    target = bbh("word_sorting")[2]["target"]
    pred = "artillery bainite doris fda harm incongruous monkey prosody"
    specs = [TaskSpec(name="p3xsum", split="heldin", family="t0", metric="bleu_rouge_l"),
             TaskSpec(name="p3samsum", split="heldin", family="t0", metric="rouge_l")]
    evaluator = RoutedEvaluator(RoutedSeq2Seq(tiny_t5, build_router("base", mode="base"), []), None, specs)
    for i, spec in enumerate(specs):
        example = Example(task=spec.name, source="s", target=target)
        rouge = score_generation(spec.metric, pred, example)
        evaluator.scores.update(torch.tensor([i]), torch.tensor([rouge], dtype=torch.float64))
        if str(i) in evaluator.bleu:
            evaluator.bleu[str(i)].update([pred], [[target]])
    mean, count = evaluator.task_scores()
    rouge = 2 * (8 / 8) * (8 / 10) / (1 + 8 / 10)
    assert float(mean[0]) == pytest.approx((math.exp(1 - 10 / 8) + rouge) / 2, abs=1e-6)
    assert float(mean[1]) == pytest.approx(rouge, abs=1e-6) and count.tolist() == [1, 1]
