"""Selective dispatch of routed tokens to their LoRA experts.

For tokens ``x [T, d_in]`` routed to ``k`` experts each (``expert_idx [T, k]``, routing
weights ``w [T, k]``), with stacked expert factors ``A [N, r, d_in]``, ``B [N, d_out, r]``
and per-expert scales ``s [N]``:

    out[t] = sum_j  w[t, j] * s[e] * B[e] @ (A[e] @ x[t]),    e = expert_idx[t, j]

Only the selected experts are computed, in one of two ways (same result):

- grouped (default): the ``T * k`` (token, slot) pairs are sorted by expert and each
  used expert's slots go through two small products (:mod:`glider.moe.segment_matmul`);
  each used expert's weights are read once.  A fixed cost per expert (used or not).
- bag (when there are fewer slots than experts): token order, no sorting, the
  embedding-bag kernels (:mod:`glider.moe.bag_kernels`); no cost per expert.
- native (instead of grouped and bag, where it can run: inference, float32 CPU, a
  machine that can build it): one C call over the sorted slots, or in token order in
  place of bag (:mod:`glider.moe.native_kernel`).

Either way the work is ``T * k * r * (d_in + d_out)`` MACs plus reading the selected
experts' weights, never ``N`` products per token.  The weight ``w * s`` multiplies the
rank-``r`` intermediate ``A[e] @ x[t]`` (``r`` numbers per slot, not ``d_out``).

A slot with ``expert_idx == -1`` does no work (e.g. padding tokens).  Gradients flow to
``x``, ``weights`` and, when they require it, to ``A``, ``B`` and ``scale``.

Layout: ``A`` and ``B`` may have any strides.  Fastest on CPU: ``A`` contiguous
``[N, r, d_in]`` and ``B`` a transposed view of a contiguous ``[N, r, d_out]`` tensor
(``B_t.transpose(1, 2)``); store them so once, when the layer is built.
"""

from __future__ import annotations

import torch
from torch import Tensor

from glider.moe.bag_kernels import bag_dispatch_into, bag_kernel_fits
from glider.moe.cpu_threads import cpu_threads
from glider.moe.merged import lora_dense_uniform, merged_delta
from glider.moe.native_kernel import native_dispatch_into, native_fits, native_token_dispatch_into
from glider.moe.segment_matmul import plan_segments, segment_linear

# Intra-op threads on CPU for the sorted paths, which issue two tiny matmuls per used
# expert (None: torch's setting); see cpu_threads.py.  The bag path is a handful of large
# kernels and keeps torch's setting.
CPU_DISPATCH_THREADS: int | None = 1
# "auto" takes the token-order bag kernels when there are fewer slots than this many per
# expert (most experts idle: the grouped kernel's fixed cost per expert dominates) or when
# the whole library of the module is this small (its re-reads stay in cache); see
# benchmarks/README.md.  With per-example candidate experts pass kernel="bag" explicitly.
BAG_BELOW_SLOTS_PER_EXPERT = 1.0
BAG_MAX_LIBRARY_BYTES = 4 * 2**20
KERNELS = ("auto", "grouped", "bag", "loop", "native")

__all__ = [
    "BAG_BELOW_SLOTS_PER_EXPERT",
    "BAG_MAX_LIBRARY_BYTES",
    "CPU_DISPATCH_THREADS",
    "KERNELS",
    "lora_dispatch",
    "lora_loop_reference",
    "lora_dense_uniform",
    "merged_delta",
]


def lora_dispatch(
    x: Tensor,
    expert_idx: Tensor,
    weights: Tensor,
    lora_A: Tensor,
    lora_B: Tensor,
    scale: Tensor,
    *,
    kernel: str = "auto",
    out: Tensor | None = None,
) -> Tensor:
    """``out[t] = sum_j w[t,j] s[e] B[e] A[e] x[t]`` over the selected experts only.

    x: ``[T, d_in]``; expert_idx: ``[T, k]`` ints in ``-1..N-1`` (-1 = no expert);
    weights: ``[T, k]`` (x's dtype or float32); lora_A: ``[N, r, d_in]``;
    lora_B: ``[N, d_out, r]``; scale: ``[N]``.  Returns ``[T, d_out]`` in x's dtype.
    Where the native kernels can run (:func:`glider.moe.native_kernel.native_fits`:
    inference on float32 CPU tensors) ``"auto"`` takes them instead: sorted by expert,
    or in token order with fewer slots than experts.
    kernel: ``"grouped"`` (sorted slots, :mod:`glider.moe.segment_matmul`), ``"bag"``
    (token order: the native token-order kernel where it can run, else
    :mod:`glider.moe.bag_kernels`), ``"loop"`` (sorted slots, a Python loop
    over the used experts), or ``"auto"``: bag with fewer than
    ``BAG_BELOW_SLOTS_PER_EXPERT`` slots per expert or a library of at most
    ``BAG_MAX_LIBRARY_BYTES`` when the layouts fit (token order), else grouped (loop where
    ``torch._grouped_mm`` is missing or the shapes are unaligned); ``"native"`` forces
    the native kernel (a ValueError where it cannot run).  With per-example
    candidate experts (tokens of one example share a few experts) pass ``"bag"``.
    out: optional ``[T, d_out]`` tensor in x's dtype (e.g. the frozen layer's ``W x + b``)
    that the result is added into in place and returned; saves a zero buffer and an
    addition (autograd-safe: ``F.linear`` does not keep its output for backward).
    On CPU the grouped and loop kernels run with ``CPU_DISPATCH_THREADS`` intra-op threads.
    """
    if out is None:
        out = x.new_zeros(expert_idx.shape[0], lora_B.shape[1])  # [T, d_out]
    return _dispatch_into(out, x, expert_idx, weights, lora_A, lora_B, scale, kernel)


def _dispatch_into(
    out: Tensor,
    x: Tensor,
    expert_idx: Tensor,
    weights: Tensor,
    lora_A: Tensor,
    lora_B: Tensor,
    scale: Tensor,
    kernel: str,
) -> Tensor:
    """Body of :func:`lora_dispatch`: checks, then the kernel choice."""
    if kernel not in KERNELS:
        raise ValueError(f"unknown dispatch kernel {kernel!r}; use one of {KERNELS}")
    _check_operands(x, expert_idx, weights, lora_A, lora_B, scale)
    if expert_idx.numel() == 0:
        return out
    if kernel == "bag":
        return _token_order_path(out, x, expert_idx, weights, lora_A, lora_B, scale)
    if kernel in ("auto", "native") and native_fits(out, x, weights, lora_A, lora_B, scale):
        if kernel == "auto" and expert_idx.numel() < lora_A.shape[0] * BAG_BELOW_SLOTS_PER_EXPERT:
            return native_token_dispatch_into(out, x, expert_idx, weights, lora_A, lora_B, scale)  # sparse: no sort
        return native_dispatch_into(out, x, expert_idx, weights, lora_A, lora_B, scale)
    if kernel == "native":
        raise ValueError(
            "kernel='native' needs float32 CPU tensors, d_in and d_out multiples of 8, r a multiple of 4 (<= 256), "
            "B stored as a transposed contiguous [N, r, d_out], no gradient, and a machine that can build the kernel "
            "(x86-64 with AVX2/FMA and a C compiler; see glider/moe/native_kernel.py). Use kernel='auto'."
        )
    if kernel == "auto" and _prefers_bag(expert_idx, lora_A, lora_B):
        return _bag_path(out, x, expert_idx, weights, lora_A, lora_B, scale)
    with cpu_threads(CPU_DISPATCH_THREADS, x.device):
        return _sorted_path(out, x, expert_idx, weights, lora_A, lora_B, scale, kernel)


def prefers_token_order(n_slots: int, n_experts: int, library_bytes: int) -> bool:
    """Token order (no sort) for sparse routing or a cache-sized library; sorted by expert otherwise."""
    return n_slots < n_experts * BAG_BELOW_SLOTS_PER_EXPERT or library_bytes <= BAG_MAX_LIBRARY_BYTES


def _prefers_bag(expert_idx: Tensor, lora_A: Tensor, lora_B: Tensor) -> bool:
    """The "auto" rule: token-order kernels for sparse routing or a cache-sized library, if they fit."""
    n_experts, rank, d_in = lora_A.shape
    library_bytes = n_experts * rank * (d_in + lora_B.shape[1]) * lora_A.element_size()
    return prefers_token_order(expert_idx.numel(), n_experts, library_bytes) and bag_kernel_fits(lora_A, lora_B)


def _sorted_path(
    out: Tensor,
    x: Tensor,
    expert_idx: Tensor,
    weights: Tensor,
    lora_A: Tensor,
    lora_B: Tensor,
    scale: Tensor,
    kernel: str,
) -> Tensor:
    """Slots sorted by expert, two segment products per used expert, scatter-add."""
    n_experts = lora_A.shape[0]
    k = expert_idx.shape[1]
    flat_expert = expert_idx.reshape(-1)  # [S], S = T * k
    sorted_expert, order = flat_expert.sort()  # [S], [S]; -1 slots first
    # bin 0 counts the "no expert" slots, bin e + 1 the slots of expert e
    counts = torch.bincount(flat_expert + 1, minlength=n_experts + 1)  # [N + 1]
    if counts.numel() != n_experts + 1:
        raise ValueError(f"expert_idx holds ids >= {n_experts}, the number of experts in lora_A")
    n_idle = int(counts[0])
    if n_idle:
        order, sorted_expert = order[n_idle:], sorted_expert[n_idle:]
        if order.numel() == 0:
            return out
    token = order // k if k > 1 else order  # [S'] token of each sorted slot
    coef = weights.reshape(-1)[order] * scale[sorted_expert]  # [S'] w * s
    plan = plan_segments(counts[1:])

    rows = x.index_select(0, token)  # [S', d_in]
    hidden = segment_linear(rows, lora_A, plan, kernel)  # [S', r]
    hidden = hidden * coef.to(hidden.dtype).unsqueeze(1)  # [S', r]
    slot_out = segment_linear(hidden, lora_B, plan, kernel)  # [S', d_out]
    return out.index_add_(0, token, slot_out)  # [T, d_out]


def _token_order_path(
    out: Tensor, x: Tensor, expert_idx: Tensor, weights: Tensor, lora_A: Tensor, lora_B: Tensor, scale: Tensor
) -> Tensor:
    """Token order: the native token-order kernel where it can run, else the embedding-bag kernels."""
    if native_fits(out, x, weights, lora_A, lora_B, scale):
        return native_token_dispatch_into(out, x, expert_idx, weights, lora_A, lora_B, scale)
    return _bag_path(out, x, expert_idx, weights, lora_A, lora_B, scale)


def _bag_path(
    out: Tensor, x: Tensor, expert_idx: Tensor, weights: Tensor, lora_A: Tensor, lora_B: Tensor, scale: Tensor
) -> Tensor:
    """Token-order dispatch on the embedding-bag kernels (see bag_kernels.py)."""
    lowest, highest = torch.aminmax(expert_idx)
    if int(highest) >= lora_A.shape[0] or int(lowest) < -1:
        raise ValueError(f"expert_idx holds ids >= {lora_A.shape[0]}, the number of experts in lora_A, or < -1")
    active = expert_idx >= 0  # [T, k]
    expert = expert_idx.clamp(min=0)  # [T, k] idle slots point at expert 0 with coef 0
    coef = (weights * scale[expert] * active).to(x.dtype)  # [T, k]
    return bag_dispatch_into(out, x, expert, coef, lora_A, lora_B)


def _check_operands(
    x: Tensor, expert_idx: Tensor, weights: Tensor, lora_A: Tensor, lora_B: Tensor, scale: Tensor
) -> None:
    """Shapes and dtypes of the dispatch operands (Python-side checks only, no sync)."""
    n_experts, rank, d_in = lora_A.shape
    if x.dim() != 2 or x.shape[1] != d_in or weights.shape != expert_idx.shape or expert_idx.dim() != 2:
        raise ValueError(
            f"lora_dispatch wants x [T, d_in={d_in}], expert_idx and weights [T, k]; got x {tuple(x.shape)}, "
            f"expert_idx {tuple(expert_idx.shape)}, weights {tuple(weights.shape)}"
        )
    if lora_B.shape[0] != n_experts or lora_B.shape[2] != rank or scale.shape != (n_experts,):
        raise ValueError(
            f"lora_B must be [N={n_experts}, d_out, r={rank}] and scale [N]; got {tuple(lora_B.shape)}, {tuple(scale.shape)}"
        )
    if lora_A.dtype != x.dtype or lora_B.dtype != x.dtype:
        raise ValueError(
            f"x is {x.dtype} but lora_A/lora_B are {lora_A.dtype}/{lora_B.dtype}: cast the expert weights "
            "to the activation dtype once, when the layer is built"
        )


def lora_loop_reference(
    x: Tensor,
    expert_idx: Tensor,
    weights: Tensor,
    lora_A: Tensor,
    lora_B: Tensor,
    scale: Tensor,
) -> Tensor:
    """Same contract as :func:`lora_dispatch`, computed the plain way.

    For every expert ``e`` in ``0..N-1``: gather the (token, slot) pairs routed to it,
    ``y = (w * s[e]) * B[e] @ (A[e] @ x)`` on them, scatter-add into the output.
    The oracle of the tests and the baseline of ``benchmarks/moe_layer.py``.
    """
    n_tokens = x.shape[0]
    out = x.new_zeros(n_tokens, lora_B.shape[1])  # [T, d_out]
    for expert in range(lora_A.shape[0]):
        token, slot = (expert_idx == expert).nonzero(as_tuple=True)  # [n_e], [n_e]
        if token.numel() == 0:
            continue
        coef = (weights[token, slot] * scale[expert]).to(x.dtype)  # [n_e]
        hidden = x[token] @ lora_A[expert].T  # [n_e, r]
        out.index_add_(0, token, (hidden @ lora_B[expert].T) * coef.unsqueeze(1))
    return out
