"""A router: a weighted sum of scorers plus a selection rule.

    z_i = sum_s w_s * l^s_i(x)  +  alpha_b * sum_g w_g * c^g_{b,i}
    (idx, w) = selection(z)

Local scorers l (Phatgoose, Arrow) are per token and module; global scorers c
(instruction, retrieval, oracle, uniform) are per example b. GLIDER is
phatgoose + alpha * instruction. ``mode`` covers the two routers that do not route:
``merged`` (one precomputed averaged delta) and ``base`` (no experts).

A MoE layer routes through :meth:`Router.bind_module` only: the returned
:class:`ModuleRouter` holds that module's prepared keys and answers
``route(x, context) -> (indices [T, k], weights [T, k])``; the layer never looks inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import torch
from torch import Tensor, nn

from glider.errors import RoutingError
from glider.routers.auto_alpha import AutoAlpha
from glider.routers.base import ExpertSide, GlobalScorer, LocalScorer, QueryBatch
from glider.routers.selection import Selection, TopK

RouterMode = Literal["routed", "merged", "base"]
KEY_ROWS = 8  # prepared keys are zero-padded to a multiple of this many rows: MKL runs x K^T faster (166 -> 168)


class BatchRouting(Protocol):
    """What a module's router reads of the current batch (tokens are example-major: T / B per example)."""

    bias: Tensor | None  # [B, N] alpha_b * global scores (-inf excludes an expert)
    candidates: Tensor | None  # [B, M] experts pre-selected per example


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
    def auto_alpha(self) -> AutoAlpha | None:
        """The per-example alpha rule when ``alpha=auto``, else None (a fixed alpha)."""
        return self.alpha if isinstance(self.alpha, AutoAlpha) else None

    @property
    def needs_local(self) -> bool:
        return self.mode == "routed" and bool(self.local)

    def key_names(self) -> list[str]:
        """Per-module library keys the local scorers need (e.g. ['gate'])."""
        return [s.key_name for s, _ in self.local]

    def global_scorer_names(self) -> set[str]:
        """Names of the global scorers (what the query side must provide: 'instruction', 'retrieval'...)."""
        return {s.name for s, _ in self.global_}

    def bind(self, experts: ExpertSide) -> None:
        """Give every global scorer the expert side; calibrate alpha=auto."""
        for scorer, _ in self.global_:
            scorer.bind(experts)
        if isinstance(self.alpha, AutoAlpha):
            self.alpha.calibrate(experts)

    def supports(self, task: str) -> bool:
        """Whether every global scorer can score examples of ``task``."""
        return all(s.supports(task) for s, _ in self.global_)

    def global_bias_and_alpha(self, queries: QueryBatch) -> tuple[Tensor | None, Tensor | None]:
        """(alpha_b * sum_g w_g c^g [B, N], alpha_b [B]); (None, None) without global scorers."""
        total = self.global_scores(queries)
        if total is None:
            return None, None
        alpha = self.alpha_for(total)
        return scale_global_scores(total, alpha[:, None]), alpha

    def alpha_for(self, total: Tensor) -> Tensor:
        """alpha_b [B] for global scores [B, N]: the fixed alpha, or alpha=auto's per-example choice."""
        return self.alpha(total) if isinstance(self.alpha, AutoAlpha) else torch.full((total.shape[0],), float(self.alpha))

    def global_scores(self, queries: QueryBatch) -> Tensor | None:
        """sum_g w_g c^g -> [B, N] before alpha; None without global scorers."""
        total = None
        for scorer, weight in self.global_:
            c = scorer.scores(queries).float() * weight
            total = c if total is None else total + c
        return total

    def bind_module(self, module: str, keys: dict[str, Tensor]) -> ModuleRouter:
        """This router for one module: its stored keys ``[N, d_in]`` per local scorer, prepared once."""
        prepared = {}
        for scorer, _ in self.local if self.needs_local else []:
            raw = keys[scorer.key_name]
            rows = -(-raw.shape[0] // KEY_ROWS) * KEY_ROWS
            key = scorer.prepare_keys(raw)
            prepared[scorer.key_name] = torch.cat([key, key.new_zeros(rows - key.shape[0], key.shape[1])])
        n_experts = next(iter(keys.values())).shape[0] if keys else 0
        return ModuleRouter(self, module, prepared, n_experts)

    def describe(self) -> str:
        parts = [s.name + ("" if w == 1.0 else f"*{w:g}") for s, w in self.local]
        alpha = "auto" if isinstance(self.alpha, AutoAlpha) else f"{self.alpha:g}"
        parts += [f"{alpha}*{s.name}" for s, _ in self.global_]
        if self.mode != "routed":
            return self.mode
        return " + ".join(parts) + f" | {self.selection.describe()}"


class ModuleRouter(nn.Module):
    """A router bound to one module: ``route(x, context)`` -> (expert indices [T, k], weights [T, k]).

    Holds the module's prepared keys as buffers (they follow the model's device):
    per local scorer ``[N_pad, d_in]``, zero rows past the N experts.
    """

    def __init__(self, router: Router, module: str, keys: dict[str, Tensor], num_experts: int) -> None:
        super().__init__()
        self.router, self.module, self.num_experts = router, module, num_experts
        for name, key in keys.items():
            self.register_buffer(name, key, persistent=False)

    def extra_repr(self) -> str:
        return f"{self.router.name}: {self.router.describe()}"

    def _keys(self, scorer: LocalScorer) -> Tensor:
        return self.get_buffer(scorer.key_name)

    def route(self, x: Tensor, context: BatchRouting) -> tuple[Tensor, Tensor]:
        """Selected experts and weights of every token ``x [T, d_in]`` (example-major rows)."""
        bias = context.bias
        if not self.router.needs_local:
            if bias is None:
                raise RoutingError(f"{self.module}: router '{self.router.name}' needs global scores for the batch")
            idx, w = self._select(bias.to(x.device))  # per example [B, k]
            per = _tokens_per_example(x.shape[0], bias.shape[0], self.module)
            return idx.repeat_interleave(per, dim=0), w.repeat_interleave(per, dim=0)
        if context.candidates is not None:
            return self._route_candidates(x, context.candidates.to(x.device), bias)
        z = None
        for scorer, weight in self.router.local:
            l = scorer.logits(x, self._keys(scorer))[..., : self.num_experts]  # [T, N]
            z = _weighted_sum(z, l, weight)
        if bias is not None:  # [B, T/B, N] + [B, 1, N]
            _tokens_per_example(x.shape[0], bias.shape[0], self.module)
            z.unflatten(0, (bias.shape[0], -1)).add_(bias.to(z.device, z.dtype)[:, None, :])
        return self._select(z)

    def _route_candidates(self, x: Tensor, cand: Tensor, bias: Tensor | None) -> tuple[Tensor, Tensor]:
        """Local scoring and selection among each example's M pre-selected experts only."""
        batch, m = cand.shape
        x_b = x.view(batch, _tokens_per_example(x.shape[0], batch, self.module), -1)  # [B, S', d_in]
        z = None
        for scorer, weight in self.router.local:
            keys = self._keys(scorer).index_select(0, cand.reshape(-1)).view(batch, m, -1)  # [B, M, d_in]
            z = _weighted_sum(z, scorer.logits(x_b, keys), weight)  # [B, S', M]
        if bias is not None:
            z = z + bias.to(z.device, z.dtype).gather(1, cand)[:, None, :]
        local_idx, w = self._select(z.reshape(-1, m))  # [T, k] positions among the candidates
        k = local_idx.shape[1]
        return cand.gather(1, local_idx.view(batch, -1)).view(-1, k), w  # [T, k] library ids

    def _select(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """The selection rule on logits ``z [rows, N]``, and the routing error on a non-finite logit.

        A NaN or +inf logit, or a row of -inf, makes its softmax row NaN, and NaN is selected
        first: one sum over the selected weights finds them all.
        """
        idx, w = self.router.selection(z)
        if w.numel() and not bool(torch.isfinite(w.sum())):
            check_finite(z, self.module)
        return idx, w


def _weighted_sum(total: Tensor | None, logits: Tensor, weight: float) -> Tensor:
    """``total + weight * logits`` (in place; ``logits`` is the scorer's fresh output)."""
    if total is None:
        return logits if weight == 1.0 else logits.mul_(weight)
    return total.add_(logits, alpha=weight)


def _tokens_per_example(tokens: int, examples: int, module: str) -> int:
    if tokens % examples:
        raise ValueError(
            f"Module {module} saw {tokens} token rows for a batch of {examples} examples; rows must be "
            "example-major with the same number of rows per example."
        )
    return tokens // examples


def scale_global_scores(scores: Tensor, alpha: Tensor | float) -> Tensor:
    """alpha * scores, keeping -inf (an excluded expert) as it is (0 * -inf would be NaN)."""
    return torch.where(torch.isinf(scores), scores, scores * alpha)


def check_finite(z: Tensor, where: str) -> None:
    """Fail loudly when routing logits hold NaN or +inf, or a row is all -inf (never route silently on them).

    Raises RoutingError (a FloatingPointError and a GliderError: the CLI prints its message).
    """
    if z.numel() == 0 or bool(torch.isfinite(z.sum())):
        return  # a finite sum: no NaN and no +-inf anywhere
    if torch.isnan(z).any() or torch.isposinf(z).any():
        bad = "NaN" if torch.isnan(z).any() else "inf"
        raise RoutingError(
            f"Routing scores contain {bad} in module {where}: check the library's gates/prototypes and "
            "the query embeddings (a corrupted expert or an empty instruction can cause this)."
        )
    if torch.isneginf(z).all(dim=-1).any():
        raise RoutingError(
            f"Every expert scored -inf for some token in module {where}: no expert can be selected "
            "(e.g. the oracle router on a task that has no expert)."
        )
