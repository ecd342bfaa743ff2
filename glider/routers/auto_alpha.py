"""Automatic alpha (beyond the paper): decide per example whether the query matches a known expert.

    alpha_b = alpha_high  if max_i c_bi >= tau  else alpha_low

The threshold tau is calibrated from the expert side only, by leave-one-out: for each
expert i, probe queries p written from its held-back training inputs give
  matched    m = max(own_i(p), max_{j != i} c_j)   (its own expert present: the held-in situation)
  unmatched  u = max_{j != i} c_j                  (its own expert removed: the held-out situation)
and tau is chosen on them by ``cutoff`` (candidates: midpoints between neighbouring values):
  "balanced" (default): the cut that best separates the m's from the u's (balanced accuracy).
  "utility": the cut of largest expected gain, from what the two alphas do on the probes
      themselves (probe examples with their answers, from the experts' training data):
        g_p = acc(p | alpha_high) - acc(p | alpha_low)            own expert present
        h_q = acc(q | alpha_high) - acc(q | alpha_low)            own expert removed
        tau = argmax_tau  mean_p [m_p >= tau] g_p + mean_q [u_q >= tau] h_q
      (glider/lit/auto_alpha_utility.py runs the probes). A large alpha is given where
      it helped the probes, whatever the separation of the scores. With a ``grid`` of
      alphas the pair is chosen too: every (alpha_high > alpha_low) of the grid, with its best
      tau, is scored by the probes' total accuracy
        U = mean_p acc(p | alpha_low) + mean_q acc(q | alpha_low) + (the gain above at tau)
      and the best pair is kept (the cuts below / above every score give one alpha to all).
No evaluation data is used.

own_i(p) depends on ``matched``:
  "leave_nearest_out" (default): where expert i's instruction embedding is the mean of K
      sample embeddings s_1..s_K (llm=none), own_i(p) = cos(p, mean_{k != k*} s_k) with
      s_k* the sample nearest to p. A probe is phrased like one of the samples the
      instruction was built from, while a held-in query is typically phrased like none of
      them (an unseen paraphrase); leaving the nearest sample out simulates that. Experts
      without kept samples (an LLM-written instruction) use c_i.
  "full": own_i(p) = c_i = cos(p, t_i), the probe against the whole instruction.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from glider.errors import ConfigError
from glider.routers.base import ExpertSide


@dataclass
class AutoAlpha:
    """Per-example alpha from a threshold on the best global score."""

    high: float = 100.0
    low: float = 3.0
    threshold: float | None = None
    matched_mean: float | None = None
    unmatched_mean: float | None = None
    separation: float | None = None  # balanced accuracy of the threshold on the probes
    matched: str = "leave_nearest_out"  # or "full": how a probe scores against its own expert
    cutoff: str = "balanced"  # or "utility" (the configs' default): how tau is chosen from the probes
    matched_gain: float | None = None  # utility: mean g_p (alpha high - low, own expert present)
    unmatched_gain: float | None = None  # utility: mean h_q (own expert removed)
    grid: list[float] | None = None  # utility: candidate alphas; high and low are chosen from them (None: high, low as given)
    probe_accuracy: float | None = None  # utility: the probes' mean accuracy (present and removed) with the chosen rule

    def calibrate(self, experts: ExpertSide) -> AutoAlpha:
        """Fit ``threshold`` from the experts' own probe queries (leave-one-out, balanced accuracy).

        With ``cutoff="utility"`` this is a provisional threshold: the eval stage refits it
        with ``fit_utility`` once it has run the probes.
        """
        self.check()
        if experts.instruction_emb is None or not experts.probe_queries:
            raise ConfigError(
                "router.alpha=auto needs expert instruction embeddings and probe queries; "
                "run the `describe` stage for this library and embedder."
            )
        if experts.num_experts < 2:
            raise ConfigError("router.alpha=auto needs at least 2 experts to calibrate.")
        matched, unmatched = probe_match_scores(experts, experts.probe_queries, self.matched)
        m, u = torch.cat(matched), torch.cat(unmatched)
        self.threshold, self.separation = best_threshold(m, u)
        self.matched_mean, self.unmatched_mean = float(m.mean()), float(u.mean())
        return self

    def candidate_alphas(self) -> list[float]:
        """The alphas the utility calibration runs the probes with: the grid, or (high, low)."""
        values = [float(a) for a in (self.grid if self.grid is not None else (self.high, self.low))]
        if len(set(values)) < 2 or min(values) < 0:
            raise ConfigError(f"router.alpha_auto.grid needs at least two different alphas >= 0, got {self.grid}.")
        return sorted(set(values), reverse=True)

    def fit_utility(self, matched: Tensor, unmatched: Tensor, present: dict[float, Tensor], removed: dict[float, Tensor]) -> AutoAlpha:
        """Choose (high, low) among the candidate alphas and refit ``threshold`` (``cutoff="utility"``).

        ``present[a]`` / ``removed[a]``: per-probe accuracy with alpha ``a``, own expert present / removed.
        """
        best: tuple[float, float, float, float] | None = None  # (U, tau, high, low)
        alphas = self.candidate_alphas()
        for i, high in enumerate(alphas):
            for low in alphas[i + 1 :]:
                tau, gain = utility_threshold(matched, unmatched, present[high] - present[low], removed[high] - removed[low])
                total = float(present[low].float().mean() + removed[low].float().mean()) + gain
                if best is None or total > best[0] + 1e-9:
                    best = (total, tau, high, low)
        assert best is not None
        total, self.threshold, self.high, self.low = best
        self.probe_accuracy = total / 2
        self.separation = balanced_accuracy(matched, unmatched, self.threshold)
        self.matched_mean, self.unmatched_mean = float(matched.mean()), float(unmatched.mean())
        self.matched_gain = float((present[self.high] - present[self.low]).float().mean())
        self.unmatched_gain = float((removed[self.high] - removed[self.low]).float().mean())
        return self

    def check(self) -> None:
        """One clear error for an unknown rule name."""
        if self.matched not in MATCHED_RULES:
            raise ConfigError(
                f"router.alpha_auto.matched must be one of {', '.join(MATCHED_RULES)}, got '{self.matched}'."
            )
        if self.cutoff not in CUTOFFS:
            raise ConfigError(f"router.alpha_auto.cutoff must be one of {', '.join(CUTOFFS)}, got '{self.cutoff}'.")

    def __call__(self, scores: Tensor) -> Tensor:  # scores [B, N] -> alpha [B]
        if self.threshold is None:
            raise ConfigError("router.alpha=auto was used before calibration.")
        best = scores.max(dim=-1).values
        high = torch.full_like(best, self.high)
        return torch.where(best >= self.threshold, high, torch.full_like(best, self.low))


MATCHED_RULES = ("leave_nearest_out", "full")
CUTOFFS = ("balanced", "utility")


def probe_match_scores(experts: ExpertSide, probe_queries: list[Tensor | None], rule: str) -> tuple[list[Tensor], list[Tensor]]:
    """Per expert i with probes: (m [P_i], u [P_i]), the best score with expert i present / removed."""
    t = F.normalize(experts.instruction_emb.float(), dim=-1)
    kept = experts.instruction_samples or [None] * experts.num_experts
    matched, unmatched = [], []
    for i, probes in enumerate(probe_queries):
        if probes is None or probes.numel() == 0:
            matched.append(torch.zeros(0))
            unmatched.append(torch.zeros(0))
            continue
        p = F.normalize(probes.float(), dim=-1)
        c = p @ t.T  # [P, N]
        others = torch.cat([c[:, :i], c[:, i + 1 :]], dim=-1).max(dim=-1).values
        own = c[:, i]
        if rule == "leave_nearest_out" and kept[i] is not None and kept[i].shape[0] >= 2:
            own = leave_nearest_out_scores(p, kept[i])
        matched.append(torch.maximum(own, others))
        unmatched.append(others)
    return matched, unmatched


def leave_nearest_out_scores(probes: Tensor, samples: Tensor) -> Tensor:
    """cos(p, mean of the samples other than the one nearest p), per probe: [P, dim], [K, dim] -> [P]."""
    samples = F.normalize(samples.float(), dim=-1)
    nearest = (probes @ samples.T).argmax(dim=-1)  # [P]
    total = samples.sum(dim=0, keepdim=True)  # [1, dim]
    centroids = F.normalize(total - samples[nearest], dim=-1)  # mean of the other K-1, direction only
    return (probes * centroids).sum(dim=-1)


def _cut_candidates(matched: Tensor, unmatched: Tensor) -> Tensor:
    values = torch.cat([matched, unmatched]).float().sort().values
    return torch.cat([values[:1] - 1e-3, (values[1:] + values[:-1]) / 2, values[-1:] + 1e-3])


def _middle_of_best(objective: Tensor, candidates: Tensor) -> tuple[float, float]:
    """Among equally good cuts take the middle one (a margin on both sides)."""
    best = objective.max()
    ties = torch.nonzero(objective == best).flatten()
    return float(candidates[ties[len(ties) // 2]]), float(best)


def balanced_accuracy(matched: Tensor, unmatched: Tensor, tau: float) -> float:
    return float(((matched >= tau).float().mean() + (unmatched < tau).float().mean()) / 2)


def utility_threshold(matched: Tensor, unmatched: Tensor, matched_gain: Tensor, unmatched_gain: Tensor) -> tuple[float, float]:
    """Threshold maximising mean_p [m_p >= tau] g_p + mean_q [u_q >= tau] h_q; returns (tau, that gain)."""
    candidates = _cut_candidates(matched, unmatched)
    gain_m = ((matched[None, :] >= candidates[:, None]).float() * matched_gain.float()[None, :]).mean(dim=1)
    gain_u = ((unmatched[None, :] >= candidates[:, None]).float() * unmatched_gain.float()[None, :]).mean(dim=1)
    return _middle_of_best(gain_m + gain_u, candidates)


def best_threshold(matched: Tensor, unmatched: Tensor) -> tuple[float, float]:
    """Threshold maximising balanced accuracy of (matched >= tau) vs (unmatched < tau)."""
    candidates = _cut_candidates(matched, unmatched)
    tpr = (matched[None, :] >= candidates[:, None]).float().mean(dim=1)
    tnr = (unmatched[None, :] < candidates[:, None]).float().mean(dim=1)
    return _middle_of_best((tpr + tnr) / 2, candidates)
