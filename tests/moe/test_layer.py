"""The MoE-LoRA layer: PEFT equivalence, merged = uniform, experts applied = loop, per-example routing."""

from __future__ import annotations

import copy

import pytest
import torch
from peft import PeftModel

from glider.library.library import ExpertLibrary
from glider.moe.inject import module_shapes
from glider.moe.routed_model import RoutedSeq2Seq
from glider.moe.stats import RoutingStats
from glider.routers import build_router
from glider.routers.base import ExpertSide, QueryBatch
from tests.conftest import random_expert

INPUT = torch.tensor([[5, 6, 7, 8, 1], [9, 10, 11, 1, 0]])
MASK = (INPUT != 0).long()
LABELS = torch.tensor([[12, 13, 1], [14, 1, 0]])


def _logits(model, **kw):
    return model(input_ids=INPUT, attention_mask=MASK, labels=LABELS, **kw).logits


def test_one_expert_with_weight_one_matches_peft(tiny_t5, tmp_path) -> None:
    expert = random_expert(tiny_t5, "e0", "t0", rank=4, alpha=8.0)
    library = ExpertLibrary.open_or_create(tmp_path / "lib", {"id": "tiny", "fingerprint": "x"}, ["q"])
    library.add(expert)
    peft_model = PeftModel.from_pretrained(copy.deepcopy(tiny_t5), str(library.expert_dir("e0"))).eval()
    loaded = library.load("e0")
    routed = RoutedSeq2Seq(copy.deepcopy(tiny_t5), build_router("oracle", global_scorers=["oracle"], top_k=1), [loaded]).eval()
    with torch.no_grad(), routed.batch(QueryBatch(tasks=["t0", "t0"]), batch_size=2):
        ours = _logits(routed)
    with torch.no_grad():
        theirs = _logits(peft_model)
        bare = _logits(tiny_t5)
    assert (theirs - bare).abs().max() > 1e-2  # the adapter really changes the output
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_merged_equals_dense_uniform_mixture(tiny_t5) -> None:
    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i) for i in range(3)]
    merged = RoutedSeq2Seq(copy.deepcopy(tiny_t5), build_router("merged", mode="merged"), experts).eval()
    uniform = RoutedSeq2Seq(copy.deepcopy(tiny_t5), build_router("uniform", global_scorers=["uniform"], dense=True), experts).eval()
    with torch.no_grad():
        a = _logits(merged)
        with uniform.batch(QueryBatch(tasks=["a", "b"]), batch_size=2):
            b = _logits(uniform)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("router_kwargs", [
    dict(local=["phatgoose"], top_k=2),
    dict(local=["arrow"], top_k=1),
    dict(local=["phatgoose"], global_scorers=["instruction"], alpha=3.0, top_p=0.5),
])
def test_selective_dispatch_equals_loop_over_all_experts(tiny_t5, router_kwargs) -> None:
    torch.manual_seed(0)
    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i) for i in range(5)]
    side = ExpertSide(names=[e.name for e in experts], tasks=[e.task for e in experts], instruction_emb=torch.randn(5, 8))
    routed = RoutedSeq2Seq(copy.deepcopy(tiny_t5), build_router("r", **router_kwargs), experts, side).eval()
    x = torch.randn(2, 5, 16)
    queries = QueryBatch(tasks=["a", "b"], instruction_emb=torch.randn(2, 8))
    for layer in [l for l in routed.layers if l.base.in_features == 16][:6]:
        with torch.no_grad(), routed.batch(queries, batch_size=2):
            got = layer(x)
            idx, w = layer.router.route(x.reshape(-1, 16), routed.context)
        dense = torch.zeros(10, 5).scatter_add_(1, idx, w)  # [T, N] weight of every expert
        want = layer.base(x).reshape(10, -1)
        flat = x.reshape(10, 16)
        for i in range(5):  # plain loop over ALL experts
            bank = layer.experts
            want = want + dense[:, i : i + 1] * bank.scale[i] * (flat @ bank.lora_A[i].T @ bank.lora_B[i].T)
        torch.testing.assert_close(got.reshape(10, -1), want, rtol=1e-5, atol=1e-5)


def test_mixed_batch_routes_each_example_by_its_own_global_scores(tiny_t5) -> None:
    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i) for i in range(3)]
    emb = torch.eye(3)
    side = ExpertSide(names=["e0", "e1", "e2"], tasks=["t0", "t1", "t2"], instruction_emb=emb)
    router = build_router("glider", local=["phatgoose"], global_scorers=["instruction"], alpha=100.0, top_k=1)
    routed = RoutedSeq2Seq(copy.deepcopy(tiny_t5), router, experts, side).eval()
    queries = QueryBatch(tasks=["t2", "t0"], instruction_emb=emb[[2, 0]])
    stats = RoutingStats(task_names=["t2", "t0"], num_experts=3)
    with torch.no_grad(), routed.batch(queries, batch_size=2, masks=[MASK], task_ids=torch.tensor([0, 1]), stats=stats):
        mixed = _logits(routed)
    for name in stats.weight_sums:  # every module: example 0 (t2) used e2 only, example 1 (t0) e0 only
        mean = stats.weight_sums[name] / stats.token_counts[name][:, None]
        assert mean[0, 2] > 0.99 and mean[1, 0] > 0.99, name
    for row in range(2):  # and the mixed batch equals each example routed alone
        single = QueryBatch(tasks=[queries.tasks[row]], instruction_emb=queries.instruction_emb[row : row + 1])
        with torch.no_grad(), routed.batch(single, batch_size=1):
            alone = routed(input_ids=INPUT[row : row + 1], attention_mask=MASK[row : row + 1], labels=LABELS[row : row + 1]).logits
        n = int(LABELS[row].ne(0).sum())
        torch.testing.assert_close(mixed[row, :n], alone[0, :n], rtol=1e-4, atol=1e-5)


def test_base_router_leaves_backbone_untouched(tiny_t5) -> None:
    experts = [random_expert(tiny_t5, "e0", "t0")]
    routed = RoutedSeq2Seq(copy.deepcopy(tiny_t5), build_router("base", mode="base"), experts).eval()
    assert routed.layers == []
    with torch.no_grad():
        torch.testing.assert_close(_logits(routed), _logits(tiny_t5))


def test_candidates_restrict_routing_to_preselected_experts(tiny_t5) -> None:
    experts = [random_expert(tiny_t5, f"e{i}", f"t{i}", seed=i) for i in range(6)]
    side = ExpertSide(names=[e.name for e in experts], tasks=[e.task for e in experts], instruction_emb=torch.eye(6))
    router = build_router("glider", local=["phatgoose"], global_scorers=["instruction"], alpha=1.0, top_k=2, candidates=2)
    routed = RoutedSeq2Seq(copy.deepcopy(tiny_t5), router, experts, side).eval()
    q = QueryBatch(tasks=["a", "b"], instruction_emb=torch.eye(6)[[1, 4]] + 0.5 * torch.eye(6)[[3, 5]])
    with torch.no_grad(), routed.batch(q, batch_size=2):
        idx, _ = routed.layers[0].router.route(torch.randn(10, 16), routed.context)
    assert set(idx[:5].flatten().tolist()) <= {1, 3} and set(idx[5:].flatten().tolist()) <= {4, 5}


def test_module_shapes_cover_gated_t5(tiny_t5) -> None:
    shapes = module_shapes(tiny_t5)
    assert "encoder.block.0.layer.1.DenseReluDense.wi_0" in shapes
    assert "decoder.block.1.layer.1.EncDecAttention.k" in shapes
    assert len(shapes) == 2 * 7 + 2 * 11
