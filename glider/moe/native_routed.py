"""One routed module's inference in one GEMM and one native call (Phatgoose + global bias, top-k).

    z_i = w_local * LN(x) . k_i + bias_{b,i};   (idx, w) = top-k of softmax(z), renormalised
    y  += sum_j w_j s_e B_e A_e x                (e = idx_j)
    + the batch's routing statistics (sum of w per (task, expert), real tokens per task)

Padding tokens (the batch's registered token mask) get no expert: their rows keep the
frozen layer's output, which nothing downstream reads (attention masks them, scoring
skips them), and no routing cost is paid for them.

This is what :meth:`glider.moe.layer.MoELoRALinear.forward` does with ``route``,
``_record`` and ``dispatch``, as the GEMM ``x K^T`` (:func:`glider.moe.native_route.router_inputs`)
plus ``native/routed_layer.c``: no per-op Python and ATen cost, which at t5_tiny sizes
(d_model 64) is most of the routed time. Same routing, statistics and output as the ATen
path (tests: to 1e-5). It applies to inference on float32 CPU tensors, for routers whose
only local scorer is Phatgoose with top-k selection and no candidates; everywhere else,
and for the error message of a non-finite logit, the layer takes the ATen path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from glider.moe.context import RoutingContext
from glider.moe.native_kernel import MAX_RANK, native_kernel
from glider.moe.native_route import MAX_EXPERTS, MAX_K, PhatgooseKeys, router_inputs
from glider.moe.stats import RoutingStats


# Slots are counting-sorted by expert (each expert's weights read once per three tokens) for a
# library larger than this with at least one slot per expert; a small library (it stays in
# L2) or sparse routing goes in token order, with no sort (measured: benchmarks/README.md).
SORT_ABOVE_LIBRARY_BYTES = 2**20
SORT_FROM_SLOTS_PER_EXPERT = 1.0


@dataclass(frozen=True)
class StatsTarget:
    """Where one module's routing statistics of the batch go."""

    stats: RoutingStats
    module: str
    token_task: Tensor  # [T] int64
    repeat: float = 1.0  # each token stands for this many identical rows (routed once)


@dataclass
class NativeRoutedModule:
    """A module's keys and stacked experts in the native kernel's layout (views, no copies)."""

    keys: PhatgooseKeys = field(repr=False)
    weight: float  # the Phatgoose scorer's weight in the router
    k: int
    lora_A: Tensor = field(repr=False)  # [N, r, d_in] float32 contiguous
    lora_Bt: Tensor = field(repr=False)  # [N, r, d_out] float32 contiguous
    scale: Tensor = field(repr=False)  # [N] float32

    @staticmethod
    def shapes_fit(lora_A: Tensor, lora_Bt: Tensor, k: int) -> bool:
        """Whether the kernel takes these sizes (d_in, d_out multiples of 8, r of 4, N and k bounded)."""
        n, rank, d_in = lora_A.shape
        d_out = lora_Bt.shape[-1]
        return (d_in % 8 == 0 and d_out % 8 == 0 and rank % 4 == 0 and rank <= MAX_RANK
                and n <= MAX_EXPERTS and 1 <= k <= min(MAX_K, n))

    def fits(self, x: Tensor) -> bool:
        """Whether this call can run natively (CPU float32, no gradient, the kernel built)."""
        return (x.device.type == "cpu" and x.dtype == torch.float32 and not (torch.is_grad_enabled() and x.requires_grad)
                and native_kernel() is not None)

    def __call__(
        self, x: Tensor, out: Tensor, bias: Tensor | None, mask: Tensor | None, stats: StatsTarget | None
    ) -> tuple[Tensor, Tensor] | None:
        """``out += routed experts`` in place; returns ``(idx [T, k], w [T, k])``, or None
        (nothing changed) when a logit is not finite.

        x: ``[T, d_in]`` contiguous tokens, example-major when ``bias [B, N]`` is given;
        out: ``[T, d_out]`` contiguous (the frozen layer's output); mask: ``[T]`` bool of
        real tokens or None: padding tokens are not routed (expert -1, weight 0) and keep
        the frozen layer's output.
        """
        lib = native_kernel()
        n_tokens, d_in = x.shape
        n_experts, rank, _ = self.lora_A.shape
        xk, bias, rows_per_bias = router_inputs(x, self.keys, bias)
        idx = torch.empty(n_tokens, self.k, dtype=torch.int64)
        w = torch.empty(n_tokens, self.k, dtype=torch.float32)
        sums = counts = task = None
        n_tasks, repeat = 0, 1.0
        if stats is not None:
            repeat = stats.repeat
            sums, counts = stats.stats.buffers(stats.module)
            task, n_tasks = stats.token_task, len(stats.stats.task_names)
        if mask is not None:
            mask = mask.to(torch.bool).contiguous()
        library_bytes = self.lora_A.numel() * 4 + self.lora_Bt.numel() * 4
        sorted_slots = library_bytes > SORT_ABOVE_LIBRARY_BYTES and n_tokens * self.k >= n_experts * SORT_FROM_SLOTS_PER_EXPERT
        status = lib.routed_lora_f32(
            x.data_ptr(), n_tokens, d_in, xk.data_ptr(), xk.shape[1], self.keys.key_sums.data_ptr(), n_experts,
            self.keys.eps, self.weight, bias.data_ptr() if bias is not None else None, rows_per_bias, self.k,
            self.lora_A.data_ptr(), self.lora_Bt.data_ptr(), self.scale.data_ptr(), out.shape[1], rank, int(sorted_slots),
            out.data_ptr(), idx.data_ptr(), w.data_ptr(),
            task.data_ptr() if task is not None else None, mask.data_ptr() if mask is not None else None, n_tasks,
            sums.data_ptr() if sums is not None else None, counts.data_ptr() if counts is not None else None, repeat,
        )
        if status in (1, 2):
            return None
        if status == 4:
            raise ValueError(f"routing statistics of module {stats.module}: a task id outside 0..{n_tasks - 1}")
        if status:
            raise RuntimeError(f"the native routed kernel failed with status {status} (3: sizes, 5: out of memory)")
        return idx, w


def native_forward(
    native: NativeRoutedModule, ctx: RoutingContext, module: str, flat: Tensor, out: Tensor, rows: int, seq: int
) -> bool:
    """One routed module's forward on this batch (the routing context's bias, masks and
    statistics) into ``out``; False (nothing done) on a non-finite logit.

    When the rows of every example are identical copies (rank classification repeats the
    encoder output once per answer choice, so the cross-attention keys and values see C
    equal copies), the first copy is routed once and its expert delta added to all.
    """
    if ctx.bias is not None:
        ctx.repeat_factor(rows)  # raises unless rows are example-major
    copies = ctx.repeat_factor(rows) if ctx.batch_size else 1
    if copies > 1 and copies_identical(flat, ctx.batch_size, copies):
        return forward_first_copy(native, ctx, module, flat, out, rows, seq, copies)
    target = None
    if ctx.stats is not None and ctx.task_ids is not None:
        target = StatsTarget(ctx.stats, module, ctx.token_tasks(rows, seq))
    return native(flat, out, ctx.bias, ctx.token_mask(rows, seq), target) is not None


def copies_identical(flat: Tensor, batch: int, copies: int) -> bool:
    """Whether each example's ``copies`` consecutive row blocks of ``flat`` equal its first."""
    blocks = flat.view(batch, copies, -1)
    last = flat.shape[-1]  # first compare each block's last token (decoder copies differ there): cheap
    if not torch.equal(blocks[:, 1, -last:], blocks[:, 0, -last:]):
        return False
    return torch.equal(blocks[:, 1:], blocks[:, :1].expand(-1, copies - 1, -1))


def forward_first_copy(
    native: NativeRoutedModule, ctx: RoutingContext, module: str, flat: Tensor, out: Tensor, rows: int, seq: int,
    copies: int,
) -> bool:
    """The native forward on each example's first copy; its delta added to every copy."""
    batch = ctx.batch_size
    first = flat.view(batch, copies, -1)[:, 0].reshape(batch * seq, -1)  # [B*seq, d_in]
    mask = ctx.token_mask(rows, seq)
    mask = mask.view(batch, copies, seq)[:, 0].reshape(-1) if mask is not None else None
    target = None
    if ctx.stats is not None and ctx.task_ids is not None:
        tasks = ctx.token_tasks(rows, seq).view(batch, copies, seq)[:, 0].reshape(-1)
        target = StatsTarget(ctx.stats, module, tasks, repeat=float(copies))
    delta = out.new_zeros(batch * seq, out.shape[1])
    if native(first, delta, ctx.bias, mask, target) is None:
        return False
    out.view(batch, copies, -1).add_(delta.view(batch, 1, -1))
    return True
