"""Grouped ("segment") linear map over rows sorted by group.

``out[s] = mats[g(s)] @ rows[s]`` where the rows of group ``g`` are the contiguous block
``rows[start_g : start_g + count_g]`` (rows are sorted by group).  This is the only
place where expert weights meet tokens: each non-empty group costs one small matrix product
over its own rows, so the work is ``S * p * q`` and every used weight is read once.

Two kernels, same result:

- ``grouped``: one ``torch._grouped_mm`` call (a C++ loop of per-group ``mm`` on CPU;
  a real grouped GEMM on recent GPUs), wrapped in an autograd Function whose backward is
  two more grouped products.  Needs row strides of 16 bytes (``p`` and ``q`` multiples
  of 4 in float32, of 8 in bfloat16/float16).
- ``loop``: a Python loop of ``F.linear`` over the non-empty groups (plain autograd).
  Used where ``torch._grouped_mm`` is missing (torch < 2.8) or shapes are unaligned.

Empty groups cost the grouped kernel a few microseconds each (measured: 1000 groups of
which ~120 used is still cheaper than copying the used weights out, because fresh
multi-megabyte buffers page-fault on CPU), so the plan always covers every group.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from glider.moe.cpu_threads import cpu_threads

_GROUPED_DTYPES = (torch.float32, torch.bfloat16, torch.float16)
KERNELS = ("auto", "grouped", "loop")


@dataclass(frozen=True)
class SegmentPlan:
    """How sorted rows split into groups; shared by every product over the same rows."""

    offsets: Tensor  # [G] int32 cumulative row ends (grouped kernel)
    counts: list[int]  # [G] rows of each group (loop kernel)


def plan_segments(counts: Tensor) -> SegmentPlan:
    """Plan for rows sorted by group with ``counts [G]`` rows per group."""
    return SegmentPlan(counts.cumsum(0, dtype=torch.int32), counts.tolist())


def grouped_kernel_fits(rows: Tensor, mats: Tensor) -> bool:
    """Whether ``torch._grouped_mm`` accepts these operands (dtype, 16-byte strides)."""
    if not hasattr(torch, "_grouped_mm") or rows.dtype not in _GROUPED_DTYPES:
        return False
    if mats.dtype != rows.dtype:
        return False
    align = 16 // rows.element_size()
    return mats.shape[1] % align == 0 and mats.shape[2] % align == 0


class _GroupedLinear(torch.autograd.Function):
    """``out[seg g] = rows[seg g] @ mats[g]^T`` with grouped products both ways."""

    @staticmethod
    def forward(ctx, rows: Tensor, mats: Tensor, offsets: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(rows, mats, offsets)
        ctx.n_threads = torch.get_num_threads()  # backward runs like the forward did
        return torch._grouped_mm(rows, mats.transpose(1, 2), offs=offsets)  # [S, q]

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:  # type: ignore[override]
        rows, mats, offsets = ctx.saved_tensors
        grad = grad.contiguous()  # [S, q]; autograd may hand an expanded (stride 0) grad
        grad_rows = grad_mats = None
        with cpu_threads(ctx.n_threads, grad.device):
            if ctx.needs_input_grad[0]:
                grad_rows = torch._grouped_mm(grad, _unit_last_or_first(mats), offs=offsets)  # [S, p]
            if ctx.needs_input_grad[1]:
                grad_mats = torch._grouped_mm(grad.t(), rows, offs=offsets)  # [G, q, p]
        return grad_rows, grad_mats, None


def _unit_last_or_first(mats: Tensor) -> Tensor:
    """``mats`` with unit stride in one of its two matrix dims (what the kernel accepts)."""
    return mats if 1 in (mats.stride(1), mats.stride(2)) else mats.contiguous()


def segment_linear(rows: Tensor, mats: Tensor, plan: SegmentPlan, kernel: str = "auto") -> Tensor:
    """``out[s] = mats[g(s)] @ rows[s]`` for rows sorted by group.

    rows: ``[S, p]`` sorted by group; mats: ``[G, q, p]`` (``F.linear`` weight layout, any
    strides); plan from :func:`plan_segments` over the same ``G`` groups.
    Returns ``[S, q]``.  ``kernel``: ``"auto"`` (grouped when it fits), ``"grouped"``, ``"loop"``.
    """
    if kernel not in KERNELS:
        raise ValueError(f"unknown segment kernel {kernel!r}; use one of {KERNELS}")
    use_grouped = kernel == "grouped" or (kernel == "auto" and grouped_kernel_fits(rows, mats))
    if use_grouped:
        return _GroupedLinear.apply(rows, _unit_last_or_first(mats), plan.offsets)
    return _looped_linear(rows, mats, plan.counts)


def _looped_linear(rows: Tensor, mats: Tensor, counts: list[int]) -> Tensor:
    """One ``F.linear`` per non-empty group (no weight copy; Python cost per group)."""
    pieces = [
        F.linear(segment, mats[group])  # [count_g, q]
        for group, segment in enumerate(rows.split(counts))
        if counts[group]
    ]
    if not pieces:
        return rows.new_zeros(0, mats.shape[1])
    return torch.cat(pieces)
