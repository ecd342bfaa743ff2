"""Phatgoose local scorer.

    l_i = LN(x) . LN(g_i) / sqrt(d_in)

``g_i`` is expert i's trained gate vector for this module; LN is layer norm without
affine parameters and eps = 1e-5 (``nn.LayerNorm``'s default, as in both original codes).
The gates are normalised once, when they are injected: ``k_i = LN(g_i) / sqrt(d_in)``. The
tokens are not: with ``mu``, ``rstd`` the mean and ``1 / sqrt(var + eps)`` of a token,

    LN(x) . k_i = rstd * (x . k_i - mu * sum_d k_i)

is one product of the raw tokens with the keys and two numbers per token, with no ``LN(x)``
tensor (on CPU a fresh [T, d_in] tensor per module cost 0.1 - 0.25 of the frozen layer).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from glider.routers.base import LN_EPS, LocalScorer, layer_norm_no_affine


class PhatgooseScorer(LocalScorer):
    """Token-level routing by similarity of the normalised token to normalised gate vectors."""

    name = "phatgoose"
    key_name = "gate"

    def __init__(self, eps: float = LN_EPS) -> None:
        self.eps = eps

    def prepare_keys(self, keys: Tensor) -> Tensor:  # [N, d_in]
        return layer_norm_no_affine(keys, self.eps) / math.sqrt(keys.shape[-1])

    def logits(self, x: Tensor, keys: Tensor) -> Tensor:  # x [..., T, d_in], keys [..., N, d_in] -> [..., T, N]
        x = x.to(keys.dtype)  # half-precision tokens are normalised in the keys' float32
        mean = x.mean(dim=-1, keepdim=True)  # [..., T, 1]
        mean_square = torch.linalg.vector_norm(x, dim=-1, keepdim=True).square_().div_(x.shape[-1])
        rstd = (mean_square - mean.square()).clamp_(min=0.0).add_(self.eps).rsqrt_()  # biased variance, as LN
        z = x @ keys.transpose(-1, -2)  # [..., T, N]
        return z.sub_(mean * keys.sum(dim=-1).unsqueeze(-2)).mul_(rstd)
