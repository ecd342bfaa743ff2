"""Examples per second of routed evaluation against the same backbone without experts.

    python benchmarks/eval_throughput.py --threads 1 --clock thread [--repeats 7] [--experts 36]
    python benchmarks/eval_throughput.py --device cuda --models t5_xl --experts 36 166 --loop

Times one rank-classification batch (``glider.lit.scoring.rank_classification_scores``, the
scoring of the real evaluator) of random-weight backbones (benchmarks/eval_models.py:
``t5_tiny``, ``t5_small``, ``t5_xl`` with t5-xl-lm-adapt's shapes) in these variants,
interleaved in a fresh random order each repetition:

- ``bare``:   the backbone without experts;
- ``routed``: GLIDER over N random experts of the model's rank on every adapted module
              (Phatgoose gates + 3 * instruction scores, top-2) inside ``RoutedSeq2Seq.batch``,
              with the routing statistics the evaluator records (one ``RoutingStats`` over the
              run, as ``RoutedEvaluator`` keeps it): what ``RoutedEvaluator.test_step`` runs;
- ``routed, no stats``: the same without routing statistics;
- with ``--loop``: ``loop``, the routed model with the plain per-expert loop
  (``tests/moe/reference.py``) in place of every expert bank;
- with ``--candidates M``: ``routed`` with ``router.candidates=M``.

Reports examples/second (batch size / median batch time) and median paired time ratios;
routed throughput relative to bare is ``1 / ratio``. On CUDA every timing synchronises, and
the default dtype is bfloat16 (float32 on CPU).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_models import SHAPES, EvalShape, build_backbone, decoder_mask, glider_model, rank_batch
from timing import machine_line, paired_ratio, sample_times

from glider.lit.scoring import rank_classification_scores
from glider.moe.bank import ExpertBank
from glider.moe.stats import RoutingStats
from tests.moe.reference import lora_loop_reference

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
HEADER = ("| model | device, dtype | N | r | routed modules | batch (enc + dec tokens) | bare ex/s | routed ex/s | routed / bare time "
          "| routed / bare throughput | routed, no stats / bare time | loop ex/s | loop / bare time | candidates ex/s | candidates / bare time |")


@contextlib.contextmanager
def loop_banks() -> Iterator[None]:
    """Every expert bank applies its experts with the plain per-expert loop (the reference)."""
    def loop(bank: ExpertBank, x: torch.Tensor, indices: torch.Tensor, weights: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return out.add_(lora_loop_reference(x, indices, weights, bank.lora_A, bank.lora_B, bank.scale))

    real = ExpertBank.forward
    ExpertBank.forward = loop  # type: ignore[method-assign]
    try:
        yield
    finally:
        ExpertBank.forward = real  # type: ignore[method-assign]


def measure(shape: EvalShape, n_experts: int, repeats: int, clock: Callable[[], float], device: torch.device, dtype: torch.dtype,
            loop: bool = False, candidates: int | None = None) -> str:
    """One table row: examples/s of bare, routed (and loop) evaluation and their ratios."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    bare = build_backbone(shape, device=device, dtype=dtype)
    routed = glider_model(bare, n_experts, shape.rank)
    batch, queries = rank_batch(shape, device=device)
    masks = [batch["attention_mask"], decoder_mask(batch)]
    task_ids = torch.zeros(shape.batch_size, dtype=torch.long, device=device)
    stats_of_the_run = RoutingStats(["heldout"], n_experts)  # one per evaluation, as RoutedEvaluator keeps it

    def run_routed(record: bool, n_candidates: int | None = None) -> torch.Tensor:
        routed.router.candidates = n_candidates
        with routed.batch(queries, shape.batch_size, masks=masks, task_ids=task_ids, stats=stats_of_the_run if record else None):
            return rank_classification_scores(routed.model, batch)

    def run_loop() -> torch.Tensor:
        with loop_banks():
            return run_routed(True)

    variants = {"bare": lambda: rank_classification_scores(bare, batch), "routed": lambda: run_routed(True),
                "routed_nostats": lambda: run_routed(False)}
    if loop:
        variants["loop"] = run_loop
    if candidates is not None:
        variants["candidates"] = lambda: run_routed(True, candidates)
    with torch.inference_mode():
        samples = sample_times(variants, repeats, sync, clock)
    per_s = {name: shape.batch_size / statistics.median(t) for name, t in samples.items()}
    ratio = paired_ratio(samples, "routed", "bare")

    def optional(name: str) -> str:
        return f"{per_s[name]:.1f} | {paired_ratio(samples, name, 'bare'):.2f}" if name in samples else "- | -"

    return (
        f"| {shape.name} | {device.type}, {str(dtype).removeprefix('torch.')} | {n_experts} | {shape.rank} | {len(routed.layers)} "
        f"| {shape.batch_size}x{shape.source_len} + {shape.batch_size * shape.choices}x{shape.target_len} "
        f"| {per_s['bare']:.1f} | {per_s['routed']:.1f} | {ratio:.2f} | {1 / ratio:.2f} "
        f"| {paired_ratio(samples, 'routed_nostats', 'bare'):.2f} | {optional('loop')} | {optional('candidates')} |"
    )


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=list(DTYPES), default=None, help="default: bfloat16 on cuda, float32 on cpu")
    parser.add_argument("--models", nargs="+", default=None, choices=list(SHAPES),
                        help="default: t5_tiny t5_small on cpu, t5_xl on cuda")
    parser.add_argument("--experts", type=int, nargs="+", default=[36])
    parser.add_argument("--repeats", type=int, default=7, help="timed repetitions per variant (median)")
    parser.add_argument("--loop", action="store_true", help="also time the plain per-expert loop in place of the expert banks")
    parser.add_argument("--candidates", type=int, default=None, help="also time router.candidates=M")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--clock", choices=["wall", "thread"], default="wall",
                        help="thread: CPU time of one thread (needs --threads 1)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    dtype = DTYPES[args.dtype or ("bfloat16" if device.type == "cuda" else "float32")]
    models = args.models or (["t5_xl"] if device.type == "cuda" else ["t5_tiny", "t5_small"])
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.clock == "thread" and (device.type != "cpu" or torch.get_num_threads() != 1):
        parser.error("--clock thread measures one CPU thread: use it with --device cpu --threads 1")
    clock = time.thread_time if args.clock == "thread" else time.perf_counter
    print(machine_line(device))
    print(f"{args.repeats} repetitions, medians of {args.clock}-clock time, one rank-classification batch per call\n")
    rows = [HEADER, "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in models:
        for n_experts in args.experts:
            rows.append(measure(SHAPES[name], n_experts, args.repeats, clock, device, dtype, args.loop, args.candidates))
            print(rows[-1], flush=True)
    print("\n" + "\n".join(rows))
    return rows


if __name__ == "__main__":
    main()
