"""Speed of the routed MoE-LoRA layer forward against the bare linear layer.

    python benchmarks/moe_layer.py [--device cuda|cpu] [--quick]

For N experts (8, 36, 166, 1000), top-k (1, 2) and tokens (128, 1024), plus N=1000 with
16 candidates per example, times three variants of one module's forward
(d_in = d_out = 2048, r = 16, examples of 128 tokens):

- ``bare``:   ``F.linear(x, W, b)``
- ``routed``: bare + Phatgoose local logits + softmax + top-k + renormalise + dispatch
              (accumulating into the bare output). With ``--kernel auto`` (default) on a
              CPU that builds the native kernels: what the MoE layer runs, the GEMM
              ``x K^T`` + one native call (glider/moe/native_routed.py: router, top-k and
              dispatch in C); with candidates, or ``--kernel grouped|bag|native``, ATen
              LN + logits + top-k and :func:`glider.moe.dispatch.lora_dispatch` with that kernel
- ``loop``:   the same with :func:`glider.moe.dispatch.lora_loop_reference`
              (loop over all N experts, gather the tokens routed to each)
- ``routed_all_threads`` (CPU only): ``routed`` with top-k and the grouped dispatch on
              all intra-op threads instead of ``CPU_DISPATCH_THREADS`` (shows the cost of
              fork/join per small op on shared cores)

``--threads 1 --clock thread`` times one thread's CPU time (``time.thread_time``), which
other processes on a shared machine do not inflate; the default is wall-clock time.

Variants are interleaved (shuffled each repetition) and the table reports, for each pair,
the median over repetitions of the time ratio within a repetition (``bare ms`` is the
median bare time): RATIOS measured in one run, which is what transfers between machines.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import machine_line, paired_ratio, sample_times

import glider.moe.dispatch as dispatch_module
from glider.moe.cpu_threads import cpu_threads
from glider.moe.dispatch import lora_dispatch, lora_loop_reference
from glider.moe.native_route import PhatgooseKeys
from glider.moe.native_routed import NativeRoutedModule
from glider.moe.routing_math import (
    LN_EPS,
    candidate_logits,
    candidates_to_experts,
    layer_norm_plain,
    normalize_gates,
    topk_route,
)

D_IN = D_OUT = 2048
RANK = 16
EXAMPLE_LEN = 128
CANDIDATES = 16
GRID = [(n, k, t) for n in (8, 36, 166, 1000) for k in (1, 2) for t in (128, 1024)]

@dataclass
class Module:
    """One adapted linear module with its expert library (random weights)."""

    weight: Tensor  # [d_out, d_in]
    bias: Tensor  # [d_out]
    gates_normed: Tensor  # [N, d_in]  LN(g) / sqrt(d_in)
    lora_A: Tensor  # [N, r, d_in]
    lora_B: Tensor  # [N, d_out, r]
    scale: Tensor  # [N]


def make_module(n_experts: int, device: torch.device, gen: torch.Generator) -> Module:
    def randn(*shape: int, std: float = 1.0) -> Tensor:
        return (torch.randn(*shape, generator=gen) * std).to(device)

    return Module(
        weight=randn(D_OUT, D_IN, std=D_IN**-0.5),
        bias=randn(D_OUT, std=0.01),
        gates_normed=normalize_gates(randn(n_experts, D_IN)),
        lora_A=randn(n_experts, RANK, D_IN, std=D_IN**-0.5),
        # B stored as a transposed view of a contiguous [N, r, d_out] buffer (see dispatch.py)
        lora_B=randn(n_experts, RANK, D_OUT, std=0.02).transpose(1, 2),
        scale=torch.full((n_experts,), 1.0 / RANK, device=device),
    )


def route(x: Tensor, mod: Module, k: int, candidate_idx: Tensor | None) -> tuple[Tensor, Tensor]:
    """Local router: ``LN(x)``, logits over all experts or the example's candidates, top-k."""
    x_norm = layer_norm_plain(x)  # [T, d_in]
    if candidate_idx is None:
        logits = F.linear(x_norm, mod.gates_normed)  # [T, N]
        return topk_route(logits, k)  # [T, k], [T, k]
    n_examples = candidate_idx.shape[0]
    logits = candidate_logits(x_norm.view(n_examples, -1, D_IN), mod.gates_normed, candidate_idx)  # [B, L, M]
    local_idx, weights = topk_route(logits, k)  # [B, L, k]
    return candidates_to_experts(local_idx, candidate_idx).view(-1, k), weights.view(-1, k)


KERNEL = "auto"  # the dispatch kernel of ``routed`` without candidates (--kernel)


def native_module(mod: Module, k: int) -> NativeRoutedModule | None:
    """The MoE layer's one-call native forward for this module (None where it cannot run)."""
    if mod.lora_A.device.type != "cpu" or not NativeRoutedModule.shapes_fit(mod.lora_A, mod.lora_B.transpose(1, 2), k):
        return None
    keys = PhatgooseKeys.from_prepared(mod.gates_normed, LN_EPS)
    native = NativeRoutedModule(keys, 1.0, k, mod.lora_A, mod.lora_B.transpose(1, 2), mod.scale)
    return native if native.fits(mod.lora_A) else None


def routed_forward(x: Tensor, mod: Module, k: int, candidate_idx: Tensor | None, small_op_threads: int | None,
                   native: NativeRoutedModule | None = None) -> Tensor:
    """Bare linear + local router + top-k + dispatch accumulating into the bare output.

    With ``native`` (float32 CPU, no candidates, ``--kernel auto``): what the MoE layer
    runs there, ``x K^T`` plus one native call (glider/moe/native_routed.py).  Otherwise:

    The GEMMs (bare layer, router logits) and LN use all threads; softmax, top-k and the
    dispatch's grouped path run on ``small_op_threads`` (see glider/moe/cpu_threads.py).  With
    candidates the dispatch takes the token-order bag kernel (each example's tokens share
    its few candidates), as ``lora_dispatch`` recommends.
    """
    if native is not None and candidate_idx is None:
        base = F.linear(x, mod.weight, mod.bias)  # [T, d_out]
        native(x, base, None, None, None)
        return base
    x_norm = layer_norm_plain(x)  # [T, d_in]
    if candidate_idx is None:
        logits = F.linear(x_norm, mod.gates_normed)  # [T, N]
    else:
        n_examples = candidate_idx.shape[0]
        logits = candidate_logits(x_norm.view(n_examples, -1, D_IN), mod.gates_normed, candidate_idx)  # [B, L, M]
    base = F.linear(x, mod.weight, mod.bias)  # [T, d_out]
    saved = dispatch_module.CPU_DISPATCH_THREADS
    dispatch_module.CPU_DISPATCH_THREADS = small_op_threads
    try:
        with cpu_threads(small_op_threads, x.device):
            expert_idx, weights = topk_route(logits, k)  # [T, k] or [B, L, k]
            if candidate_idx is not None:
                expert_idx = candidates_to_experts(expert_idx, candidate_idx).view(-1, k)
                weights = weights.view(-1, k)
            kernel = KERNEL if candidate_idx is None else "bag"
            return lora_dispatch(x, expert_idx, weights, mod.lora_A, mod.lora_B, mod.scale, kernel=kernel, out=base)
    finally:
        dispatch_module.CPU_DISPATCH_THREADS = saved


def loop_forward(x: Tensor, mod: Module, k: int, candidate_idx: Tensor | None) -> Tensor:
    """The same layer with the plain per-expert loop."""
    expert_idx, weights = route(x, mod, k, candidate_idx)
    base = F.linear(x, mod.weight, mod.bias)  # [T, d_out]
    return base + lora_loop_reference(x, expert_idx, weights, mod.lora_A, mod.lora_B, mod.scale)


def run(device: torch.device, repeats: int, clock: Callable[[], float]) -> list[str]:
    gen = torch.Generator().manual_seed(0)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    all_threads = device.type == "cpu" and torch.get_num_threads() > 1
    rows = [
        "| N | k | cand. | tokens | bare ms | routed / bare | loop / bare | routed / loop |"
        + (" routed, all threads / bare |" if all_threads else ""),
        "|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if all_threads else ""),
    ]
    grid = [(n, k, t, None) for n, k, t in GRID] + [(1000, 2, 1024, CANDIDATES)]
    modules: dict[int, Module] = {}
    for n_experts, k, n_tokens, n_cand in grid:
        mod = modules.setdefault(n_experts, make_module(n_experts, device, gen))
        x = torch.randn(n_tokens, D_IN, generator=gen).to(device)
        cand = None
        if n_cand is not None:
            global_scores = torch.randn(n_tokens // EXAMPLE_LEN, n_experts, generator=gen).to(device)
            cand = global_scores.topk(n_cand, dim=-1).indices  # [B, M]
        native = native_module(mod, k) if KERNEL == "auto" else None
        variants = {
            "bare": lambda: F.linear(x, mod.weight, mod.bias),
            "routed": lambda: routed_forward(x, mod, k, cand, dispatch_module.CPU_DISPATCH_THREADS, native),
            "loop": lambda: loop_forward(x, mod, k, cand),
        }
        if all_threads:
            variants["routed_all"] = lambda: routed_forward(x, mod, k, cand, None)
        with torch.inference_mode():
            samples = sample_times(variants, repeats, sync, clock)
        rows.append(
            f"| {n_experts} | {k} | {n_cand or '-'} | {n_tokens} | {statistics.median(samples['bare']) * 1e3:.1f} "
            f"| {paired_ratio(samples, 'routed', 'bare'):.2f} | {paired_ratio(samples, 'loop', 'bare'):.2f} "
            f"| {paired_ratio(samples, 'routed', 'loop'):.2f} |"
            + (f" {paired_ratio(samples, 'routed_all', 'bare'):.2f} |" if all_threads else "")
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of --repeats")
    parser.add_argument("--repeats", type=int, default=31, help="timed repetitions per variant (median)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--kernel", default="auto", choices=["auto", "grouped", "bag", "native"],
                        help="dispatch kernel of `routed` (auto: bag / native / grouped as lora_dispatch chooses)")
    parser.add_argument(
        "--clock", choices=["wall", "thread"], default="wall", help="thread: CPU time of one thread (needs --threads 1)"
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.clock == "thread" and (device.type != "cpu" or torch.get_num_threads() != 1):
        parser.error("--clock thread measures one CPU thread: use it with --device cpu --threads 1")
    clock = time.thread_time if args.clock == "thread" else time.perf_counter
    repeats = 3 if args.quick else args.repeats
    global KERNEL
    KERNEL = args.kernel
    print(machine_line(device))
    print(
        f"d_in = d_out = {D_IN}, r = {RANK}, examples of {EXAMPLE_LEN} tokens, kernel {KERNEL}, {repeats} repetitions, "
        f"medians of {args.clock}-clock time\n"
    )
    rows = run(device, repeats, clock)
    print("\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
