"""The one-call native forward of a routed module equals the ATen path: outputs, routing
statistics, padding tokens, and the router's error on a non-finite logit."""

from __future__ import annotations

import pytest
import torch

import glider.moe.native_kernel as native
import glider.moe.native_routed as native_routed
from glider.errors import RoutingError
from glider.moe.layer import MoELoRALinear
from glider.moe.stats import RoutingStats
from tests.moe.test_layer_fast_path import N_EXPERTS, _queries, _routed

needs_kernel = pytest.mark.skipif(native.native_kernel() is None, reason="no AVX2/FMA CPU or no C compiler: the native kernel is off here")


def _forward_all(routed, x, masks, native_on: bool, monkeypatch):
    """Every layer's forward on x (its own input width), with statistics; native or ATen."""
    if not native_on:
        monkeypatch.setattr(MoELoRALinear, "_native", lambda self: None)
    stats = RoutingStats(["a", "b"], N_EXPERTS)
    outs = []
    with torch.inference_mode(), routed.batch(_queries(), batch_size=2, masks=masks, task_ids=torch.tensor([0, 1]), stats=stats):
        for layer in routed.layers:
            outs.append(layer(x[..., : layer.base.in_features].contiguous()))
    monkeypatch.undo()
    return outs, stats


@needs_kernel
@pytest.mark.parametrize("router_kwargs", [
    dict(local=["phatgoose"], global_scorers=["instruction"], alpha=3.0, top_k=2),
    dict(local=["phatgoose"], top_k=1),
])
@pytest.mark.parametrize("with_mask", [False, True])
def test_native_forward_equals_the_aten_path(tiny_t5, monkeypatch, router_kwargs, with_mask):
    routed = _routed(tiny_t5, **router_kwargs)
    widths = {layer.base.in_features for layer in routed.layers}
    x = torch.randn(2, 5, max(widths), generator=torch.Generator().manual_seed(0))
    masks = [torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])] if with_mask else []
    calls = []
    real_call = native_routed.NativeRoutedModule.__call__
    monkeypatch.setattr(native_routed.NativeRoutedModule, "__call__", lambda *a: calls.append(1) or real_call(*a))
    got, got_stats = _forward_all(routed, x, masks, True, monkeypatch)
    assert len(calls) == len(routed.layers)  # every module took the native path
    want, want_stats = _forward_all(routed, x, masks, False, monkeypatch)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, atol=1e-5, rtol=1e-5)
    for module, sums in want_stats.weight_sums.items():
        torch.testing.assert_close(got_stats.weight_sums[module], sums, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(got_stats.token_counts[module], want_stats.token_counts[module])
    if with_mask:  # padding rows keep the frozen layer's output
        layer = routed.layers[0]
        x0 = x[..., : layer.base.in_features]
        torch.testing.assert_close(got[0][0, 3:], layer.base(x0)[0, 3:])


@needs_kernel
@pytest.mark.parametrize("seq", [5, 1])  # 20 slots >= 6 experts: sorted by expert; 4 slots < 6: token order
def test_both_dispatch_orders_equal_the_aten_path(tiny_t5, monkeypatch, seq):
    monkeypatch.setattr(native_routed, "SORT_ABOVE_LIBRARY_BYTES", 0)  # the tiny library counts as large
    routed = _routed(tiny_t5, local=["phatgoose"], top_k=2)
    x = torch.randn(2, seq, 16)
    layer = next(l for l in routed.layers if l.base.in_features == 16)
    with torch.inference_mode(), routed.batch(_queries(), batch_size=2):
        native_out = layer(x)
        monkeypatch.setattr(MoELoRALinear, "_native", lambda self: None)
        aten_out = layer(x)
    torch.testing.assert_close(native_out, aten_out, atol=1e-5, rtol=1e-5)


@needs_kernel
def test_a_nan_token_raises_the_routers_error(tiny_t5):
    routed = _routed(tiny_t5, local=["phatgoose"], global_scorers=["instruction"], alpha=3.0, top_k=2)
    layer = routed.layers[0]
    x = torch.randn(2, 5, layer.base.in_features)
    x[1, 2, 0] = float("nan")
    with torch.inference_mode(), routed.batch(_queries(), batch_size=2), pytest.raises(RoutingError, match="NaN"):
        layer(x)


def test_training_and_other_routers_keep_the_aten_path(tiny_t5):
    routed = _routed(tiny_t5, local=["phatgoose"], top_p=0.5)
    assert all(layer._native() is None for layer in routed.layers)  # top-p: not native
    routed = _routed(tiny_t5, local=["phatgoose"], top_k=2)
    x = torch.randn(2, 5, routed.layers[0].base.in_features, requires_grad=True)
    native_module = routed.layers[0]._native()
    if native_module is not None:
        assert not native_module.fits(x.reshape(10, -1))  # a gradient is needed: ATen


@needs_kernel
def test_rank_classification_takes_the_native_path_with_the_same_scores(tiny_t5, monkeypatch):
    """The evaluator's scoring (encoder + decoder over B*C rows, masks, statistics) on both paths."""
    from glider.lit.evaluation import batch_masks
    from glider.lit.scoring import rank_classification_scores
    from tests.moe.test_layer_fast_path import INPUT, LABELS, MASK

    routed = _routed(tiny_t5, local=["phatgoose"], global_scorers=["instruction"], alpha=3.0, top_k=2)
    labels = LABELS.repeat_interleave(2, dim=0)  # 2 choices per example
    labels[1::2, 0] = 20
    batch = {"input_ids": INPUT, "attention_mask": MASK, "choice_labels": labels.masked_fill(labels == 0, -100),
             "choice_valid": torch.ones(2, 2, dtype=torch.bool)}
    calls, once = [], []
    real_call = native_routed.NativeRoutedModule.__call__
    monkeypatch.setattr(native_routed.NativeRoutedModule, "__call__", lambda *a: calls.append(1) or real_call(*a))
    real_once = native_routed.forward_first_copy
    monkeypatch.setattr(native_routed, "forward_first_copy", lambda n, ctx, module, *a: once.append(module) or real_once(n, ctx, module, *a))

    def scores(stats):
        with torch.inference_mode(), routed.batch(_queries(), 2, masks=batch_masks(batch), task_ids=torch.tensor([0, 1]), stats=stats):
            return rank_classification_scores(routed.model, batch)

    native_stats = RoutingStats(["a", "b"], N_EXPERTS)
    native_scores = scores(native_stats)
    assert len(calls) == len(routed.layers)  # every routed module of encoder and decoder, once
    # the cross-attention keys and values see the encoder output once per choice: routed once per example
    assert once and all("EncDecAttention.k" in m or "EncDecAttention.v" in m for m in once)
    monkeypatch.setattr(MoELoRALinear, "_native", lambda self: None)
    aten_stats = RoutingStats(["a", "b"], N_EXPERTS)
    torch.testing.assert_close(native_scores, scores(aten_stats), atol=1e-5, rtol=1e-5)
    for module, sums in aten_stats.weight_sums.items():
        torch.testing.assert_close(native_stats.weight_sums[module], sums, atol=1e-5, rtol=1e-5)
