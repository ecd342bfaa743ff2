"""Examples per second of routed evaluation against the same backbone without experts.

    python benchmarks/eval_throughput.py --threads 1 --clock thread [--repeats 7] [--experts 36]

For ``t5_tiny`` (conf/model/t5_tiny.yaml's architecture) and a T5-small-sized model
(random weights, see benchmarks/eval_models.py), times one rank-classification batch
(``glider.lit.scoring.rank_classification_scores``, the scoring of the real evaluator)
in three variants, interleaved in a fresh random order each repetition:

- ``bare``:   the backbone without experts;
- ``routed``: GLIDER over N random experts (Phatgoose gates + 3 * instruction scores,
              top-2) inside ``RoutedSeq2Seq.batch``, with the routing statistics the
              evaluator records (one ``RoutingStats`` accumulating over the batches, as
              ``RoutedEvaluator`` keeps it), i.e. what ``RoutedEvaluator.test_step`` runs;
- ``routed, no stats``: the same without routing statistics;
- with ``--candidates M``, also ``routed, M candidates``: ``routed`` with
  ``router.candidates=M`` (each example's M best experts by global score are the only
  ones scored and run).

Reports examples/second (batch size / median batch time) and the median paired time
ratio; routed throughput relative to bare is ``1 / ratio``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_models import (
    SHAPES,
    EvalShape,
    build_backbone,
    decoder_mask,
    glider_model,
    rank_batch,
)
from timing import machine_line, paired_ratio, sample_times

from glider.lit.scoring import rank_classification_scores
from glider.moe.stats import RoutingStats


def measure(shape: EvalShape, n_experts: int, repeats: int, clock, candidates: int | None = None) -> str:
    """One table row: examples/s of bare and routed evaluation and their ratio."""
    bare = build_backbone(shape)
    routed = glider_model(bare, n_experts, shape.rank)
    batch, queries = rank_batch(shape)
    masks = [batch["attention_mask"], decoder_mask(batch)]
    task_ids = torch.zeros(shape.batch_size, dtype=torch.long)

    stats_of_the_run = RoutingStats(["heldout"], n_experts)  # one per evaluation, as RoutedEvaluator keeps it

    def run_routed(record: bool, n_candidates: int | None = None) -> torch.Tensor:
        stats = stats_of_the_run if record else None
        routed.router.candidates = n_candidates
        with routed.batch(queries, shape.batch_size, masks=masks, task_ids=task_ids, stats=stats):
            return rank_classification_scores(routed.model, batch)

    variants = {
        "bare": lambda: rank_classification_scores(bare, batch),
        "routed": lambda: run_routed(True),
        "routed_nostats": lambda: run_routed(False),
    }
    if candidates is not None:
        variants["routed_candidates"] = lambda: run_routed(True, candidates)
    with torch.inference_mode():
        samples = sample_times(variants, repeats, lambda: None, clock)
    per_s = {name: shape.batch_size / statistics.median(t) for name, t in samples.items()}
    ratio = paired_ratio(samples, "routed", "bare")
    ratio_nostats = paired_ratio(samples, "routed_nostats", "bare")
    cand = ""
    if candidates is not None:
        cand = f" {candidates}: {per_s['routed_candidates']:.1f} ex/s, {paired_ratio(samples, 'routed_candidates', 'bare'):.2f} |"
    return (
        f"| {shape.name} | {n_experts} | {shape.rank} | {len(routed.layers)} "
        f"| {shape.batch_size}x{shape.source_len} + {shape.batch_size * shape.choices}x{shape.target_len} "
        f"| {per_s['bare']:.1f} | {per_s['routed']:.1f} | {ratio:.2f} | {1 / ratio:.2f} "
        f"| {per_s['routed_nostats']:.1f} | {ratio_nostats:.2f} |{cand}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--experts", type=int, default=36)
    parser.add_argument("--repeats", type=int, default=7, help="timed repetitions per variant (median)")
    parser.add_argument("--candidates", type=int, default=None, help="also time router.candidates=M")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--clock", choices=["wall", "thread"], default="wall",
                        help="thread: CPU time of one thread (needs --threads 1)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.clock == "thread" and torch.get_num_threads() != 1:
        parser.error("--clock thread measures one CPU thread: use it with --threads 1")
    clock = time.thread_time if args.clock == "thread" else time.perf_counter
    print(machine_line(torch.device("cpu")))
    print(f"{args.repeats} repetitions, medians of {args.clock}-clock time, one rank-classification batch per call\n")
    header = (
        "| model | N | r | routed modules | batch (enc + dec tokens) | bare ex/s | routed ex/s | routed / bare time "
        "| routed / bare throughput | routed, no stats ex/s | no stats / bare time |"
        + (" candidates M: ex/s, time / bare |" if args.candidates else "")
    )
    rows = [
        header,
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|" + ("---|" if args.candidates else ""),
    ]
    for name in args.models:
        rows.append(measure(SHAPES[name], args.experts, args.repeats, clock, args.candidates))
        print(rows[-1], flush=True)
    print("\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
