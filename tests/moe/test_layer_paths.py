"""The MoE layer: storage layout, loop equality (float32, bfloat16), top-p padding, candidate
pre-selection (router.candidates), padding tokens, identical copies, routing errors."""

from __future__ import annotations

import copy

import pytest
import torch

from glider.errors import ConfigError
from glider.moe.routed_model import RoutedSeq2Seq
from glider.routers import build_router
from glider.routers.base import ExpertSide, QueryBatch
from tests.conftest import random_expert
from tests.moe.reference import lora_loop_reference

N_EXPERTS = 6
INPUT = torch.tensor([[5, 6, 7, 8, 1], [9, 10, 11, 1, 0]])
MASK = (INPUT != 0).long()
LABELS = torch.tensor([[12, 13, 1], [14, 1, 0]])


def _routed(model, dtype: torch.dtype = torch.float32, **router_kwargs) -> RoutedSeq2Seq:
    experts = [random_expert(model, f"e{i}", f"t{i}", seed=i) for i in range(N_EXPERTS)]
    emb = torch.randn(N_EXPERTS, 8, generator=torch.Generator().manual_seed(1))
    side = ExpertSide(names=[e.name for e in experts], tasks=[e.task for e in experts], instruction_emb=emb)
    return RoutedSeq2Seq(copy.deepcopy(model).to(dtype), build_router("r", **router_kwargs), experts, side).eval()


def _queries() -> QueryBatch:
    return QueryBatch(tasks=["a", "b"], instruction_emb=torch.randn(2, 8, generator=torch.Generator().manual_seed(2)))


def _loop_output(layer, x, idx, w) -> torch.Tensor:
    """Frozen layer + the plain per-expert loop, in float32."""
    flat = x.reshape(-1, x.shape[-1]).float()
    bank = layer.experts
    delta = lora_loop_reference(flat, idx, w.float(), bank.lora_A.float(), bank.lora_B.float(), bank.scale.float())
    return layer.base(x).float().reshape(flat.shape[0], -1) + delta


def test_experts_stored_once_in_the_kernels_layout(tiny_t5) -> None:
    routed = _routed(tiny_t5, local=["phatgoose"], top_k=2)
    for layer in routed.layers:
        bank = layer.experts
        assert bank.lora_A.is_contiguous() and bank.lora_Bt.is_contiguous()
        assert bank.lora_B.data_ptr() == bank.lora_Bt.data_ptr()  # a view, not a second copy


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.bfloat16, 2e-2)])
@pytest.mark.parametrize("router_kwargs", [
    dict(local=["phatgoose"], global_scorers=["instruction"], alpha=3.0, top_k=2),
    dict(local=["phatgoose"], top_p=0.5),
    dict(global_scorers=["uniform"], dense=True),
])
def test_layer_equals_plain_loop(tiny_t5, dtype, tol, router_kwargs) -> None:
    routed = _routed(tiny_t5, dtype, **router_kwargs)
    x = torch.randn(2, 5, 16).to(dtype)
    for layer in [l for l in routed.layers if l.base.in_features == 16][:6]:
        with torch.no_grad(), routed.batch(_queries(), batch_size=2):
            got = layer(x).reshape(10, -1)
            idx, w = layer.router.route(x.reshape(10, 16), routed.context)
        assert got.dtype == dtype
        torch.testing.assert_close(got.float(), _loop_output(layer, x, idx, w), rtol=tol, atol=tol)


def test_candidates_equal_to_all_experts_give_the_full_router(tiny_t5) -> None:
    routed = _routed(tiny_t5, local=["phatgoose"], global_scorers=["instruction"], alpha=3.0, top_k=2)
    everyone = torch.stack([torch.randperm(N_EXPERTS, generator=torch.Generator().manual_seed(s)) for s in (3, 4)])
    with torch.no_grad(), routed.batch(_queries(), batch_size=2):
        full = routed(input_ids=INPUT, attention_mask=MASK, labels=LABELS).logits
        routed.context.candidates = everyone  # force the candidate path with M = N (shuffled order)
        via_candidates = routed(input_ids=INPUT, attention_mask=MASK, labels=LABELS).logits
    torch.testing.assert_close(via_candidates, full, rtol=1e-5, atol=1e-5)
    config_n = _routed(tiny_t5, local=["phatgoose"], global_scorers=["instruction"], alpha=3.0, top_k=2, candidates=N_EXPERTS)
    with torch.no_grad(), config_n.batch(_queries(), batch_size=2):
        torch.testing.assert_close(config_n(input_ids=INPUT, attention_mask=MASK, labels=LABELS).logits, full)


def test_candidates_equal_full_router_with_other_experts_excluded(tiny_t5) -> None:
    m = 3
    routed = _routed(tiny_t5, local=["phatgoose"], global_scorers=["instruction"], alpha=3.0, top_k=2, candidates=m)
    x = torch.randn(2, 5, 16)
    for layer in [l for l in routed.layers if l.base.in_features == 16][:6]:
        with torch.no_grad(), routed.batch(_queries(), batch_size=2) as bias:
            cand = routed.context.candidates  # [B, M]: the M best global scores
            assert cand.shape == (2, m) and torch.equal(cand.sort(-1).values, bias.topk(m).indices.sort(-1).values)
            got = layer(x)
            idx, _ = layer.router.route(x.reshape(10, 16), routed.context)
            excluded = torch.full_like(bias, float("-inf")).scatter(1, cand, 0.0)
            routed.context.bias, routed.context.candidates = bias + excluded, None  # full router, others at -inf
            want = layer(x)
        for row in range(2):
            assert set(idx[row * 5 : row * 5 + 5].flatten().tolist()) <= set(cand[row].tolist())
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_candidates_need_a_global_scorer() -> None:
    with pytest.raises(ConfigError, match="global scorer"):
        build_router("phatgoose", local=["phatgoose"], top_k=2, candidates=4)


def test_layer_keeps_the_stacked_experts_without_a_copy(tiny_t5) -> None:
    from glider.library.stack import stack_experts
    from glider.moe.context import RoutingContext
    from glider.moe.inject import inject_moe, module_shapes

    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i) for i in range(2)]
    stacks = stack_experts(experts, module_shapes(tiny_t5), ["gate"])
    model = copy.deepcopy(tiny_t5)
    layers = inject_moe(model, stacks, build_router("p", local=["phatgoose"], top_k=1), RoutingContext())
    for layer in layers:
        stack = stacks[layer.module_name]
        assert layer.experts.lora_A.data_ptr() == stack.lora_A.data_ptr()
        assert layer.experts.lora_Bt.data_ptr() == stack.lora_B.data_ptr()  # B is stacked in the bank's layout
        for i, expert in enumerate(experts):
            torch.testing.assert_close(layer.experts.lora_B[i], expert.lora_B[layer.module_name])
