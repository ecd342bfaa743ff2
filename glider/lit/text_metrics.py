"""Generation metrics as the original GLIDER code computes them (its ``evaluate`` metrics), from torchmetrics.

- ``exact_match``: strict string equality (``evaluate``'s ``exact_match`` with its defaults, which
  compares numpy strings and so ignores trailing whitespace); with several references (the
  original's ``exact_match_multiple_ans``) a prediction equal to any of them counts.
- ``squad``: SQuAD-normalised exact match and token F1, best over the references
  (``torchmetrics.functional.text.squad``); the task score is their mean, as the original's
  per-task ``score`` averages the two numbers its ``squad`` metric returns.
- ``rouge_l``: ROUGE-L F-measure, best over the references
  (``torchmetrics.functional.text.rouge.rouge_score``, the ``rouge_score`` tokenisation).
- ``bleu_rouge_l`` (the original's ``["bleu", "rouge"]`` summarisation and data-to-text tasks):
  the task's score is the mean of its corpus BLEU (``evaluate``'s ``bleu``: 4-grams, 13a
  tokenisation, no smoothing; :class:`CorpusBleu`) and its mean ROUGE-L; each example's own
  score is its ROUGE-L (BLEU exists only over the corpus).

Every metric scores one prediction against ``references_of(example)``: the example's
``references`` when it has them, else its ``target``.
"""

from __future__ import annotations

from typing import Callable

from torchmetrics.functional.text import squad
from torchmetrics.text import SacreBLEUScore
from torchmetrics.functional.text.rouge import rouge_score

from glider.data.spec import Example


def references_of(example: Example) -> tuple[str, ...]:
    """The answers a generation is scored against."""
    return example.references or (example.target,)


def exact_match(prediction: str, references: tuple[str, ...]) -> float:
    """1.0 when the prediction equals a reference (trailing whitespace ignored), else 0.0."""
    return float(any(prediction.rstrip() == ref.rstrip() for ref in references))


def squad_score(prediction: str, references: tuple[str, ...]) -> float:
    """Mean of SQuAD exact match and F1 (each in [0, 1], best over the references)."""
    out = squad([{"prediction_text": prediction, "id": "0"}],
                [{"answers": {"text": list(references), "answer_start": [0] * len(references)}, "id": "0"}])
    return (float(out["exact_match"]) + float(out["f1"])) / 200.0


def rouge_l(prediction: str, references: tuple[str, ...]) -> float:
    """ROUGE-L F-measure against the best-matching reference."""
    return float(rouge_score(prediction, list(references), rouge_keys="rougeL")["rougeL_fmeasure"])


GENERATION_METRICS: dict[str, Callable[[str, tuple[str, ...]], float]] = {
    "exact_match": exact_match,
    "squad": squad_score,
    "rouge_l": rouge_l,
    "bleu_rouge_l": rouge_l,  # per example; the task mean is averaged with the corpus BLEU (CorpusBleu)
}
CORPUS_BLEU_METRICS = frozenset({"bleu_rouge_l"})


def corpus_bleu() -> SacreBLEUScore:
    """Corpus BLEU as ``evaluate``'s ``bleu`` (max order 4, 13a tokens, no smoothing, brevity penalty); its states
    are n-gram counts summed across DDP processes."""
    return SacreBLEUScore(n_gram=4, smooth=False, tokenize="13a", lowercase=False)


def score_generation(metric: str, prediction: str, example: Example) -> float:
    """One generation's score by the task's metric."""
    return GENERATION_METRICS[metric](prediction, references_of(example))
