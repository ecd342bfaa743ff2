"""A router: a weighted sum of scorers plus a selection rule.

    z_i = sum_s w_s * l^s_i(x)  +  alpha_b * sum_g w_g * c^g_{b,i}
    (idx, w) = selection(z)

Local scorers l (Phatgoose, Arrow) are per token and module; global scorers c
(instruction, retrieval, oracle, uniform) are per example b. GLIDER is
phatgoose + alpha * instruction. ``mode`` covers the two routers that do not route:
``merged`` (one precomputed averaged delta) and ``base`` (no experts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor

from glider.errors import RoutingError
from glider.routers.auto_alpha import AutoAlpha
from glider.routers.base import ExpertSide, GlobalScorer, LocalScorer, QueryBatch
from glider.routers.selection import Selection, TopK

RouterMode = Literal["routed", "merged", "base"]


@dataclass
class Router:
    """Composes scorers and a selection rule; knows nothing of data or Lightning."""

    name: str
    local: list[tuple[LocalScorer, float]] = field(default_factory=list)
    global_: list[tuple[GlobalScorer, float]] = field(default_factory=list)
    alpha: float | AutoAlpha = 1.0
    selection: Selection = field(default_factory=TopK)
    mode: RouterMode = "routed"
    global_granularity: Literal["example", "task"] = "example"
    candidates: int | None = None  # pre-select M experts per example by global score

    @property
    def uses_experts(self) -> bool:
        return self.mode != "base"

    @property
    def needs_local(self) -> bool:
        return self.mode == "routed" and bool(self.local)

    def key_names(self) -> list[str]:
        """Per-module library keys the local scorers need (e.g. ['gate'])."""
        return [s.key_name for s, _ in self.local]

    def bind(self, experts: ExpertSide) -> None:
        """Give every global scorer the expert side; calibrate alpha=auto."""
        for scorer, _ in self.global_:
            scorer.bind(experts)
        if isinstance(self.alpha, AutoAlpha):
            self.alpha.calibrate(experts)

    def supports(self, task: str) -> bool:
        """Whether every global scorer can score examples of ``task``."""
        return all(s.supports(task) for s, _ in self.global_)

    def global_bias(self, queries: QueryBatch) -> Tensor | None:
        """alpha_b * sum_g w_g c^g  -> [B, N], or None when the router has no global scorer."""
        bias, _ = self.global_bias_and_alpha(queries)
        return bias

    def global_bias_and_alpha(self, queries: QueryBatch) -> tuple[Tensor | None, Tensor | None]:
        """(alpha_b * sum_g w_g c^g [B, N], alpha_b [B]); (None, None) without global scorers."""
        total = self.global_scores(queries)
        if total is None:
            return None, None
        alpha = self.alpha(total) if isinstance(self.alpha, AutoAlpha) else torch.full((total.shape[0],), float(self.alpha))
        return scale_global_scores(total, alpha[:, None]), alpha

    def global_scores(self, queries: QueryBatch) -> Tensor | None:
        """sum_g w_g c^g -> [B, N] before alpha; None without global scorers."""
        total = None
        for scorer, weight in self.global_:
            c = scorer.scores(queries).float() * weight
            total = c if total is None else total + c
        return total

    def local_logits(self, x: Tensor, keys: dict[str, Tensor]) -> Tensor | None:
        """sum_s w_s l^s(x)  -> [T, N] (or [T, M] over candidate keys), None without local scorers."""
        total = None
        for scorer, weight in self.local:
            l = scorer.logits(x, keys[scorer.key_name])
            l = l if weight == 1.0 else l * weight
            total = l if total is None else total + l
        return total

    def describe(self) -> str:
        parts = [s.name + ("" if w == 1.0 else f"*{w:g}") for s, w in self.local]
        alpha = "auto" if isinstance(self.alpha, AutoAlpha) else f"{self.alpha:g}"
        parts += [f"{alpha}*{s.name}" for s, _ in self.global_]
        if self.mode != "routed":
            return self.mode
        return " + ".join(parts) + f" | {self.selection.describe()}"


def scale_global_scores(scores: Tensor, alpha: Tensor | float) -> Tensor:
    """alpha * scores, keeping -inf (an excluded expert) as it is (0 * -inf would be NaN)."""
    return torch.where(torch.isinf(scores), scores, scores * alpha)


def check_finite(z: Tensor, where: str) -> None:
    """Fail loudly when routing logits hold NaN or +inf (never route silently on them).

    Raises RoutingError (a FloatingPointError and a GliderError: the CLI prints its message).
    One reduction and one host sync when every score is finite (the common case).
    """
    if z.numel() == 0 or bool(torch.isfinite(z.sum())):
        return  # a finite sum: no NaN and no +-inf anywhere
    if torch.isnan(z).any() or torch.isposinf(z).any():
        bad = "NaN" if torch.isnan(z).any() else "inf"
        raise RoutingError(
            f"Routing scores contain {bad} in module {where}: check the library's gates/prototypes and "
            "the query embeddings (a corrupted expert or an empty instruction can cause this)."
        )
    if z.numel() and torch.isneginf(z).all(dim=-1).any():
        raise RoutingError(
            f"Every expert scored -inf for some token in module {where}: no expert can be selected "
            "(e.g. the oracle router on a task that has no expert)."
        )
