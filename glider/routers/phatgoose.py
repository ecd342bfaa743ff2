"""Phatgoose local scorer.

    l_i = LN(x) . LN(g_i) / sqrt(d_in)

``g_i`` is expert i's trained gate vector for this module; LN is layer norm without
affine parameters and eps = 1e-5 (``nn.LayerNorm``'s default, as in both original codes).
The gates are normalised once, when they are injected.
"""

from __future__ import annotations

import math

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
        return layer_norm_no_affine(x, self.eps).to(keys.dtype) @ keys.transpose(-1, -2)
