"""The native Phatgoose top-k router equals the ATen formula and hands non-finite logits back."""

from __future__ import annotations

import pytest
import torch

import glider.moe.native_kernel as native
from glider.errors import RoutingError
from glider.moe.native_route import PhatgooseKeys, native_route_fits, phatgoose_topk
from glider.routers.phatgoose import PhatgooseScorer
from glider.routers.selection import TopK

needs_kernel = pytest.mark.skipif(native.native_kernel() is None, reason="no AVX2/FMA CPU or no C compiler: the native kernel is off here")


def _aten(x, keys, k, weight=1.0, bias=None):
    scorer = PhatgooseScorer()
    z = scorer.logits(x, keys) * weight
    if bias is not None:
        z = (z.view(bias.shape[0], -1, z.shape[-1]) + bias[:, None, :]).view(-1, z.shape[-1])
    return TopK(k)(z)


def _case(n_tokens, n_experts, d_in, seed=0, offset=0.0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_tokens, d_in, generator=gen) * 3 + offset  # a non-zero mean exercises the mean term
    keys = PhatgooseScorer().prepare_keys(torch.randn(n_experts, d_in, generator=gen))
    return x, keys, gen


@needs_kernel
@pytest.mark.parametrize("n_tokens, n_experts, d_in, k, weight, examples", [
    (64, 36, 64, 2, 1.0, 4),
    (256, 166, 128, 2, 1.0, 2),
    (30, 5, 20, 3, 0.5, 3),  # d_in and N not multiples of 8
    (7, 1, 8, 1, 2.0, None),
    (33, 9, 2048, 1, 1.0, None),
    (12, 70, 24, 8, 1.0, 12),
])
def test_native_router_equals_the_aten_formula(n_tokens, n_experts, d_in, k, weight, examples):
    x, keys, gen = _case(n_tokens, n_experts, d_in, offset=1.5)
    bias = torch.randn(examples, n_experts, generator=gen) * 3 if examples else None
    pk = PhatgooseKeys.from_prepared(keys, PhatgooseScorer().eps)
    assert native_route_fits(x, pk, k)
    got = phatgoose_topk(x, pk, k, weight, bias)
    assert got is not None
    want_idx, want_w = _aten(x, keys, k, weight, bias)
    assert torch.equal(got[0], want_idx)
    torch.testing.assert_close(got[1], want_w, atol=1e-5, rtol=1e-5)


@needs_kernel
def test_excluded_experts_and_ties():
    x, keys, gen = _case(8, 6, 16)
    pk = PhatgooseKeys.from_prepared(keys, 1e-6)
    bias = torch.zeros(2, 6)
    bias[0, [1, 4]] = float("-inf")  # example 0 may not use experts 1 and 4
    idx, w = phatgoose_topk(x, pk, 4, 1.0, bias)
    assert not torch.isin(idx[:4], torch.tensor([1, 4])).any()
    idx, w = phatgoose_topk(x, pk, 5, 1.0, bias)  # 5 > the 4 finite experts: the fifth weighs 0
    assert torch.all(w[:4, 4] == 0) and torch.isin(idx[:4, 4], torch.tensor([1, 4])).all()
    same = PhatgooseKeys.from_prepared(keys[[2, 2, 2]], 1e-6)  # three equal experts: lower index first
    idx, w = phatgoose_topk(x, same, 2)
    assert torch.equal(idx, torch.tensor([[0, 1]] * 8))
    torch.testing.assert_close(w, torch.full((8, 2), 1 / 3) / (2 / 3 + 1e-6))


@needs_kernel
def test_non_finite_logits_are_handed_back():
    x, keys, _ = _case(8, 6, 16)
    pk = PhatgooseKeys.from_prepared(keys, 1e-6)
    nan_x = x.clone()
    nan_x[3, 0] = float("nan")
    assert phatgoose_topk(nan_x, pk, 2) is None
    assert phatgoose_topk(x, pk, 2, bias=torch.full((1, 6), float("inf"))) is None
    assert phatgoose_topk(x, pk, 2, bias=torch.full((2, 6), float("-inf"))) is None


@needs_kernel
def test_layer_routes_natively_and_raises_the_routers_error_on_nan(tiny_t5, monkeypatch):
    from tests.moe.test_layer_fast_path import _queries, _routed

    routed = _routed(tiny_t5, local=["phatgoose"], global_scorers=["instruction"], alpha=3.0, top_k=2)
    layer = routed.layers[0]
    x = torch.randn(10, layer.base.in_features)
    with torch.inference_mode(), routed.batch(_queries(), batch_size=2):
        native_idx, native_w = layer.route(x, 2, 5)
        assert layer._native_keys is not None
        monkeypatch.setattr(layer, "_route_native", lambda *a: None)
        aten_idx, aten_w = layer.route(x, 2, 5)
        monkeypatch.undo()
        assert torch.equal(native_idx, aten_idx)
        torch.testing.assert_close(native_w, aten_w, atol=1e-5, rtol=1e-5)
        x[4, 1] = float("nan")
        with pytest.raises(RoutingError, match="NaN"):
            layer.route(x, 2, 5)


def test_no_native_router_for_gradients_or_other_dtypes():
    x, keys, _ = _case(4, 3, 8)
    pk = PhatgooseKeys.from_prepared(keys, 1e-6)
    assert not native_route_fits(x.double(), pk, 2)
    assert not native_route_fits(x.requires_grad_(), pk, 2)
    assert not native_route_fits(x.detach(), pk, 4)  # k > N
