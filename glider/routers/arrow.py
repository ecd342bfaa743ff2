"""Arrow local scorer.

    l_i = |x . p_i| / T,   T = 10

``p_i`` is the unit top right singular vector of expert i's ``B_i A_i`` (input space),
computed from the r x r core: with A^T = Q_a R_a and B = Q_b R_b (thin QR),
B A = Q_b (R_b R_a^T) Q_a^T, so the right singular vectors of B A are Q_a V where
R_b R_a^T = U S V^T. The d_out x d_in product is never formed.
"""

from __future__ import annotations

import torch
from torch import Tensor

from glider.routers.base import LocalScorer


def arrow_prototype(lora_A: Tensor, lora_B: Tensor) -> Tensor:
    """Unit top right singular vector of B A. lora_A [r, d_in], lora_B [d_out, r] -> [d_in]."""
    a = lora_A.double()
    b = lora_B.double()
    q_a, r_a = torch.linalg.qr(a.T)  # [d_in, r], [r, r]
    q_b, r_b = torch.linalg.qr(b)  # [d_out, r], [r, r]
    core = r_b @ r_a.T  # [r, r]
    _, _, vh = torch.linalg.svd(core)
    proto = q_a @ vh[0]  # [d_in]
    return (proto / proto.norm().clamp_min(1e-12)).to(lora_A.dtype)


class ArrowScorer(LocalScorer):
    """Token-level routing by alignment with each expert's dominant input direction."""

    name = "arrow"
    key_name = "arrow"

    def __init__(self, temperature: float = 10.0) -> None:
        self.temperature = temperature

    def logits(self, x: Tensor, keys: Tensor) -> Tensor:  # x [..., T, d_in], keys [..., N, d_in] -> [..., T, N]
        return (x.to(keys.dtype) @ keys.transpose(-1, -2)).abs() / self.temperature
