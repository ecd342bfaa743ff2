"""Generation metrics computed locally (no downloads): exact match, token F1, ROUGE-L F."""

from __future__ import annotations

from collections import Counter
from typing import Callable

from glider.data.spec import Example

from glider.lit.scoring import normalize_answer


def exact_match(prediction: str, target: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(target))


def token_f1(prediction: str, target: str) -> float:
    """SQuAD-style bag-of-tokens F1 after normalisation."""
    pred, gold = normalize_answer(prediction).split(), normalize_answer(target).split()
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def _lcs(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(prediction: str, target: str) -> float:
    """ROUGE-L F-measure on lowercased whitespace tokens (longest common subsequence)."""
    pred, gold = prediction.lower().split(), target.lower().split()
    if not pred or not gold:
        return float(pred == gold)
    lcs = _lcs(pred, gold)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(gold)
    return 2 * precision * recall / (precision + recall)


def best_reference_score(metric: Callable[[str, str], float], prediction: str, example: Example) -> float:
    """The metric against the example's target and each further reference; the best one counts."""
    return max(metric(prediction, ref) for ref in (example.target, *example.references))


GENERATION_METRICS = {"exact_match": exact_match, "f1": token_f1, "rouge_l": rouge_l}
