"""Merged experts: uniform weights over all N experts, no top-k.

    delta = mean_i s_i B_i A_i                       [d_out, d_in]

One matrix product over the concatenated rank dimension
(``sum_i s_i B_i A_i = [s_1 B_1 | ... | s_N B_N] @ [A_1; ...; A_N]``), so no
``N x d_out x d_in`` tensor is ever formed.
"""

from __future__ import annotations

from torch import Tensor


def merged_delta(lora_A: Tensor, lora_B: Tensor, scale: Tensor) -> Tensor:
    """``mean_i s_i B_i A_i``: ``[d_out, d_in]`` for ``A [N, r, d_in]``, ``B [N, d_out, r]``, ``s [N]``.

    Accumulated in float32 (half-precision libraries too), returned in ``lora_A``'s dtype;
    all zeros for an empty library.
    """
    n_experts, rank, d_in = lora_A.shape
    d_out = lora_B.shape[1]
    if n_experts == 0:
        return lora_A.new_zeros(d_out, d_in)
    scaled_b = lora_B.float() * scale.float().view(n_experts, 1, 1)  # [N, d_out, r]
    b_cat = scaled_b.transpose(0, 1).reshape(d_out, n_experts * rank)  # [d_out, N r]
    return (b_cat @ lora_A.float().reshape(n_experts * rank, d_in) / n_experts).to(lora_A.dtype)
