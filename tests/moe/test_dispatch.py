"""lora_dispatch against the plain per-expert loop, merged experts, routing helpers."""

from __future__ import annotations

import pytest
import torch

from glider.moe.dispatch import lora_dense_uniform, lora_dispatch, lora_loop_reference, merged_delta
from glider.moe.routing_math import (
    candidate_logits,
    candidates_to_experts,
    layer_norm_plain,
    local_logits,
    normalize_gates,
    topk_route,
)
from glider.moe.segment_matmul import grouped_kernel_fits, plan_segments

KERNELS = ["auto", "grouped", "loop", "bag"]


def make_case(n_tokens, n_experts, k, rank, d_in, d_out, dtype=torch.float32, seed=0, b_rank_major=True):
    """Random operands; ``b_rank_major``: B as a view of a contiguous [N, r, d_out] (the fast layout)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_tokens, d_in, generator=gen)
    expert_idx = torch.randint(0, n_experts, (n_tokens, k), generator=gen)
    weights = torch.rand(n_tokens, k, generator=gen)
    lora_A = torch.randn(n_experts, rank, d_in, generator=gen) / d_in**0.5
    lora_B = torch.randn(n_experts, d_out, rank, generator=gen) / rank**0.5
    scale = torch.rand(n_experts, generator=gen) + 0.5
    lora_B = lora_B.to(dtype)
    if b_rank_major:
        lora_B = lora_B.transpose(1, 2).contiguous().transpose(1, 2)
    return x.to(dtype), expert_idx, weights, lora_A.to(dtype), lora_B, scale


def naive_output(x, expert_idx, weights, lora_A, lora_B, scale):
    """Token by token, slot by slot, in float64: the formula as written."""
    x, lora_A, lora_B = x.double(), lora_A.double(), lora_B.double()
    out = torch.zeros(x.shape[0], lora_B.shape[1], dtype=torch.float64)
    for t in range(x.shape[0]):
        for j in range(expert_idx.shape[1]):
            e = int(expert_idx[t, j])
            if e >= 0:
                out[t] += float(weights[t, j]) * float(scale[e]) * (lora_B[e] @ (lora_A[e] @ x[t]))
    return out


# (T, N, k, r, d_in, d_out): aligned shapes take the grouped kernel, odd ones the loop
SHAPES = [
    (64, 8, 2, 4, 16, 24),
    (100, 37, 1, 8, 32, 12),
    (33, 5, 3, 4, 20, 8),
    (257, 166, 2, 16, 64, 48),
    (40, 9, 2, 3, 7, 11),  # unaligned: loop kernel under "auto"
    (16, 1, 1, 4, 8, 8),  # N = 1
    (5, 300, 2, 4, 8, 16),  # mostly empty experts
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("b_rank_major", [True, False])
def test_matches_loop_reference_float32(shape, kernel, b_rank_major):
    case = make_case(*shape, b_rank_major=b_rank_major)
    if kernel == "grouped" and not grouped_kernel_fits(case[0], case[3]):
        pytest.skip("shape not aligned for torch._grouped_mm")
    reference = lora_loop_reference(*case)
    out = lora_dispatch(*case, kernel=kernel)
    assert out.shape == reference.shape and out.dtype == torch.float32
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=1e-5)


def test_reference_matches_formula():
    case = make_case(20, 6, 3, 4, 10, 9)
    torch.testing.assert_close(lora_loop_reference(*case).double(), naive_output(*case), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kernel", KERNELS)
def test_bfloat16(kernel):
    x, idx, w, A, B, s = make_case(200, 12, 2, 16, 64, 32, dtype=torch.bfloat16)
    exact = naive_output(x, idx, w, A, B, s)
    for weights in (w, w.to(torch.bfloat16)):
        out = lora_dispatch(x, idx, weights, A, B, s, kernel=kernel)
        assert out.dtype == torch.bfloat16
        torch.testing.assert_close(out.double(), exact, atol=2e-2, rtol=2e-2)


@pytest.mark.parametrize("kernel", KERNELS)
def test_edge_cases(kernel):
    x, idx, w, A, B, s = make_case(30, 6, 3, 4, 8, 12)
    # repeated expert in one token, equal weights, zero weights, idle slots (-1), idle tokens
    idx[0] = torch.tensor([2, 2, 2])
    w[1] = torch.tensor([0.25, 0.25, 0.25])
    w[2] = 0.0
    idx[3] = torch.tensor([-1, 4, -1])
    idx[4] = -1
    expected = naive_output(x, idx, w, A, B, s)
    out = lora_dispatch(x, idx, w, A, B, s, kernel=kernel)
    torch.testing.assert_close(out.double(), expected, atol=1e-5, rtol=1e-5)
    assert torch.equal(out[4], torch.zeros(12)) and torch.equal(out[2], torch.zeros(12))
    torch.testing.assert_close(lora_loop_reference(x, idx, w, A, B, s), out, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kernel", KERNELS)
def test_no_work(kernel):
    x, idx, w, A, B, s = make_case(10, 4, 2, 4, 8, 12)
    assert lora_dispatch(x[:0], idx[:0], w[:0], A, B, s, kernel=kernel).shape == (0, 12)
    assert torch.equal(lora_dispatch(x, torch.full_like(idx, -1), w, A, B, s, kernel=kernel), torch.zeros(10, 12))
    assert torch.equal(lora_dispatch(x, idx[:, :0], w[:, :0], A, B, s, kernel=kernel), torch.zeros(10, 12))


@pytest.mark.parametrize("kernel", KERNELS)
def test_accumulates_into_out(kernel):
    x, idx, w, A, B, s = make_case(24, 5, 2, 4, 8, 12)
    weight = torch.randn(12, 8)
    x_fast, w_fast = x.clone().requires_grad_(), w.clone().requires_grad_()
    base = torch.nn.functional.linear(x_fast, weight)
    fused = lora_dispatch(x_fast, idx, w_fast, A, B, s, kernel=kernel, out=base)
    assert fused is base
    x_ref, w_ref = x.clone().requires_grad_(), w.clone().requires_grad_()
    expected = torch.nn.functional.linear(x_ref, weight) + lora_loop_reference(x_ref, idx, w_ref, A, B, s)
    torch.testing.assert_close(fused, expected, atol=1e-5, rtol=1e-5)
    fused.pow(2).sum().backward()
    expected.pow(2).sum().backward()
    torch.testing.assert_close(x_fast.grad, x_ref.grad, atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(w_fast.grad, w_ref.grad, atol=1e-4, rtol=1e-5)


def test_rejects_bad_operands():
    x, idx, w, A, B, s = make_case(10, 4, 2, 4, 8, 12)
    bad_idx = idx.clone()
    bad_idx[3, 1] = 4
    for kernel in KERNELS:
        with pytest.raises(ValueError, match="ids >= 4"):
            lora_dispatch(x, bad_idx, w, A, B, s, kernel=kernel)
    with pytest.raises(ValueError, match="d_in=8"):
        lora_dispatch(x[:, :7], idx, w, A, B, s)
    with pytest.raises(ValueError, match="weights"):
        lora_dispatch(x, idx, w[:, :1], A, B, s)
    with pytest.raises(ValueError, match="lora_B must be"):
        lora_dispatch(x, idx, w, A, B[:, :, :3], s)
    with pytest.raises(ValueError, match="unknown dispatch kernel"):
        lora_dispatch(x, idx, w, A, B, s, kernel="dense")
    with pytest.raises(ValueError, match="cast the expert weights"):
        lora_dispatch(x, idx, w, A.double(), B.double(), s)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("train_experts", [False, True])
def test_gradients_match_reference(kernel, train_experts):
    x, idx, w, A, B, s = make_case(48, 7, 2, 4, 16, 12)
    idx[5, 0] = -1
    idx[idx == 6] = 0  # expert 6 unused: its gradients must be exactly zero
    grads = []
    for fn in (lora_dispatch, lora_loop_reference):
        leaves = [x.clone().requires_grad_(), w.clone().requires_grad_()]
        if train_experts:
            trained_a = A.clone().requires_grad_(kernel != "bag")  # the bag kernel gives A no gradient
            leaves += [B.clone().requires_grad_(), s.clone().requires_grad_()]
            leaves += [trained_a] if kernel != "bag" else []
            args = (leaves[0], idx, leaves[1], trained_a, *leaves[2:4])
        else:
            args = (leaves[0], idx, leaves[1], A, B, s)
        kwargs = {"kernel": kernel} if fn is lora_dispatch else {}
        out = fn(*args, **kwargs)
        upstream = torch.linspace(-1, 1, out.numel()).view_as(out)
        grads.append(torch.autograd.grad(out, leaves, upstream))
    for fast, ref in zip(*grads):
        torch.testing.assert_close(fast, ref, atol=1e-5, rtol=1e-5)
    if train_experts:  # leaves: x, w, B, s (, A)
        assert all(not g[6].any() for g in grads[0][2:])


def test_bag_kernel_refuses_to_train_a():
    x, idx, w, A, B, s = make_case(8, 3, 2, 4, 8, 8)
    with pytest.raises(ValueError, match="no gradient"):
        lora_dispatch(x, idx, w, A.requires_grad_(), B, s, kernel="bag")
    # auto falls back to the grouped kernel, which trains A
    out = lora_dispatch(x, idx[:1, :1], w[:1, :1], A, B, torch.ones(3), kernel="auto")
    assert out.requires_grad


def test_auto_kernel_choice(monkeypatch):
    """The ATen rule (no native kernel): bag for sparse routing or a small library, else grouped."""
    import glider.moe.dispatch as dispatch

    calls = []
    monkeypatch.setattr(dispatch, "native_fits", lambda *a: False)
    real = dispatch._bag_path
    monkeypatch.setattr(dispatch, "_bag_path", lambda *a: calls.append(1) or real(*a))
    x, idx, w, A, B, s = make_case(30, 20, 2, 4, 8, 8)  # 60 slots >= 20 experts, tiny library
    lora_dispatch(x, idx, w, A, B, s)
    assert calls == [1]
    monkeypatch.setattr(dispatch, "BAG_MAX_LIBRARY_BYTES", 0)
    lora_dispatch(x, idx, w, A, B, s)
    assert calls == [1]
    x, idx, w, A, B, s = make_case(6, 20, 2, 4, 8, 8)  # 12 slots < 20 experts
    lora_dispatch(x, idx, w, A, B, s)
    assert calls == [1, 1]
    lora_dispatch(x, idx, w, A, B.contiguous(), s)  # B layout not a free table: grouped
    assert calls == [1, 1]


@pytest.mark.parametrize("kernel", ["loop", "bag"])  # the grouped kernel has no float64
def test_gradcheck_float64(kernel):
    x, idx, w, A, B, s = (t.double() if t.is_floating_point() else t for t in make_case(6, 3, 2, 4, 8, 4))
    idx[2, 1] = -1
    x.requires_grad_()
    w.requires_grad_()
    B.requires_grad_()
    assert torch.autograd.gradcheck(lambda x, w, B: lora_dispatch(x, idx, w, A, B, s, kernel=kernel), (x, w, B))


def test_merged_delta_and_dense_uniform_agree():
    x, _, _, A, B, s = make_case(25, 9, 1, 4, 10, 14)
    naive_delta = sum(s[i] * B[i].double() @ A[i].double() for i in range(9)) / 9
    delta = merged_delta(A, B, s)
    assert delta.shape == (14, 10)
    torch.testing.assert_close(delta.double(), naive_delta, atol=1e-6, rtol=1e-5)
    dense = lora_dense_uniform(x, A, B, s)
    torch.testing.assert_close(dense, x @ delta.T, atol=1e-5, rtol=1e-5)
    # uniform weights over all experts through the dispatch equal the merged delta
    every = torch.arange(9).expand(25, 9)
    torch.testing.assert_close(lora_dispatch(x, every, torch.full((25, 9), 1 / 9), A, B, s), dense, atol=1e-5, rtol=1e-5)


def test_plan_covers_every_group():
    plan = plan_segments(torch.tensor([0, 2, 0, 0, 1]))
    assert plan.offsets.tolist() == [0, 2, 2, 2, 3] and plan.counts == [0, 2, 0, 0, 1]


def test_local_logits_formula():
    gen = torch.Generator().manual_seed(1)
    x, gates = torch.randn(7, 32, generator=gen) + 3.0, torch.randn(5, 32, generator=gen)

    def ln(v):
        return (v - v.mean(-1, keepdim=True)) / torch.sqrt(v.var(-1, unbiased=False, keepdim=True) + 1e-5)

    expected = ln(x) @ ln(gates).T / 32**0.5
    torch.testing.assert_close(local_logits(x, normalize_gates(gates)), expected, atol=1e-5, rtol=1e-5)


def test_topk_route_renormalises():
    logits = torch.tensor([[0.0, 1.0, 2.0, -1.0], [5.0, 5.0, 0.0, 0.0]])
    idx, w = topk_route(logits, 2)
    p = logits.softmax(-1)
    assert idx[0].tolist() == [2, 1]
    torch.testing.assert_close(w[0], p[0, [2, 1]] / (p[0, [2, 1]].sum() + 1e-6))
    torch.testing.assert_close(w[1], torch.full((2,), 0.5 / (1 + 1e-6)))


def test_candidate_logits_equal_full_logits_on_candidates():
    gen = torch.Generator().manual_seed(2)
    n_examples, length, d_in, n_experts, m = 3, 5, 16, 40, 6
    x = torch.randn(n_examples, length, d_in, generator=gen)
    gates_normed = normalize_gates(torch.randn(n_experts, d_in, generator=gen))
    cand = torch.stack([torch.randperm(n_experts, generator=gen)[:m] for _ in range(n_examples)])  # [B, M]
    logits = candidate_logits(layer_norm_plain(x), gates_normed, cand)  # [B, L, M]
    full = local_logits(x, gates_normed)  # [B, L, N]
    torch.testing.assert_close(logits, torch.gather(full, 2, cand[:, None, :].expand(-1, length, -1)))
    local_idx, _ = topk_route(logits, 2)
    experts = candidates_to_experts(local_idx, cand)  # [B, L, 2]
    for b in range(n_examples):
        assert set(experts[b].flatten().tolist()) <= set(cand[b].tolist())
    # the candidate's top expert is the full router's top expert restricted to the candidates
    masked = torch.full_like(full, float("-inf")).scatter(2, cand[:, None, :].expand(-1, length, -1), 0.0)
    assert torch.equal(experts[..., 0], (full + masked).argmax(-1))
