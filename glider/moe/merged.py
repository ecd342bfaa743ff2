"""Merged experts: uniform weights over all N experts, no top-k.

    delta = mean_i s_i B_i A_i                       [d_out, d_in]
    y     = delta x = mean_i s_i B_i (A_i x)

Both sums are one matrix product over the concatenated rank dimension
(``sum_i s_i B_i A_i = [s_1 B_1 | ... | s_N B_N] @ [A_1; ...; A_N]``), so no
``N x d_out x d_in`` tensor is ever formed; the extra memory is one ``[d_out, N r]``
copy of the scaled ``B`` factors (for ``lora_dense_uniform`` a ``[T, N r]`` intermediate).
"""

from __future__ import annotations

from torch import Tensor


def _scaled_b_cat(lora_B: Tensor, scale: Tensor) -> Tensor:
    """``[s_1 B_1 | ... | s_N B_N]``: ``[d_out, N * r]`` for ``lora_B [N, d_out, r]``."""
    n_experts, d_out, rank = lora_B.shape
    scaled = lora_B * scale.to(lora_B.dtype).view(n_experts, 1, 1)  # [N, d_out, r]
    return scaled.transpose(0, 1).reshape(d_out, n_experts * rank)  # [d_out, N r]


def merged_delta(lora_A: Tensor, lora_B: Tensor, scale: Tensor) -> Tensor:
    """``mean_i s_i B_i A_i``: ``[d_out, d_in]`` for ``A [N, r, d_in]``, ``B [N, d_out, r]``, ``s [N]``.

    Accumulated in float32 (half-precision libraries too), returned in ``lora_A``'s dtype;
    all zeros for an empty library.
    """
    n_experts, rank, d_in = lora_A.shape
    if n_experts == 0:
        return lora_A.new_zeros(lora_B.shape[1], d_in)
    a_cat = lora_A.float().reshape(n_experts * rank, d_in)  # [N r, d_in]
    delta = (_scaled_b_cat(lora_B.float(), scale.float()) @ a_cat) / n_experts  # [d_out, d_in]
    return delta.to(lora_A.dtype)


def lora_dense_uniform(x: Tensor, lora_A: Tensor, lora_B: Tensor, scale: Tensor) -> Tensor:
    """``mean_i s_i B_i A_i x`` for every token: ``[T, d_out]`` for ``x [T, d_in]``.

    Dense over all experts (a reference, not a fast path): rank-space first,
    ``h = x [A_1; ...; A_N]^T`` (``[T, N r]``), then ``h [s_i B_i]^T / N``.
    """
    n_experts, rank, d_in = lora_A.shape
    hidden = x @ lora_A.reshape(n_experts * rank, d_in).T  # [T, N r]
    return (hidden @ _scaled_b_cat(lora_B, scale).T) / n_experts  # [T, d_out]
