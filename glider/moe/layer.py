"""MoE-LoRA linear layer: a frozen linear plus N stacked LoRA experts, routed per token.

    y = W x + b + sum_{i in selected} w_i * s_i * B_i A_i x

``w`` comes from the router (local logits of this module + the example's global bias,
then the selection rule). Only the selected experts are computed, by
:func:`glider.moe.dispatch.lora_dispatch`, which adds them straight into the frozen
layer's output ``W x + b`` (no extra buffer). Storage: ``lora_A`` contiguous
``[N, r, d_in]`` and ``lora_Bt`` contiguous ``[N, r, d_out]`` (``lora_B`` is its
``[N, d_out, r]`` view), the layouts both dispatch kernels read without copies.
With candidate pre-selection (``router.candidates``) the local scorers see only each
example's M candidates and the token-order ``bag`` kernel runs (no cost per library
expert). ``merged`` mode adds one precomputed delta ``(mean_i s_i B_i A_i) x``; ``base``
mode adds nothing. Padding tokens (the batch's registered token mask) get no expert: their
rows keep ``W x + b``, which attention masks and scoring skip.

Inference on float32 CPU with a Phatgoose(+ global) top-k router takes one GEMM and one
native call per module (:mod:`glider.moe.native_routed`: routing, statistics and dispatch
together, the same results to 1e-5); everything else takes the ATen path below.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from glider.moe.context import RoutingContext
from glider.moe.dispatch import lora_dispatch
from glider.moe.merged import merged_delta
from glider.moe.native_route import PhatgooseKeys, native_route_fits, phatgoose_topk
from glider.moe.native_routed import NativeRoutedModule, native_forward
from glider.moe.wrapped_linear import WrapsFrozenLinear
from glider.routers.phatgoose import PhatgooseScorer
from glider.routers.router import Router, check_finite
from glider.routers.selection import TopK, TopP


class MoELoRALinear(WrapsFrozenLinear):
    """A frozen ``nn.Linear`` with a routed library of LoRA experts."""

    def __init__(
        self,
        base: nn.Linear,
        module_name: str,
        lora_A: Tensor,  # [N, r, d_in]
        lora_B: Tensor,  # [N, d_out, r]
        scale: Tensor,  # [N]
        keys: dict[str, Tensor],  # per local scorer: [N, d_in] prepared keys
        router: Router,
        context: RoutingContext,
    ) -> None:
        super().__init__()
        n, r, d_in = lora_A.shape
        if d_in != base.in_features or lora_B.shape[1] != base.out_features or lora_B.shape[0] != n:
            raise ValueError(
                f"{module_name}: experts A {tuple(lora_A.shape)} / B {tuple(lora_B.shape)} do not fit "
                f"the linear layer ({base.out_features} x {base.in_features})"
            )
        self.base = base
        self.module_name = module_name
        self.router = router
        self.context = context
        dtype, device = base.weight.dtype, base.weight.device
        self.register_buffer("lora_A", lora_A.to(device, dtype).contiguous(), persistent=False)  # [N, r, d_in]
        self.register_buffer("lora_Bt", lora_B.to(device, dtype).transpose(1, 2).contiguous(), persistent=False)  # [N, r, d_out]
        self.register_buffer("scale", scale.to(device, dtype), persistent=False)
        self.keys = {name: k.to(device) for name, k in keys.items()}
        self._native_keys: PhatgooseKeys | None = None  # built on the first native routing call
        self._native_module: NativeRoutedModule | None | bool = None  # None: not prepared yet; False: not applicable
        self.merged_delta: Tensor | None = None
        if router.mode == "merged":
            self.merged_delta = merged_delta(self.lora_A, self.lora_B, self.scale)

    @property
    def lora_B(self) -> Tensor:
        """The experts' B factors ``[N, d_out, r]`` (a view of the stored ``lora_Bt``)."""
        return self.lora_Bt.transpose(1, 2)

    @property
    def num_experts(self) -> int:
        return self.lora_A.shape[0]

    def extra_repr(self) -> str:
        return f"{self.module_name}: experts={self.num_experts}, rank={self.lora_A.shape[1]}, router={self.router.name}"

    def forward(self, x: Tensor) -> Tensor:
        y = self.base(x)
        mode = self.router.mode
        if mode == "base" or self.num_experts == 0:
            return y
        if mode == "merged":
            return y + F.linear(x, self.merged_delta)
        rows, seq = x.shape[0], (x.shape[1] if x.dim() == 3 else 1)
        flat = x.reshape(-1, x.shape[-1])  # [T, d_in]
        native = self._native()
        if native and self.context.candidates is None and native.fits(flat):
            y = y.contiguous()
            if native_forward(native, self.context, self.module_name, flat.contiguous(), y.view(-1, y.shape[-1]), rows, seq):
                return y
        expert_idx, weights = self.route(flat, rows, seq)  # [T, k]
        self._record(expert_idx, weights, rows, seq)
        real = self.context.token_mask(rows, seq)
        if real is not None:  # padding tokens get no expert (nothing downstream reads their rows)
            expert_idx = expert_idx.masked_fill(~real.to(expert_idx.device)[:, None], -1)
        y = y.contiguous()
        self.dispatch(flat, expert_idx, weights, out=y.view(-1, y.shape[-1]))  # adds into y in place
        return y

    def _native(self) -> NativeRoutedModule | None:
        """The one-call native forward of this module, prepared on first use; None where it does not apply."""
        if self._native_module is None:
            self._native_module = False
            router, keys = self.router, self._phatgoose_keys()
            if keys is not None and isinstance(router.selection, TopK) and self.lora_A.dtype == torch.float32:
                k = min(router.selection.k, self.num_experts)
                if NativeRoutedModule.shapes_fit(self.lora_A, self.lora_Bt, k):
                    self._native_module = NativeRoutedModule(
                        keys, router.local[0][1], k, self.lora_A, self.lora_Bt, self.scale.float().contiguous()
                    )
        return self._native_module or None

    def _phatgoose_keys(self) -> PhatgooseKeys | None:
        """This module's keys in the native router's layout, when the only local scorer is Phatgoose on CPU."""
        if self._native_keys is None:
            if len(self.router.local) != 1 or self.router.mode != "routed":
                return None
            scorer = self.router.local[0][0]
            keys = self.keys.get(scorer.key_name) if isinstance(scorer, PhatgooseScorer) else None
            if keys is None or keys.device.type != "cpu":
                return None
            self._native_keys = PhatgooseKeys.from_prepared(keys, scorer.eps)
            if keys.dtype == torch.float32:  # keep one copy: the ATen path reads a view of the padded keys
                self.keys[scorer.key_name] = self._native_keys.padded[: keys.shape[0]]
        return self._native_keys

    def dispatch(self, flat: Tensor, expert_idx: Tensor, weights: Tensor, out: Tensor | None = None) -> Tensor:
        """``out[t] += sum_j w[t,j] s_e B_e A_e x_t`` over the selected experts only -> [T, d_out].

        Top-p pads every token to the widest token's set with zero weights: those slots
        become -1 (no work). Candidate routing takes the ``bag`` kernel.
        """
        if isinstance(self.router.selection, TopP):
            expert_idx = expert_idx.masked_fill(weights == 0, -1)
        kernel = "bag" if self.context.candidates is not None and self.router.needs_local else "auto"
        return lora_dispatch(
            flat, expert_idx, weights.to(flat.dtype), self.lora_A, self.lora_B, self.scale, kernel=kernel, out=out
        )

    def route(self, flat: Tensor, rows: int, seq: int) -> tuple[Tensor, Tensor]:
        """Selected experts and weights for every token: ([T, k] long, [T, k] float)."""
        ctx, router = self.context, self.router
        bias = ctx.bias  # [B, N] or None
        if not router.needs_local:
            if bias is None:
                raise RuntimeError(f"{self.module_name}: router '{router.name}' needs global scores for the batch")
            check_finite(bias, self.module_name)
            idx, w = router.selection(bias.to(flat.device))  # per example [B, k]
            return ctx.per_token(idx, rows, seq), ctx.per_token(w, rows, seq)
        if ctx.candidates is not None:
            return self._route_candidates(flat, rows, seq)
        native = self._route_native(flat, rows)
        if native is not None:
            return native
        z = router.local_logits(flat, self.keys)  # [T, N]
        if bias is not None:  # tokens are example-major: [B, T/B, N] + [B, 1, N]
            ctx.repeat_factor(rows)  # raises unless rows are example-major
            n = z.shape[-1]
            z = (z.view(bias.shape[0], -1, n) + bias.to(z.device, z.dtype)[:, None, :]).view(-1, n)
        check_finite(z, self.module_name)
        return router.selection(z)

    def _route_native(self, flat: Tensor, rows: int) -> tuple[Tensor, Tensor] | None:
        """Phatgoose (+ global bias) top-k in one GEMM and one native call, where it applies.

        None when it does not (another scorer or selection rule, a gradient, not float32
        CPU, no native kernel) or when a logit is not finite (the ATen path then raises).
        """
        router, bias = self.router, self.context.bias
        keys = self._phatgoose_keys()
        if keys is None or not isinstance(router.selection, TopK):
            return None
        k = min(router.selection.k, self.num_experts)
        if not native_route_fits(flat, keys, k):
            return None
        if bias is not None:
            self.context.repeat_factor(rows)  # raises unless rows are example-major
        return phatgoose_topk(flat, keys, k, router.local[0][1], bias)

    def _route_candidates(self, flat: Tensor, rows: int, seq: int) -> tuple[Tensor, Tensor]:
        """Local scoring and selection among each example's M pre-selected experts only."""
        ctx, router = self.context, self.router
        cand = ctx.candidates.to(flat.device)  # [B, M]
        batch, m = cand.shape
        ctx.repeat_factor(rows)  # raises unless rows are example-major
        tokens_per_example = flat.shape[0] // batch
        x_b = flat.view(batch, tokens_per_example, -1)  # [B, S', d_in]
        z = None
        for scorer, weight in router.local:
            keys = self.keys[scorer.key_name].index_select(0, cand.reshape(-1)).view(batch, m, -1)  # [B, M, d_in]
            l = scorer.logits(x_b, keys)  # [B, S', M]
            z = l * weight if z is None else z + l * weight
        if ctx.bias is not None:
            z = z + ctx.bias.to(z.device, z.dtype).gather(1, cand)[:, None, :]
        z = z.reshape(-1, m)  # [T, M]
        check_finite(z, self.module_name)
        local_idx, w = router.selection(z)  # [T, k] indices into the candidates
        k = local_idx.shape[1]
        return cand.gather(1, local_idx.view(batch, -1)).view(-1, k), w  # [T, k] library ids

    def _record(self, expert_idx: Tensor, weights: Tensor, rows: int, seq: int) -> None:
        ctx = self.context
        if ctx.stats is None or ctx.task_ids is None:
            return
        token_task = ctx.token_tasks(rows, seq)
        ctx.stats.record(self.module_name, expert_idx, weights, token_task, ctx.token_mask(rows, seq))

