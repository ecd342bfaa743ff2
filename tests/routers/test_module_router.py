"""A router bound to a module (``route(x, context)``) against the formula: Phatgoose + global bias +
top-k, excluded experts, ties, candidates, global-only routers and the routing errors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from glider.errors import RoutingError
from glider.routers import build_router
from tests.moe.reference import route_reference


def _context(bias=None, candidates=None):
    return SimpleNamespace(bias=bias, candidates=candidates)


def _case(n_tokens, n_experts, d_in, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_tokens, d_in, generator=gen) * 3 + 1.5  # a non-zero mean exercises the LayerNorm
    return x, torch.randn(n_experts, d_in, generator=gen), gen


@pytest.mark.parametrize("n_tokens, n_experts, d_in, k, weight, examples", [
    (64, 36, 64, 2, 1.0, 4),
    (256, 166, 128, 2, 1.0, 2),
    (30, 5, 20, 3, 0.5, 3),  # d_in and N not multiples of 8
    (7, 1, 8, 1, 2.0, None),
    (33, 9, 2048, 1, 1.0, None),
    (12, 70, 24, 8, 1.0, 12),
])
def test_phatgoose_top_k_equals_the_formula(n_tokens, n_experts, d_in, k, weight, examples):
    x, gates, gen = _case(n_tokens, n_experts, d_in)
    bias = torch.randn(examples, n_experts, generator=gen) * 3 if examples else None
    router = build_router("r", local={"phatgoose": weight}, global_scorers=["uniform"] if examples else [], top_k=k)
    idx, w = router.bind_module("m", {"gate": gates}).route(x, _context(bias))
    want_idx, want_w = route_reference(x, gates, k, bias, weight)
    assert torch.equal(idx, want_idx)
    torch.testing.assert_close(w, want_w.float(), atol=1e-5, rtol=1e-5)


def test_excluded_experts_and_ties():
    x, gates, _ = _case(8, 6, 16)
    bias = torch.zeros(2, 6)
    bias[0, [1, 4]] = float("-inf")  # example 0 may not use experts 1 and 4
    module = build_router("r", local=["phatgoose"], global_scorers=["uniform"], top_k=4).bind_module("m", {"gate": gates})
    idx, _ = module.route(x, _context(bias))
    assert not torch.isin(idx[:4], torch.tensor([1, 4])).any()
    module = build_router("r", local=["phatgoose"], global_scorers=["uniform"], top_k=5).bind_module("m", {"gate": gates})
    idx, w = module.route(x, _context(bias))  # 5 > the 4 allowed experts: the fifth weighs 0
    assert torch.all(w[:4, 4] == 0) and torch.isin(idx[:4, 4], torch.tensor([1, 4])).all()
    same = build_router("r", local=["phatgoose"], top_k=2).bind_module("m", {"gate": gates[[2, 2, 2]]})
    idx, w = same.route(x, _context())  # three equal experts: the lower index first
    assert torch.equal(idx, torch.tensor([[0, 1]] * 8))
    torch.testing.assert_close(w, torch.full((8, 2), 1 / 3) / (2 / 3 + 1e-6))


def test_candidates_equal_the_full_router_with_the_others_excluded():
    x, gates, gen = _case(20, 12, 16)
    bias = torch.randn(4, 12, generator=gen)
    cand = torch.stack([torch.randperm(12, generator=gen)[:5] for _ in range(4)])  # [B, M]
    module = build_router("r", local=["phatgoose"], global_scorers=["uniform"], top_k=2).bind_module("m", {"gate": gates})
    idx, w = module.route(x, _context(bias, cand))
    excluded = torch.full_like(bias, float("-inf")).scatter(1, cand, 0.0)
    want_idx, want_w = module.route(x, _context(bias + excluded))
    assert torch.equal(idx, want_idx)
    torch.testing.assert_close(w, want_w, atol=1e-6, rtol=1e-6)


def test_global_only_routes_each_example_by_its_scores():
    module = build_router("g", global_scorers=["uniform"], top_k=1).bind_module("m", {})
    bias = torch.tensor([[0.0, 3.0, 1.0], [2.0, 0.0, 0.0]])
    idx, w = module.route(torch.randn(6, 4), _context(bias))  # 3 tokens per example
    assert idx.flatten().tolist() == [1, 1, 1, 0, 0, 0]
    torch.testing.assert_close(w, torch.full((6, 1), 1 / (1 + 1e-6)))
    with pytest.raises(RoutingError, match="needs global scores"):
        module.route(torch.randn(6, 4), _context())
    with pytest.raises(ValueError, match="example-major"):
        module.route(torch.randn(5, 4), _context(bias))


def test_non_finite_scores_raise_the_routing_error():
    x, gates, _ = _case(8, 6, 16)
    module = build_router("r", local=["phatgoose"], global_scorers=["uniform"], top_k=2).bind_module("m", {"gate": gates})
    nan_x = x.clone()
    nan_x[3, 0] = float("nan")
    with pytest.raises(RoutingError, match="NaN in module m"):
        module.route(nan_x, _context())
    with pytest.raises(RoutingError, match="inf in module m"):
        module.route(x, _context(torch.full((1, 6), float("inf"))))
    with pytest.raises(RoutingError, match="Every expert scored -inf"):
        module.route(x, _context(torch.full((2, 6), float("-inf"))))
    oracle = build_router("o", global_scorers=["oracle"], top_k=1).bind_module("m", {})
    with pytest.raises(RoutingError, match="Every expert scored -inf"):
        oracle.route(x, _context(torch.full((2, 6), float("-inf"))))
