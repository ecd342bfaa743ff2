"""Each scorer against the formulas of ARCHITECTURE.md, computed independently on random tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from glider.errors import ConfigError
from glider.routers.arrow import ArrowScorer, arrow_prototype
from glider.routers.auto_alpha import (
    AutoAlpha,
    best_threshold,
    leave_nearest_out_scores,
    utility_threshold,
)
from glider.routers.base import ExpertSide, QueryBatch
from glider.routers.instruction import InstructionScorer
from glider.routers.phatgoose import PhatgooseScorer
from glider.routers.retrieval import RetrievalScorer
from glider.routers.selection import Dense, TopK, TopP
from glider.routers.static import OracleScorer, UniformScorer


def _ln(v: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    return (v - v.mean(-1, keepdims=True)) / np.sqrt(v.var(-1, keepdims=True) + eps)


def test_phatgoose_is_ln_dot_over_sqrt_d() -> None:
    torch.manual_seed(0)
    x, g = torch.randn(7, 32), torch.randn(5, 32)
    scorer = PhatgooseScorer()
    got = scorer.logits(x, scorer.prepare_keys(g)).numpy()
    want = _ln(x.double().numpy()) @ _ln(g.double().numpy()).T / math.sqrt(32)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_phatgoose_layer_norm_matches_nn_layernorm_with_small_gates() -> None:
    """Both original codes normalise with nn.LayerNorm (eps 1e-5); with small gates eps matters."""
    torch.manual_seed(4)
    x, g = torch.randn(9, 16), torch.randn(6, 16) * 2e-3  # gates near zero: var ~ 4e-6, comparable to eps
    ln = torch.nn.LayerNorm(16, elementwise_affine=False)
    scorer = PhatgooseScorer()
    assert scorer.eps == ln.eps == 1e-5
    got = scorer.logits(x, scorer.prepare_keys(g))
    want = ln(x) @ ln(g).T / math.sqrt(16)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    other = PhatgooseScorer(eps=1e-6)
    assert not torch.allclose(other.logits(x, other.prepare_keys(g)), want, atol=1e-3)


def test_arrow_prototype_is_top_right_singular_vector_of_BA() -> None:
    torch.manual_seed(1)
    a, b = torch.randn(4, 20, dtype=torch.float64), torch.randn(12, 4, dtype=torch.float64)
    p = arrow_prototype(a, b)
    _, _, vh = np.linalg.svd((b @ a).numpy())
    assert abs(abs(float(np.dot(p.numpy(), vh[0]))) - 1.0) < 1e-8
    assert abs(float(p.norm()) - 1.0) < 1e-10


def test_arrow_logit_is_abs_dot_over_temperature() -> None:
    torch.manual_seed(2)
    x, p = torch.randn(6, 10), torch.nn.functional.normalize(torch.randn(3, 10), dim=-1)
    got = ArrowScorer(temperature=10.0).logits(x, p).numpy()
    np.testing.assert_allclose(got, np.abs(x.numpy() @ p.numpy().T) / 10.0, rtol=1e-5, atol=1e-6)


def test_instruction_score_is_cosine() -> None:
    torch.manual_seed(3)
    q, t = torch.randn(4, 8), torch.randn(6, 8)
    scorer = InstructionScorer()
    scorer.bind(ExpertSide(names=list("abcdef"), tasks=list("abcdef"), instruction_emb=t))
    got = scorer.scores(QueryBatch(tasks=["x"] * 4, instruction_emb=q)).numpy()
    qn, tn = q.numpy(), t.numpy()
    want = (qn @ tn.T) / np.linalg.norm(qn, axis=1)[:, None] / np.linalg.norm(tn, axis=1)[None, :]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_retrieval_is_max_cosine_over_each_experts_inputs() -> None:
    torch.manual_seed(4)
    stores = [torch.randn(3, 8), torch.randn(5, 8)]
    x = torch.randn(2, 8)
    scorer = RetrievalScorer()
    scorer.bind(ExpertSide(names=["a", "b"], tasks=["a", "b"], input_embs=stores))
    got = scorer.scores(QueryBatch(tasks=["?", "?"], input_emb=x))
    for i, store in enumerate(stores):
        want = torch.nn.functional.cosine_similarity(x[:, None, :], store[None, :, :], dim=-1).max(dim=1).values
        torch.testing.assert_close(got[:, i], want, rtol=1e-5, atol=1e-6)


def test_oracle_one_hot_on_own_task_and_uniform_zero() -> None:
    experts = ExpertSide(names=["e0", "e1", "e2"], tasks=["t0", "t1", "t2"])
    oracle = OracleScorer()
    oracle.bind(experts)
    idx, w = TopK(1)(oracle.scores(QueryBatch(tasks=["t2", "t0"])))
    assert idx[:, 0].tolist() == [2, 0]
    assert torch.allclose(w, torch.ones_like(w), atol=1e-5)
    assert not oracle.supports("held_out_task")
    uniform = UniformScorer()
    uniform.bind(experts)
    _, w = Dense()(uniform.scores(QueryBatch(tasks=["t0"])))
    assert torch.allclose(w, torch.full_like(w, 1 / 3))


def test_top_k_renormalises_with_epsilon() -> None:
    torch.manual_seed(5)
    z = torch.randn(9, 6)
    idx, w = TopK(2)(z)
    p = torch.softmax(z, dim=-1).numpy()
    for t in range(9):
        order = np.argsort(-p[t])[:2]
        assert set(idx[t].tolist()) == set(order.tolist())
        denom = p[t, order].sum() + 1e-6
        np.testing.assert_allclose(sorted(w[t].tolist()), sorted((p[t, order] / denom).tolist()), rtol=1e-5)


@pytest.mark.parametrize("top_p", [0.25, 0.5, 0.75, 1.0])
def test_top_p_keeps_smallest_set_reaching_mass(top_p: float) -> None:
    torch.manual_seed(6)
    z = torch.randn(11, 7) * 2
    idx, w = TopP(top_p)(z)
    p = torch.softmax(z, dim=-1).numpy()
    for t in range(11):
        order = np.argsort(-p[t])
        size = int(np.searchsorted(np.cumsum(p[t, order]), top_p - 1e-9) + 1)
        size = min(size, 7)
        kept = {int(i) for i, wi in zip(idx[t].tolist(), w[t].tolist()) if wi > 0}
        assert kept == set(order[:size].tolist())
        np.testing.assert_allclose(w[t][w[t] > 0].sum().item(), p[t, order[:size]].sum() / (p[t, order[:size]].sum() + 1e-6), rtol=1e-5)


def test_auto_alpha_threshold_separates_matched_from_unmatched() -> None:
    tau, acc = best_threshold(torch.tensor([0.8, 0.9, 0.85]), torch.tensor([0.3, 0.5, 0.4]))
    assert 0.5 < tau < 0.8 and acc == 1.0
    emb = torch.eye(4)
    probes = [emb[i : i + 1] + 0.05 * torch.randn(3, 4) for i in range(4)]
    auto = AutoAlpha(high=100, low=3).calibrate(ExpertSide(names=list("abcd"), tasks=list("abcd"), instruction_emb=emb, probe_queries=probes))
    alpha = auto(torch.tensor([[0.95, 0.1, 0.0, 0.0], [0.2, 0.1, 0.15, 0.1]]))
    assert alpha.tolist() == [100.0, 3.0]


def test_leave_nearest_out_scores_against_the_other_samples_mean() -> None:
    samples = torch.nn.functional.normalize(torch.randn(3, 8), dim=-1)
    probes = torch.nn.functional.normalize(samples[[2, 0]] + 0.01 * torch.randn(2, 8), dim=-1)
    got = leave_nearest_out_scores(probes, samples)
    for row, nearest in enumerate([2, 0]):
        others = samples[[k for k in range(3) if k != nearest]].mean(dim=0)
        expected = torch.nn.functional.cosine_similarity(probes[row], others, dim=0)
        torch.testing.assert_close(got[row], expected)


def _phrasing_side() -> ExpertSide:
    """Two experts whose instructions are the mean of 2 'phrasings' each; probes repeat a phrasing."""
    basis = torch.eye(6)
    kept = [torch.stack([basis[0], basis[1]]), torch.stack([basis[2], basis[3]])]
    emb = torch.stack([k.mean(dim=0) for k in kept])
    probes = [torch.stack([basis[0], basis[1]]), torch.stack([basis[2] + 0.2 * basis[4], basis[3]])]
    return ExpertSide(names=["a", "b"], tasks=["a", "b"], instruction_emb=emb, probe_queries=probes, instruction_samples=kept)


def test_auto_alpha_leave_nearest_out_lowers_the_matched_scores() -> None:
    full = AutoAlpha(matched="full").calibrate(_phrasing_side())
    lno = AutoAlpha(matched="leave_nearest_out").calibrate(_phrasing_side())
    # a probe phrased like a kept sample scores cos 0.71 with the full mean, but only as much as
    # the other phrasing (0) once its own phrasing is left out, which is what an unseen paraphrase sees
    assert full.matched_mean > 0.69
    assert lno.matched_mean < 0.01
    assert lno.threshold < full.threshold


def test_auto_alpha_without_kept_samples_falls_back_to_the_full_instruction() -> None:
    side = _phrasing_side()
    side.instruction_samples = [None, None]
    lno = AutoAlpha(matched="leave_nearest_out").calibrate(side)
    full = AutoAlpha(matched="full").calibrate(_phrasing_side())
    assert lno.threshold == full.threshold and lno.matched_mean == full.matched_mean


def test_auto_alpha_rejects_an_unknown_matched_rule() -> None:
    with pytest.raises(ConfigError, match="alpha_auto.matched"):
        AutoAlpha(matched="nearest").calibrate(_phrasing_side())


def test_utility_threshold_takes_the_large_alpha_where_it_helped_the_probes() -> None:
    matched = torch.tensor([0.5, 0.6, 0.7, 0.8])
    unmatched = torch.tensor([0.3, 0.4, 0.45, 0.65])
    # the large alpha helps every matched probe and hurts every unmatched one: the cut that lets in
    # all matched and only one unmatched (0.65) beats every other
    tau, gain = utility_threshold(matched, unmatched, torch.ones(4), -torch.ones(4))
    assert tau == pytest.approx(0.475) and gain == pytest.approx(1.0 - 0.25)
    # the large alpha helps both: everyone gets it (the cut lies below every score)
    tau, gain = utility_threshold(matched, unmatched, torch.ones(4), torch.full((4,), 0.5))
    assert tau < 0.3 and gain == pytest.approx(1.5)
    # it hurts both: nobody gets it
    tau, _ = utility_threshold(matched, unmatched, -torch.ones(4), -torch.ones(4))
    assert tau > 0.8


def test_fit_utility_records_the_cut_and_the_gains() -> None:
    present = {100.0: torch.tensor([1.0, 1.0]), 3.0: torch.tensor([0.0, 1.0])}  # gains +1, 0 with the own expert
    removed = {100.0: torch.tensor([0.0, 0.0]), 3.0: torch.tensor([1.0, 1.0])}  # -1, -1 without it
    auto = AutoAlpha(cutoff="utility").fit_utility(torch.tensor([0.8, 0.9]), torch.tensor([0.2, 0.3]), present, removed)
    assert 0.3 < auto.threshold < 0.8 and auto.separation == 1.0
    assert auto.matched_gain == 0.5 and auto.unmatched_gain == -1.0
    assert auto(torch.tensor([[0.85, 0.1], [0.25, 0.1]])).tolist() == [100.0, 3.0]


def test_auto_alpha_rejects_an_unknown_cutoff() -> None:
    with pytest.raises(ConfigError, match="alpha_auto.cutoff"):
        AutoAlpha(cutoff="best").calibrate(_phrasing_side())


def test_utility_with_a_grid_chooses_the_pair_and_the_cut() -> None:
    """Probe accuracies per alpha: 30 is best for every matched probe, 3 for unmatched ones scored low."""
    matched = torch.tensor([0.5, 0.6, 0.7, 0.8])
    unmatched = torch.tensor([0.3, 0.4, 0.45, 0.65])
    present = {100.0: torch.tensor([0.0, 1, 1, 1]), 30.0: torch.ones(4), 3.0: torch.zeros(4)}
    removed = {100.0: torch.tensor([0.0, 0, 0, 1]), 30.0: torch.tensor([0.0, 0, 0, 1]), 3.0: torch.tensor([1.0, 1, 1, 0])}
    auto = AutoAlpha(grid=[3, 30, 100], cutoff="utility").fit_utility(matched, unmatched, present, removed)
    assert (auto.high, auto.low) == (30.0, 3.0)
    assert auto.threshold == pytest.approx(0.475)  # all matched and the unmatched 0.65 get 30, the three low unmatched get 3
    assert auto.probe_accuracy == pytest.approx((4 / 4 + 4 / 4) / 2)
    assert auto(torch.tensor([[0.7, 0.1], [0.2, 0.4]])).tolist() == [30.0, 3.0]
    # one alpha for all when no cut pays: the cut lies below every score
    flat = AutoAlpha(grid=[3, 30], cutoff="utility").fit_utility(matched, unmatched, {30.0: torch.ones(4), 3.0: torch.zeros(4)},
                                                                 {30.0: torch.ones(4), 3.0: torch.zeros(4)})
    assert flat.high == 30.0 and flat.threshold < 0.3


def test_a_grid_needs_two_alphas() -> None:
    with pytest.raises(ConfigError, match="alpha_auto.grid"):
        AutoAlpha(grid=[10], cutoff="utility").candidate_alphas()
