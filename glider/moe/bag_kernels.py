"""Token-order LoRA dispatch on the embedding-bag kernels (no sorting, no gathered copies).

Flatten the experts' factors into row tables, ``A_rows = A.reshape(N r, d_in)`` and
``Bt_rows = B.transpose(1, 2).reshape(N r, d_out)``; slot ``(t, j)`` with expert ``e``
owns rows ``e r .. e r + r - 1``.  Then

    h[t, j, c] = A_rows[e r + c] . x[t]                    (sampled dot products)
    out[t]     = sum_{j, c} w[t, j] s[e] h[t, j, c] Bt_rows[e r + c]   (a weighted bag sum)

The first line is ATen's per-sample-weight gradient of ``embedding_bag``
(``_embedding_bag_per_sample_weights_backward``: one dot product per sample), the second
is ``F.embedding_bag(mode="sum", per_sample_weights=...)`` itself; their derivatives are
each other, so both directions stay on these two kernels.  Every product runs in one
C++ loop over tokens, with no per-expert calls: cheap when the experts of nearby tokens
repeat (they stay in cache) or when experts have few tokens each.

Fast when ``B`` is stored as ``[N, r, d_out]`` (pass ``B_t.transpose(1, 2)``) and ``A``
as contiguous ``[N, r, d_in]``: both tables are then views (otherwise a copy of the
whole library per call).  No gradient for ``A`` (callers use the grouped kernel when
``A`` trains); ``x``, ``weights``, ``B`` and ``scale`` get theirs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

_sampled_dots = torch.ops.aten._embedding_bag_per_sample_weights_backward
_MODE_SUM = 0


def bag_kernel_fits(lora_A: Tensor, lora_B: Tensor) -> bool:
    """Whether both factor tables are free views and ``A`` needs no gradient."""
    return lora_A.is_contiguous() and lora_B.transpose(1, 2).is_contiguous() and not lora_A.requires_grad


class _SampledDots(torch.autograd.Function):
    """``h[i] = table[rows[i]] . x[bag[i]]`` for flat samples ``i`` (bags = tokens, equal size)."""

    @staticmethod
    def forward(ctx, x: Tensor, table: Tensor, rows: Tensor, bag_offsets: Tensor, bag_of_row: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(table, rows)
        return _sampled_dots(x, table, rows.reshape(-1), bag_offsets, bag_of_row, _MODE_SUM)  # [T * m]

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None, None, None]:  # type: ignore[override]
        table, rows = ctx.saved_tensors  # rows: [T, m]
        # d h[i] / d x[bag[i]] = table[rows[i]]: a bag sum with the upstream grad as weights
        grad_x = F.embedding_bag(rows, table, mode="sum", per_sample_weights=grad.reshape(rows.shape).contiguous())
        return grad_x, None, None, None, None


def bag_dispatch_into(out: Tensor, x: Tensor, expert_idx: Tensor, coef: Tensor, lora_A: Tensor, lora_B: Tensor) -> Tensor:
    """``out[t] += sum_j coef[t, j] B[e] A[e] x[t]`` in token order; returns ``out``.

    x: ``[T, d_in]``; expert_idx: ``[T, k]`` in ``0..N-1`` (idle slots mapped to any
    expert with ``coef = 0``); coef: ``[T, k]`` (``w * s``) in x's dtype;
    lora_A: contiguous ``[N, r, d_in]``; lora_B: ``[N, d_out, r]`` view of a contiguous
    ``[N, r, d_out]`` (other layouts work through a copy; see :func:`bag_kernel_fits`).
    """
    n_tokens, k = expert_idx.shape
    n_experts, rank, d_in = lora_A.shape
    if lora_A.requires_grad:
        raise ValueError("the bag kernel gives lora_A no gradient; use kernel='grouped' (or 'auto') to train A")
    a_rows = lora_A.reshape(n_experts * rank, d_in)  # [N r, d_in], a view when contiguous
    bt_rows = lora_B.transpose(1, 2).reshape(n_experts * rank, lora_B.shape[1])  # [N r, d_out]
    per_token = k * rank
    rows = (expert_idx * rank).unsqueeze(-1) + torch.arange(rank, device=x.device)  # [T, k, r]
    rows = rows.view(n_tokens, per_token)  # [T, k r]
    bag_offsets = torch.arange(0, n_tokens * per_token, per_token, device=x.device)  # [T]
    bag_of_row = torch.arange(n_tokens, device=x.device).repeat_interleave(per_token)  # [T k r]
    hidden = _SampledDots.apply(x, a_rows, rows, bag_offsets, bag_of_row).view(n_tokens, k, rank)  # [T, k, r]
    hidden = (hidden * coef.unsqueeze(-1)).view(n_tokens, per_token)  # [T, k r]
    return out.add_(F.embedding_bag(rows, bt_rows, mode="sum", per_sample_weights=hidden))  # [T, d_out]
