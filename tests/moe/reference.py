"""The plain computations the production MoE code is checked against (tests only)."""

from __future__ import annotations

import torch
from torch import Tensor


def lora_loop_reference(x: Tensor, indices: Tensor, weights: Tensor, lora_A: Tensor, lora_B: Tensor, scale: Tensor) -> Tensor:
    """``out[t] = sum_j w[t,j] s[e] B[e] A[e] x[t]`` the plain way: for every expert ``e`` in ``0..N-1``
    gather the (token, slot) pairs routed to it, ``(w * s[e]) * B[e] @ (A[e] @ x)``, scatter-add.

    x: ``[T, d_in]``; indices, weights: ``[T, k]`` (-1: no expert); lora_A ``[N, r, d_in]``;
    lora_B ``[N, d_out, r]``; scale ``[N]``. Also the ``loop`` variant of ``benchmarks/moe_layer.py``.
    """
    out = x.new_zeros(x.shape[0], lora_B.shape[1])  # [T, d_out]
    for expert in range(lora_A.shape[0]):
        token, slot = (indices == expert).nonzero(as_tuple=True)  # [n_e], [n_e]
        if token.numel() == 0:
            continue
        coef = (weights[token, slot] * scale[expert]).to(x.dtype)  # [n_e]
        hidden = x[token] @ lora_A[expert].T  # [n_e, r]
        out.index_add_(0, token, (hidden @ lora_B[expert].T) * coef.unsqueeze(1))
    return out


def naive_output(x: Tensor, indices: Tensor, weights: Tensor, lora_A: Tensor, lora_B: Tensor, scale: Tensor) -> Tensor:
    """Token by token, slot by slot, in float64: the formula as written."""
    x, lora_A, lora_B = x.double(), lora_A.double(), lora_B.double()
    out = torch.zeros(x.shape[0], lora_B.shape[1], dtype=torch.float64)
    for t in range(x.shape[0]):
        for j in range(indices.shape[1]):
            e = int(indices[t, j])
            if e >= 0:
                out[t] += float(weights[t, j]) * float(scale[e]) * (lora_B[e] @ (lora_A[e] @ x[t]))
    return out


def layer_norm(v: Tensor, eps: float = 1e-5) -> Tensor:
    """LN(v) = (v - mean) / sqrt(var + eps), biased variance, no affine parameters."""
    return (v - v.mean(-1, keepdim=True)) / torch.sqrt(v.var(-1, unbiased=False, keepdim=True) + eps)


def route_reference(x: Tensor, gates: Tensor, k: int, bias: Tensor | None = None, weight: float = 1.0) -> tuple[Tensor, Tensor]:
    """Phatgoose (+ per-example bias) top-k in float64, the lower index first among equal probabilities."""
    z = weight * layer_norm(x.double()) @ layer_norm(gates.double()).T / gates.shape[-1] ** 0.5  # [T, N]
    if bias is not None:
        z = (z.view(bias.shape[0], -1, z.shape[-1]) + bias.double()[:, None, :]).view(-1, z.shape[-1])
    p = torch.softmax(z, dim=-1)
    order = torch.sort(p, dim=-1, descending=True, stable=True).indices[:, :k]
    top = p.gather(1, order)
    return order, top / (top.sum(-1, keepdim=True) + 1e-6)
