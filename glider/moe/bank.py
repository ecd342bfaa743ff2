"""The expert bank: the N stacked LoRA experts of one module, applied to routed tokens.

    out[t] += sum_j  w[t, j] * s[e] * B[e] (A[e] x[t]),    e = indices[t, j]   (-1: no expert)

One implementation for CPU and GPU and every float dtype: the T * k (token, slot) pairs are
sorted by expert, each used expert's tokens go through two products over the rank-r
intermediate (``A[e]``, then ``B[e]``; the weight ``w * s`` scales the r numbers in between),
and the slot outputs are added into ``out`` by token. Work: ``T k r (d_in + d_out)`` MACs
and one read of each used expert's weights, never N products per token.

The per-expert products are :func:`segment_products`. On CPU the sorted slots go in runs of
consecutive experts whose gathered rows and outputs take at most ``CPU_CHUNK_BYTES``: the
temporaries stay in cache and in the allocator's reuse range (one 16 MB gather per T5-small
encoder module took 2-4x longer, mostly fresh pages); on an accelerator one run does it all.
Storage: ``lora_A`` contiguous ``[N, r, d_in]`` and ``lora_Bt`` contiguous ``[N, r, d_out]``
(``lora_B`` is its transposed view), in the activation dtype, both read without copies.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# dtypes F.grouped_mm takes; its operands' rows must be 16-byte aligned
_GROUPED_DTYPES = (torch.float32, torch.bfloat16, torch.float16)
CPU_CHUNK_BYTES = 4 << 20  # gathered rows + slot outputs per run of experts on CPU (benchmarks/README.md)


class ExpertBank(nn.Module):
    """N LoRA experts of one module; ``bank(x, indices, weights, out)`` adds the selected ones into ``out``."""

    def __init__(self, lora_A: Tensor, lora_Bt: Tensor, scale: Tensor) -> None:
        super().__init__()
        n, rank, _ = lora_A.shape
        if lora_Bt.shape[:2] != (n, rank) or scale.shape != (n,):
            raise ValueError(f"experts: A {tuple(lora_A.shape)}, B^T {tuple(lora_Bt.shape)} and scale {tuple(scale.shape)} disagree")
        self.register_buffer("lora_A", lora_A.contiguous(), persistent=False)  # [N, r, d_in]
        self.register_buffer("lora_Bt", lora_Bt.contiguous(), persistent=False)  # [N, r, d_out]
        self.register_buffer("scale", scale, persistent=False)  # [N]

    @property
    def lora_B(self) -> Tensor:
        """The experts' B factors ``[N, d_out, r]`` (a view of ``lora_Bt``)."""
        return self.lora_Bt.transpose(1, 2)

    @property
    def num_experts(self) -> int:
        return self.lora_A.shape[0]

    def extra_repr(self) -> str:
        n, rank, d_in = self.lora_A.shape
        return f"experts={n}, rank={rank}, d_in={d_in}, d_out={self.lora_Bt.shape[2]}"

    def forward(self, x: Tensor, indices: Tensor, weights: Tensor, out: Tensor) -> Tensor:
        """``out[t] += sum_j w[t, j] s[e] B[e] A[e] x[t]``; returns ``out``.

        x: ``[T, d_in]``; indices: ``[T, k]`` in ``-1..N-1`` (-1: no expert); weights: ``[T, k]``;
        out: ``[T, d_out]`` in x's dtype (e.g. the frozen layer's ``W x + b``), added into in place.
        Gradients reach ``x``, ``weights`` and the expert tensors that require them.
        """
        n_experts = self.num_experts
        if x.dim() != 2 or indices.shape != weights.shape or indices.shape[0] != x.shape[0] or out.shape[0] != x.shape[0]:
            raise ValueError(f"experts want x [T, d_in], indices and weights [T, k], out [T, d_out]; got x {tuple(x.shape)}, "
                             f"indices {tuple(indices.shape)}, weights {tuple(weights.shape)}, out {tuple(out.shape)}")
        if x.dtype != self.lora_A.dtype:
            raise ValueError(f"x is {x.dtype} but the experts are {self.lora_A.dtype}: cast them once, when the layer is built")
        slots = indices.reshape(-1)  # [S], S = T * k
        if slots.numel() == 0:
            return out
        try:
            counts = torch.bincount(slots + 1, minlength=n_experts + 1)  # bin 0: slots with no expert
        except RuntimeError:  # a negative input
            raise ValueError("expert indices must be -1 (no expert) or 0..N-1") from None
        if counts.numel() != n_experts + 1:
            raise ValueError(f"expert indices hold ids >= {n_experts}, the number of experts")
        expert, order = slots.sort()  # [S]: the idle slots (-1) first
        idle = int(counts[0])
        expert, order = expert[idle:], order[idle:]
        if order.numel() == 0:
            return out
        token = order // indices.shape[1]  # [S'] token of each sorted slot
        coef = (weights.reshape(-1)[order] * self.scale[expert]).to(x.dtype)  # [S'] w * s
        counts = counts[1:]
        lora_At = self.lora_A.transpose(1, 2)  # [N, d_in, r]
        for first, last, start, stop in _runs(counts, order.numel(), (x.shape[1] + out.shape[1]) * x.element_size(), x.device):
            tokens, groups = token[start:stop], counts[first:last]
            hidden = segment_products(x.index_select(0, tokens), lora_At[first:last], groups)  # [n, r]
            slot_out = segment_products(hidden * coef[start:stop, None], self.lora_Bt[first:last], groups)  # [n, d_out]
            out.index_add_(0, tokens, slot_out)
        return out


def _runs(counts: Tensor, total: int, slot_bytes: int, device: torch.device) -> list[tuple[int, int, int, int]]:
    """(first expert, last expert + 1, first slot, last slot + 1) of each run of consecutive experts.

    One run on an accelerator; on CPU runs of at most ``CPU_CHUNK_BYTES`` at ``slot_bytes`` per
    slot (an expert with more slots is a run of its own). ``total``: the number of slots.
    """
    if device.type != "cpu" or total * slot_bytes <= CPU_CHUNK_BYTES:
        return [(0, counts.shape[0], 0, total)]
    per_run = max(1, CPU_CHUNK_BYTES // slot_bytes)  # slots
    runs, first, start, stop = [], 0, 0, 0
    for expert, size in enumerate(counts.tolist()):
        if stop > start and stop - start + size > per_run:
            runs.append((first, expert, start, stop))
            first, start = expert, stop
        stop += size
    runs.append((first, counts.shape[0], start, stop))
    return runs


def segment_products(rows: Tensor, mats: Tensor, counts: Tensor) -> Tensor:
    """``out[s] = rows[s] @ mats[g]`` for rows sorted by group, ``counts[g]`` rows in group g.

    rows: ``[S, p]``; mats: ``[G, p, q]`` (any strides). One ``torch.nn.functional.grouped_mm``
    call where it runs (float32/bfloat16/float16, p and q aligned to 16 bytes, no gradient
    needed: its CPU backward is not usable); else one product per non-empty group. It is the
    only torch op that runs every group's product in one call: a Python loop costs about 10 us
    per used expert, 0.1 - 0.2 of the bare layer with 166 experts at 128 tokens.
    """
    align = 16 // rows.element_size()
    grouped = (
        rows.dtype in _GROUPED_DTYPES and mats.dtype == rows.dtype and mats.shape[1] % align == 0
        and mats.shape[2] % align == 0 and not (torch.is_grad_enabled() and (rows.requires_grad or mats.requires_grad))
    )
    if grouped:
        return F.grouped_mm(rows.contiguous(), mats, offs=counts.cumsum(0, dtype=torch.int32))
    sizes = counts.tolist()
    pieces = [seg @ mats[g] for g, seg in enumerate(rows.split(sizes)) if sizes[g]]
    return torch.cat(pieces) if pieces else rows.new_zeros(0, mats.shape[2])
