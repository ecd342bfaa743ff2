"""Selection rules: from logits z [T, N] to selected experts and their weights.

    p = softmax(z)
    top-k:  keep the k largest p_i, w_i = p_i / (sum_topk p + 1e-6); among equal p_i the lower index first
    top-p:  keep the smallest set (largest first) whose mass reaches p, renormalised the same way
    dense:  w = p over all N experts
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

from glider.errors import ConfigError

RENORM_EPS = 1e-6


class Selection(ABC):
    """Turns routing logits into (expert indices [T, k], weights [T, k])."""

    @abstractmethod
    def __call__(self, z: Tensor) -> tuple[Tensor, Tensor]: ...

    @abstractmethod
    def describe(self) -> str: ...


class TopK(Selection):
    """Keep the k most probable experts per token and renormalise their probabilities."""

    def __init__(self, k: int = 2) -> None:
        if k < 1:
            raise ValueError(f"top-k needs k >= 1, got {k}")
        self.k = k

    def __call__(self, z: Tensor) -> tuple[Tensor, Tensor]:
        p = torch.softmax(z.float(), dim=-1)  # [T, N]
        vals, idx = largest(p, min(self.k, p.shape[-1]))  # [T, k]
        return idx, vals / (vals.sum(dim=-1, keepdim=True) + RENORM_EPS)

    def describe(self) -> str:
        return f"top{self.k}"


def largest(p: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """The k largest entries of each row of ``p >= 0`` (values, indices), largest first, the lower
    index first among equal values; overwrites ``p``.

    k passes of ``max`` (which returns the first maximal index): ties are broken the same way on
    every device, and for small k it is several times faster than ``torch.topk`` on CPU.
    """
    if k == 0:
        return p[..., :0], torch.zeros_like(p[..., :0], dtype=torch.long)
    values, indices = [], []
    for j in range(k):
        v, i = p.max(dim=-1, keepdim=True)  # [T, 1]
        values.append(v)
        indices.append(i)
        if j + 1 < k:
            p.scatter_(-1, i, -1.0)  # below every probability: the next pass finds the next one
    if k == 1:
        return values[0], indices[0]
    return torch.cat(values, dim=-1), torch.cat(indices, dim=-1)


class TopP(Selection):
    """Keep the smallest set of experts whose probability mass reaches p (at least one)."""

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 < p <= 1.0:
            raise ValueError(f"top-p needs 0 < p <= 1, got {p}")
        self.p = p

    def __call__(self, z: Tensor) -> tuple[Tensor, Tensor]:
        probs = torch.softmax(z.float(), dim=-1)  # [T, N]
        sorted_p, sorted_idx = probs.sort(dim=-1, descending=True, stable=True)  # ties: lower index first
        mass_before = sorted_p.cumsum(dim=-1) - sorted_p  # mass of the experts ranked above
        keep = mass_before < self.p  # [T, N]; the first is always kept
        width = int(keep.sum(dim=-1).max().item()) if keep.numel() else 1
        idx = sorted_idx[:, :width]
        w = sorted_p[:, :width] * keep[:, :width]
        return idx, w / (w.sum(dim=-1, keepdim=True) + RENORM_EPS)

    def describe(self) -> str:
        return f"topp{self.p}"


class Dense(Selection):
    """Every expert, weighted by its softmax probability."""

    def __call__(self, z: Tensor) -> tuple[Tensor, Tensor]:
        p = torch.softmax(z.float(), dim=-1)  # [T, N]
        idx = torch.arange(p.shape[-1], device=p.device).expand_as(p)
        return idx, p

    def describe(self) -> str:
        return "dense"


def make_selection(top_k: int | None = 2, top_p: float | None = None, dense: bool = False) -> Selection:
    """The selection rule named by the router config (dense > top_p > top_k); a bad value is a ConfigError."""
    if dense:
        return Dense()
    if top_p is not None:
        if not 0.0 < float(top_p) <= 1.0:
            raise ConfigError(f"router.top_p must be in (0, 1] (the probability mass to keep), got {top_p}.")
        return TopP(float(top_p))
    k = 2 if top_k is None else top_k
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"router.top_k must be a whole number of experts >= 1, got {top_k}.")
    return TopK(k)
