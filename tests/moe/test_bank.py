"""The expert bank against the plain per-expert loop and the formula; merged experts."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from glider.moe.bank import ExpertBank, segment_products
from glider.moe.merged import merged_delta
from tests.moe.reference import lora_loop_reference, naive_output


def make_case(n_tokens, n_experts, k, rank, d_in, d_out, dtype=torch.float32, seed=0, b_rank_major=True):
    """Random operands; ``b_rank_major``: B as a view of a contiguous [N, r, d_out] (the bank's layout)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_tokens, d_in, generator=gen)
    indices = torch.randint(0, n_experts, (n_tokens, k), generator=gen)
    weights = torch.rand(n_tokens, k, generator=gen)
    lora_A = torch.randn(n_experts, rank, d_in, generator=gen) / d_in**0.5
    lora_B = torch.randn(n_experts, d_out, rank, generator=gen) / rank**0.5
    scale = torch.rand(n_experts, generator=gen) + 0.5
    lora_B = lora_B.to(dtype)
    if b_rank_major:
        lora_B = lora_B.transpose(1, 2).contiguous().transpose(1, 2)
    return x.to(dtype), indices, weights, lora_A.to(dtype), lora_B, scale


def apply(x, indices, weights, lora_A, lora_B, scale, out=None):
    """The bank's contract: ``bank(x, indices, weights, out)`` (out: zeros unless given)."""
    out = x.new_zeros(x.shape[0], lora_B.shape[1]) if out is None else out
    return ExpertBank(lora_A, lora_B.transpose(1, 2), scale)(x, indices, weights, out)


# (T, N, k, r, d_in, d_out): aligned shapes take F.grouped_mm, odd ones one product per expert
SHAPES = [
    (64, 8, 2, 4, 16, 24),
    (100, 37, 1, 8, 32, 12),
    (33, 5, 3, 4, 20, 8),
    (257, 166, 2, 16, 64, 48),
    (40, 9, 2, 3, 7, 11),  # unaligned: a product per expert
    (16, 1, 1, 4, 8, 8),  # N = 1
    (5, 300, 2, 4, 8, 16),  # mostly empty experts
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("b_rank_major", [True, False])
def test_matches_loop_reference_float32(shape, b_rank_major):
    case = make_case(*shape, b_rank_major=b_rank_major)
    reference = lora_loop_reference(*case)
    out = apply(*case)
    assert out.shape == reference.shape and out.dtype == torch.float32
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("chunk_bytes", [1, 4 * (16 + 24) * 200, 4 * (16 + 24) * 1000])
def test_runs_of_experts_give_the_same_result(monkeypatch, chunk_bytes):
    """On CPU the sorted slots go in runs of experts of bounded size (a run per expert at the smallest)."""
    import glider.moe.bank as bank

    case = make_case(300, 8, 2, 4, 16, 24)
    reference = lora_loop_reference(*case)
    monkeypatch.setattr(bank, "CPU_CHUNK_BYTES", chunk_bytes)
    torch.testing.assert_close(apply(*case), reference, atol=1e-5, rtol=1e-5)
    runs = bank._runs(torch.bincount(case[1].reshape(-1), minlength=8), 600, 4 * (16 + 24), torch.device("cpu"))
    assert runs[0][::2] == (0, 0) and runs[-1][1::2] == (8, 600)
    assert all(a[1] == b[0] and a[3] == b[2] for a, b in zip(runs, runs[1:]))  # consecutive, nothing skipped
    per_run = max(1, chunk_bytes // (4 * 40))
    assert all(stop - start <= per_run or last - first == 1 for first, last, start, stop in runs)  # bounded, or one expert
    assert len(runs) == {1: 8, 200: 4, 1000: 1}[per_run]


def test_grouped_products_are_taken_where_they_run(monkeypatch):
    calls = []
    real = F.grouped_mm
    monkeypatch.setattr(F, "grouped_mm", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    apply(*make_case(64, 8, 2, 4, 16, 24))
    assert len(calls) == 2  # A side and B side, one call each
    apply(*make_case(40, 9, 2, 3, 7, 11))  # rows not 16-byte aligned: one product per expert
    assert len(calls) == 2


@pytest.mark.parametrize("counts", [[0, 3, 0, 5], [4], [0, 0, 2], [1, 1, 1, 1]])
def test_segment_products_both_ways_equal_per_group_matmuls(counts):
    gen = torch.Generator().manual_seed(3)
    counts_t = torch.tensor(counts)
    rows = torch.randn(int(counts_t.sum()), 8, generator=gen)
    mats = torch.randn(len(counts), 8, 4, generator=gen)
    want = torch.cat([seg @ mats[g] for g, seg in enumerate(rows.split(counts))])
    torch.testing.assert_close(segment_products(rows, mats, counts_t), want)  # grouped
    with torch.enable_grad():
        torch.testing.assert_close(segment_products(rows.requires_grad_(), mats, counts_t), want)  # per group


def test_reference_matches_formula():
    case = make_case(20, 6, 3, 4, 10, 9)
    torch.testing.assert_close(lora_loop_reference(*case).double(), naive_output(*case), atol=1e-5, rtol=1e-5)


def test_bfloat16():
    x, idx, w, A, B, s = make_case(200, 12, 2, 16, 64, 32, dtype=torch.bfloat16)
    exact = naive_output(x, idx, w, A, B, s)
    for weights in (w, w.to(torch.bfloat16)):
        out = apply(x, idx, weights, A, B, s)
        assert out.dtype == torch.bfloat16
        torch.testing.assert_close(out.double(), exact, atol=2e-2, rtol=2e-2)


def test_edge_cases():
    x, idx, w, A, B, s = make_case(30, 6, 3, 4, 8, 12)
    # repeated expert in one token, equal weights, zero weights, idle slots (-1), idle tokens
    idx[0] = torch.tensor([2, 2, 2])
    w[1] = torch.tensor([0.25, 0.25, 0.25])
    w[2] = 0.0
    idx[3] = torch.tensor([-1, 4, -1])
    idx[4] = -1
    expected = naive_output(x, idx, w, A, B, s)
    out = apply(x, idx, w, A, B, s)
    torch.testing.assert_close(out.double(), expected, atol=1e-5, rtol=1e-5)
    assert torch.equal(out[4], torch.zeros(12)) and torch.equal(out[2], torch.zeros(12))
    torch.testing.assert_close(lora_loop_reference(x, idx, w, A, B, s), out, atol=1e-5, rtol=1e-5)


def test_no_work():
    x, idx, w, A, B, s = make_case(10, 4, 2, 4, 8, 12)
    assert apply(x[:0], idx[:0], w[:0], A, B, s).shape == (0, 12)
    assert torch.equal(apply(x, torch.full_like(idx, -1), w, A, B, s), torch.zeros(10, 12))
    assert torch.equal(apply(x, idx[:, :0], w[:, :0], A, B, s), torch.zeros(10, 12))


def test_accumulates_into_out():
    x, idx, w, A, B, s = make_case(24, 5, 2, 4, 8, 12)
    weight = torch.randn(12, 8)
    x_fast, w_fast = x.clone().requires_grad_(), w.clone().requires_grad_()
    base = torch.nn.functional.linear(x_fast, weight)
    fused = apply(x_fast, idx, w_fast, A, B, s, out=base)
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
    with pytest.raises(ValueError, match="ids >= 4"):
        apply(x, bad_idx, w, A, B, s)
    bad_idx[3, 1] = -2
    with pytest.raises(ValueError, match="-1 \\(no expert\\) or 0..N-1"):
        apply(x, bad_idx, w, A, B, s)
    with pytest.raises(ValueError, match="x \\[T, d_in\\]"):
        apply(x, idx, w[:, :1], A, B, s)
    with pytest.raises(ValueError, match="disagree"):
        ExpertBank(A, B.transpose(1, 2)[:, :3], s)
    with pytest.raises(ValueError, match="cast them once"):
        apply(x, idx, w, A.double(), B.double(), s)


@pytest.mark.parametrize("train_experts", [False, True])
def test_gradients_match_reference(train_experts):
    x, idx, w, A, B, s = make_case(48, 7, 2, 4, 16, 12)
    idx[5, 0] = -1
    idx[idx == 6] = 0  # expert 6 unused: its gradients must be exactly zero
    grads = []
    for fn in (apply, lora_loop_reference):
        leaves = [x.clone().requires_grad_(), w.clone().requires_grad_()]
        if train_experts:
            leaves += [A.clone().requires_grad_(), B.clone().requires_grad_(), s.clone().requires_grad_()]
            args = (leaves[0], idx, leaves[1], *leaves[2:])
        else:
            args = (leaves[0], idx, leaves[1], A, B, s)
        out = fn(*args)
        upstream = torch.linspace(-1, 1, out.numel()).view_as(out)
        grads.append(torch.autograd.grad(out, leaves, upstream))
    for fast, ref in zip(*grads):
        torch.testing.assert_close(fast, ref, atol=1e-5, rtol=1e-5)
    if train_experts:  # leaves: x, w, A, B, s
        assert all(not g[6].any() for g in grads[0][2:])


def test_gradcheck_float64():
    x, idx, w, A, B, s = (t.double() if t.is_floating_point() else t for t in make_case(6, 3, 2, 4, 8, 4))
    idx[2, 1] = -1
    x.requires_grad_()
    w.requires_grad_()
    B.requires_grad_()
    assert torch.autograd.gradcheck(lambda x, w, B: apply(x, idx, w, A, B, s), (x, w, B))


def test_merged_delta_equals_uniform_weights_over_all_experts():
    x, _, _, A, B, s = make_case(25, 9, 1, 4, 10, 14)
    naive_delta = sum(s[i] * B[i].double() @ A[i].double() for i in range(9)) / 9
    delta = merged_delta(A, B, s)
    assert delta.shape == (14, 10)
    torch.testing.assert_close(delta.double(), naive_delta, atol=1e-6, rtol=1e-5)
    every = torch.arange(9).expand(25, 9)  # uniform weights over all experts through the bank
    torch.testing.assert_close(apply(x, every, torch.full((25, 9), 1 / 9), A, B, s), x @ delta.T, atol=1e-5, rtol=1e-5)
    assert torch.equal(merged_delta(A[:0], B[:0], s[:0]), torch.zeros(14, 10))

