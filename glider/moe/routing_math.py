"""Per-token routing math of the MoE-LoRA layer (Phatgoose local logits, top-k).

Formulas (see ARCHITECTURE.md, "Formulas"):

- ``LN(v) = (v - mean(v)) / sqrt(var(v) + eps)``, no affine parameters.
- Phatgoose local logit ``l_i = LN(x) . LN(g_i) / sqrt(d_in)``.  The gate side
  ``LN(g_i) / sqrt(d_in)`` does not depend on the token, so it is precomputed once
  (:func:`normalize_gates`) and the logits of all experts are one matrix product.
- Selection: ``p = softmax(z)``; top-k keeps the k largest and renormalises
  ``w_i = p_i / (sum_topk p + 1e-6)``.

With candidate pre-selection every example ``b`` only scores its own ``M`` candidate
experts ``candidate_idx[b]`` (chosen e.g. by the global instruction scores), so the
per-token router cost is ``M * d_in`` instead of ``N * d_in``
(:func:`candidate_logits`, then :func:`candidates_to_experts` maps the chosen candidate
positions back to library expert ids).

Pure tensor functions: no modules, no state.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from glider.routers.base import LN_EPS  # nn.LayerNorm's default (one value for every path)

RENORM_EPS = 1e-6


def layer_norm_plain(v: Tensor, eps: float = LN_EPS) -> Tensor:
    """``LN(v)`` over the last dimension, without affine parameters."""
    return F.layer_norm(v, (v.shape[-1],), eps=eps)


def normalize_gates(gates: Tensor, eps: float = LN_EPS) -> Tensor:
    """Router keys ``LN(g_i) / sqrt(d_in)`` for gate vectors ``gates`` ``[N, d_in]``.

    Precompute once per module (gates are frozen); returns ``[N, d_in]``.
    """
    return layer_norm_plain(gates, eps) / gates.shape[-1] ** 0.5


def local_logits(x: Tensor, gates_normed: Tensor, eps: float = LN_EPS) -> Tensor:
    """Phatgoose logits ``l[t, i] = LN(x_t) . LN(g_i) / sqrt(d_in)``.

    x: ``[..., d_in]``; gates_normed: ``[N, d_in]`` from :func:`normalize_gates`.
    Returns ``[..., N]``.
    """
    return F.linear(layer_norm_plain(x, eps), gates_normed)


def candidate_logits(x_norm: Tensor, gates_normed: Tensor, candidate_idx: Tensor) -> Tensor:
    """Local logits of each example's candidate experts only.

    ``out[b, t, m] = x_norm[b, t] . gates_normed[candidate_idx[b, m]]``

    x_norm: ``[B, L, d_in]`` already ``LN``-ed tokens (:func:`layer_norm_plain`);
    gates_normed: ``[N, d_in]``; candidate_idx: ``[B, M]`` long library ids.
    Returns ``[B, L, M]``.  Cost per token ``M * d_in``; only ``B * M`` gate rows are read.
    """
    keys = gates_normed.index_select(0, candidate_idx.reshape(-1))  # [B*M, d_in]
    keys = keys.view(*candidate_idx.shape, gates_normed.shape[-1])  # [B, M, d_in]
    return torch.bmm(x_norm, keys.transpose(1, 2))  # [B, L, M]


def topk_route(logits: Tensor, k: int, eps: float = RENORM_EPS) -> tuple[Tensor, Tensor]:
    """Softmax, keep the top ``k``, renormalise: ``w = p_topk / (sum p_topk + eps)``.

    logits: ``[..., N]`` (any extra bias such as GLIDER's ``alpha * c`` already added).
    Returns ``(expert_idx [..., k] long, weights [..., k])``; weights in logits' dtype.
    """
    probs = logits.softmax(dim=-1)  # [..., N]
    top_p, top_i = probs.topk(k, dim=-1)  # [..., k]
    return top_i, top_p / (top_p.sum(dim=-1, keepdim=True) + eps)


def candidates_to_experts(local_idx: Tensor, candidate_idx: Tensor) -> Tensor:
    """Map positions among each example's candidates back to library expert ids.

    local_idx: ``[B, L, k]`` in ``0..M-1``; candidate_idx: ``[B, M]``.
    Returns ``[B, L, k]`` with ``out[b, t, j] = candidate_idx[b, local_idx[b, t, j]]``.
    """
    batch, length, k = local_idx.shape
    return torch.gather(candidate_idx, 1, local_idx.reshape(batch, length * k)).view(batch, length, k)
