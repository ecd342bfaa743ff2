"""Speed of the routed MoE-LoRA layer (the class the model uses) against the bare linear layer.

    python benchmarks/moe_layer.py [--device cuda|cpu] [--quick] [--threads 1 --clock thread]

For N experts (8, 36, 166, 1000), top-k (1, 2) and tokens (128, 1024), plus N=1000 with
16 candidates per example, times three variants of one module's forward
(d_in = d_out = 2048, r = 16, examples of 128 tokens, random weights):

- ``bare``:   ``F.linear(x, W, b)``;
- ``routed``: :class:`glider.moe.layer.MoELoRALinear` with a Phatgoose router (its
              :class:`~glider.routers.router.ModuleRouter`, top-k) and its
              :class:`~glider.moe.bank.ExpertBank`, inside a routing context (with candidates:
              random global scores pick each example's 16);
- ``loop``:   bare + the same router + the plain per-expert loop
              (``tests/moe/reference.py``: for every expert, find its slots, two matmuls, scatter-add).

``--threads 1 --clock thread`` times one thread's CPU time (``time.thread_time``), which
other processes on a shared machine inflate least; the default is wall-clock time. Variants
are interleaved (shuffled each repetition) and the table reports, for each pair, the median
over repetitions of the time ratio within a repetition (``bare ms``: the median bare time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import machine_line, paired_ratio, sample_times

from glider.moe.bank import ExpertBank
from glider.moe.context import RoutingContext
from glider.moe.layer import MoELoRALinear
from glider.routers import build_router
from tests.moe.reference import lora_loop_reference

D_IN = D_OUT = 2048
RANK = 16
EXAMPLE_LEN = 128
CANDIDATES = 16
GRID = [(n, k, t) for n in (8, 36, 166, 1000) for k in (1, 2) for t in (128, 1024)]


def make_layer(n_experts: int, k: int, candidates: bool, device: torch.device, gen: torch.Generator,
               dtype: torch.dtype = torch.float32) -> MoELoRALinear:
    """One adapted module with N random experts and Phatgoose gates, as the model holds it."""
    def randn(*shape: int, std: float = 1.0) -> Tensor:
        return torch.randn(*shape, generator=gen) * std

    base = torch.nn.Linear(D_IN, D_OUT)
    with torch.no_grad():
        base.weight.copy_(randn(D_OUT, D_IN, std=D_IN**-0.5))
        base.bias.copy_(randn(D_OUT, std=0.01))
    router = build_router("phatgoose", local=["phatgoose"], global_scorers=["uniform"] if candidates else [], top_k=k,
                          candidates=CANDIDATES if candidates else None)
    bank = ExpertBank(randn(n_experts, RANK, D_IN, std=D_IN**-0.5), randn(n_experts, RANK, D_OUT, std=0.02),
                      torch.full((n_experts,), 1.0 / RANK))
    layer = MoELoRALinear(base, "module", bank, router.bind_module("module", {"gate": randn(n_experts, D_IN)}), RoutingContext())
    return layer.to(device, dtype).eval()


def loop_forward(layer: MoELoRALinear, x: Tensor) -> Tensor:
    """The same layer with the plain per-expert loop in place of the bank."""
    idx, w = layer.router.route(x, layer.context)
    bank = layer.experts
    return layer.base(x) + lora_loop_reference(x, idx, w, bank.lora_A, bank.lora_B, bank.scale)


def run(device: torch.device, repeats: int, clock: Callable[[], float]) -> list[str]:
    gen = torch.Generator().manual_seed(0)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    rows = ["| N | k | cand. | tokens | bare ms | routed / bare | loop / bare | routed / loop |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n_experts, k, n_tokens, n_cand in [(n, k, t, None) for n, k, t in GRID] + [(1000, 2, 1024, CANDIDATES)]:
        layer = make_layer(n_experts, k, n_cand is not None, device, gen)
        x = torch.randn(n_tokens, D_IN, generator=gen).to(device)
        examples = n_tokens // EXAMPLE_LEN
        bias = candidates = None
        if n_cand is not None:
            bias = torch.randn(examples, n_experts, generator=gen).to(device)
            candidates = bias.topk(n_cand, dim=-1).indices  # [B, M]
        variants = {
            "bare": lambda: F.linear(x, layer.base.weight, layer.base.bias),
            "routed": lambda: layer(x),
            "loop": lambda: loop_forward(layer, x),
        }
        with torch.inference_mode(), layer.context.batch(examples, bias=bias, candidates=candidates):
            samples = sample_times(variants, repeats, sync, clock)
        rows.append(
            f"| {n_experts} | {k} | {n_cand or '-'} | {n_tokens} | {statistics.median(samples['bare']) * 1e3:.1f} "
            f"| {paired_ratio(samples, 'routed', 'bare'):.2f} | {paired_ratio(samples, 'loop', 'bare'):.2f} "
            f"| {paired_ratio(samples, 'routed', 'loop'):.2f} |"
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of --repeats")
    parser.add_argument("--repeats", type=int, default=31, help="timed repetitions per variant (median)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--clock", choices=["wall", "thread"], default="wall",
                        help="thread: CPU time of one thread (needs --threads 1)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.clock == "thread" and (device.type != "cpu" or torch.get_num_threads() != 1):
        parser.error("--clock thread measures one CPU thread: use it with --device cpu --threads 1")
    clock = time.thread_time if args.clock == "thread" else time.perf_counter
    repeats = 3 if args.quick else args.repeats
    print(machine_line(device))
    print(f"d_in = d_out = {D_IN}, r = {RANK}, examples of {EXAMPLE_LEN} tokens, {repeats} repetitions, "
          f"medians of {args.clock}-clock time\n")
    rows = run(device, repeats, clock)
    print("\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
