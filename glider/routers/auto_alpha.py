"""Automatic alpha (beyond the paper): decide per example whether the query matches a known expert.

    alpha_b = alpha_high  if max_i c_bi >= tau  else alpha_low

The threshold tau is calibrated from the expert side only, by leave-one-out: for each
expert i, probe queries written from its held-back training inputs give
  matched    m = max_j c_j            (its own expert present: the held-in situation)
  unmatched  u = max_{j != i} c_j     (its own expert removed: the held-out situation)
and tau is the cut that best separates the m's from the u's (balanced accuracy; the
midpoint between neighbouring values). No evaluation data is used.
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

    def calibrate(self, experts: ExpertSide) -> "AutoAlpha":
        """Fit ``threshold`` from the experts' own probe queries (leave-one-out)."""
        if experts.instruction_emb is None or not experts.probe_queries:
            raise ConfigError(
                "router.alpha=auto needs expert instruction embeddings and probe queries; "
                "run the `describe` stage for this library and embedder."
            )
        if experts.num_experts < 2:
            raise ConfigError("router.alpha=auto needs at least 2 experts to calibrate.")
        t = F.normalize(experts.instruction_emb.float(), dim=-1)
        matched, unmatched = [], []
        for i, probes in enumerate(experts.probe_queries):
            if probes is None or probes.numel() == 0:
                continue
            c = F.normalize(probes.float(), dim=-1) @ t.T  # [P, N]
            matched.append(c.max(dim=-1).values)
            others = torch.cat([c[:, :i], c[:, i + 1 :]], dim=-1)
            unmatched.append(others.max(dim=-1).values)
        m, u = torch.cat(matched), torch.cat(unmatched)
        self.threshold, self.separation = best_threshold(m, u)
        self.matched_mean, self.unmatched_mean = float(m.mean()), float(u.mean())
        return self

    def __call__(self, scores: Tensor) -> Tensor:  # scores [B, N] -> alpha [B]
        if self.threshold is None:
            raise ConfigError("router.alpha=auto was used before calibration.")
        best = scores.max(dim=-1).values
        high = torch.full_like(best, self.high)
        return torch.where(best >= self.threshold, high, torch.full_like(best, self.low))


def best_threshold(matched: Tensor, unmatched: Tensor) -> tuple[float, float]:
    """Threshold maximising balanced accuracy of (matched >= tau) vs (unmatched < tau)."""
    values = torch.cat([matched, unmatched]).sort().values
    candidates = torch.cat([values[:1] - 1e-3, (values[1:] + values[:-1]) / 2, values[-1:] + 1e-3])
    tpr = (matched[None, :] >= candidates[:, None]).float().mean(dim=1)
    tnr = (unmatched[None, :] < candidates[:, None]).float().mean(dim=1)
    balanced = (tpr + tnr) / 2
    best = balanced.max()
    # among equally good cuts take the middle one (a margin on both sides)
    ties = torch.nonzero(balanced == best).flatten()
    mid = ties[len(ties) // 2]
    return float(candidates[mid]), float(best)
