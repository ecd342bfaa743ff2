"""The MoE layer's token handling: padding tokens get no expert, identical copies are routed once
(rank classification's cross-attention) with the same scores and statistics, errors surface."""

from __future__ import annotations

import pytest
import torch

from glider.errors import RoutingError
from glider.lit.evaluation import batch_masks
from glider.lit.scoring import rank_classification_scores
from glider.moe.context import RoutingContext
from glider.moe.stats import RoutingStats
from tests.moe.test_layer_paths import INPUT, LABELS, MASK, N_EXPERTS, _queries, _routed

GLIDER = dict(local=["phatgoose"], global_scorers=["instruction"], alpha=3.0, top_k=2)


def test_padding_tokens_keep_the_frozen_output_and_are_not_counted(tiny_t5):
    routed = _routed(tiny_t5, **GLIDER)
    layer = routed.layers[0]
    x = torch.randn(2, 5, layer.base.in_features)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    stats = RoutingStats(["a", "b"], N_EXPERTS)
    with torch.inference_mode(), routed.batch(_queries(), 2, masks=[mask], task_ids=torch.tensor([0, 1]), stats=stats):
        got = layer(x)
        unmasked = layer.router.route(x.reshape(10, -1), routed.context)
    torch.testing.assert_close(got[0, 3:], layer.base(x)[0, 3:])  # padding rows: W x + b only
    assert not torch.allclose(got[0, :3], layer.base(x)[0, :3])
    assert stats.token_counts[layer.module_name].tolist() == [3.0, 5.0]
    dense = torch.zeros(10, N_EXPERTS).scatter_add_(1, unmasked[0], unmasked[1])  # [T, N]
    real = mask.reshape(-1).bool()
    want = torch.stack([dense[:5][real[:5]].sum(0), dense[5:].sum(0)])
    torch.testing.assert_close(stats.weight_sums[layer.module_name], want)


def test_identical_copies_are_routed_once_with_the_same_scores(tiny_t5, monkeypatch):
    """The evaluator's scoring (encoder + decoder over B*C rows, masks, statistics) with and without
    routing each example's identical rows once."""
    routed = _routed(tiny_t5, **GLIDER)
    labels = LABELS.repeat_interleave(2, dim=0)  # 2 choices per example
    labels[1::2, 0] = 20
    batch = {"input_ids": INPUT, "attention_mask": MASK, "choice_labels": labels.masked_fill(labels == 0, -100),
             "choice_valid": torch.ones(2, 2, dtype=torch.bool)}
    once = []
    real = RoutingContext.identical_copies
    monkeypatch.setattr(RoutingContext, "identical_copies", lambda self, flat, rows: once.append(c := real(self, flat, rows)) or c)

    def scores(stats):
        with torch.inference_mode(), routed.batch(_queries(), 2, masks=batch_masks(batch), task_ids=torch.tensor([0, 1]), stats=stats):
            return rank_classification_scores(routed.model, batch)

    copied_stats = RoutingStats(["a", "b"], N_EXPERTS)
    copied = scores(copied_stats)
    cross_kv = [l for l in routed.layers if "EncDecAttention.k" in l.module_name or "EncDecAttention.v" in l.module_name]
    assert once.count(2) == len(cross_kv)  # only the cross-attention keys and values see copies
    monkeypatch.setattr(RoutingContext, "identical_copies", lambda self, flat, rows: 1)
    every_stats = RoutingStats(["a", "b"], N_EXPERTS)
    torch.testing.assert_close(copied, scores(every_stats), atol=1e-5, rtol=1e-5)
    for module, sums in every_stats.weight_sums.items():
        torch.testing.assert_close(copied_stats.weight_sums[module], sums, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(copied_stats.token_counts[module], every_stats.token_counts[module])


def test_a_nan_token_raises_the_routers_error(tiny_t5):
    routed = _routed(tiny_t5, **GLIDER)
    layer = routed.layers[0]
    x = torch.randn(2, 5, layer.base.in_features)
    x[1, 2, 0] = float("nan")
    with torch.inference_mode(), routed.batch(_queries(), batch_size=2), pytest.raises(RoutingError, match="NaN"):
        layer(x)
