"""Phatgoose top-k routing of all tokens in one GEMM and one native call (inference, float32 CPU).

    z_i = w_local * LN(x) . k_i + bias_{b,i},   k_i = LN(g_i) / sqrt(d_in)
    LN(x) . k_i = rstd(x) * (x . k_i - mean(x) * sum_d k_i)             (exact)
    (idx, w) = top-k of softmax(z), w_j = p_j / (sum_topk p + 1e-6)

The right-hand form needs no ``LN(x)`` tensor: one GEMM ``x K^T`` on the raw tokens (keys
padded to a multiple of 8 rows, which MKL runs faster than 166 or 36 rows), then
``native/route_topk.c`` computes each token's mean and variance, the logits, the global
bias of its example, the softmax and the top-k, with no other ATen call. The same result
as ``PhatgooseScorer.logits`` + bias + ``TopK`` (tests: to 1e-5), for routers whose only
local scorer is Phatgoose, with top-k selection and no candidates; everything else takes
the ATen path (:meth:`glider.moe.layer.MoELoRALinear.route`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from glider.moe.native_kernel import native_kernel

MAX_EXPERTS = 4096  # the kernel's per-token logit buffer
MAX_K = 64


@dataclass(frozen=True)
class PhatgooseKeys:
    """One module's prepared Phatgoose keys in the layout of the native router."""

    padded: Tensor  # [N_pad, d_in] float32: k_i for i < N, zero rows after
    key_sums: Tensor  # [N] float32: sum_d k_i (0 up to rounding; kept for exactness)
    num_experts: int
    eps: float

    @classmethod
    def from_prepared(cls, keys: Tensor, eps: float) -> "PhatgooseKeys":
        """From ``LN(g_i) / sqrt(d_in)`` keys ``[N, d_in]`` (``PhatgooseScorer.prepare_keys``)."""
        n, d_in = keys.shape
        padded = keys.new_zeros(-(-n // 8) * 8, d_in, dtype=torch.float32)
        padded[:n] = keys.float()
        return cls(padded, keys.double().sum(dim=-1).float(), n, eps)


def native_route_fits(x: Tensor, keys: PhatgooseKeys, k: int) -> bool:
    """Whether :func:`phatgoose_topk` can run: float32 CPU, no gradient, sizes the kernel holds."""
    if x.device.type != "cpu" or x.dtype != torch.float32 or keys.padded.device.type != "cpu":
        return False
    if torch.is_grad_enabled() and x.requires_grad:
        return False
    if keys.num_experts > MAX_EXPERTS or not 1 <= k <= min(MAX_K, keys.num_experts):
        return False
    return native_kernel() is not None


def router_inputs(x: Tensor, keys: PhatgooseKeys, bias: Tensor | None) -> tuple[Tensor, Tensor | None, int]:
    """The router kernel's inputs: ``x K^T [T, N_pad]``, the bias as float32 ``[B, N]``, and tokens per bias row."""
    n_tokens = x.shape[0]
    xk = F.linear(x, keys.padded)  # [T, N_pad]
    if bias is None:
        return xk, None, 1
    if bias.shape[-1] != keys.num_experts or n_tokens % bias.shape[0]:
        raise ValueError(f"bias {tuple(bias.shape)} does not fit {n_tokens} tokens and {keys.num_experts} experts")
    return xk, bias.to(torch.float32).contiguous(), n_tokens // bias.shape[0]


def phatgoose_topk(
    x: Tensor, keys: PhatgooseKeys, k: int, weight: float = 1.0, bias: Tensor | None = None
) -> tuple[Tensor, Tensor] | None:
    """``(expert_idx [T, k] long, weights [T, k] float32)`` for tokens ``x [T, d_in]``.

    bias: ``[B, N]`` per-example global scores (already times alpha; -inf excludes an
    expert) for example-major tokens (``T / B`` consecutive tokens per example), or None.
    Returns None when a logit is NaN or +inf or a token has every expert at -inf: the
    caller then runs the ATen path, whose check raises the router's error.
    Call :func:`native_route_fits` first.
    """
    lib = native_kernel()
    if lib is None:
        raise RuntimeError("the native router kernel is not available on this machine")
    x = x.contiguous()
    n_tokens, d_in = x.shape
    xk, bias, rows_per_bias = router_inputs(x, keys, bias)
    idx = torch.empty(n_tokens, k, dtype=torch.int64)
    w = torch.empty(n_tokens, k, dtype=torch.float32)
    status = lib.phatgoose_topk_f32(
        x.data_ptr(), n_tokens, d_in, xk.data_ptr(), xk.shape[1], keys.key_sums.data_ptr(), keys.num_experts,
        keys.eps, float(weight), bias.data_ptr() if bias is not None else None, rows_per_bias, None, k,
        idx.data_ptr(), w.data_ptr(),
    )
    if status == 3:
        raise ValueError(f"the native router takes at most {MAX_EXPERTS} experts and 1 <= k <= {MAX_K}")
    if status == 5:
        raise MemoryError("the native router could not allocate its logit buffer")
    return (idx, w) if status == 0 else None
