"""Selective LoRA dispatch (temporary simple version; replaced by the fast kernel)."""

from __future__ import annotations

import torch
from torch import Tensor


def lora_dispatch(x: Tensor, expert_idx: Tensor, weights: Tensor, lora_A: Tensor, lora_B: Tensor, scale: Tensor) -> Tensor:
    """sum_j w[t,j] * s[e] * B[e] @ (A[e] @ x[t]), e = expert_idx[t,j]; only selected experts computed."""
    T, k = expert_idx.shape
    out = x.new_zeros(T, lora_B.shape[1])
    flat_e = expert_idx.reshape(-1)
    flat_t = torch.arange(T, device=x.device).repeat_interleave(k)
    flat_w = weights.reshape(-1).to(x.dtype)
    for e in torch.unique(flat_e).tolist():
        sel = (flat_e == e).nonzero().squeeze(-1)
        rows = flat_t[sel]
        h = (x[rows] @ lora_A[e].T) @ lora_B[e].T
        out.index_add_(0, rows, h * (flat_w[sel] * scale[e]).unsqueeze(-1))
    return out
