"""Memory of routed evaluation: bytes per expert, and peak resident memory of evaluation.

    python benchmarks/memory.py [--model t5_small] [--experts 166] [--batches 2]

1. Bytes per expert, at the model's sizes: what one expert adds to every routed layer
   (LoRA ``A`` and ``B`` factors, the Phatgoose gate, the scale), counted from the
   layers' own buffers of a small routed model and checked against the formula
   ``sum over modules of r (d_in + d_out) + d_in + 1`` numbers.
2. Peak memory of evaluation: each variant (bare backbone; GLIDER over N random experts)
   runs in a fresh Python process, which builds the model, reads its peak and current
   resident set size (``VmHWM``, ``VmRSS``), resets the kernel's peak counter (``echo 5 > /proc/self/clear_refs``), runs
   rank-classification batches (the evaluator's scoring, with routing statistics) and reads
   the peak (``VmHWM``).  These are process RSS numbers (Linux), not tracemalloc
   (which does not see torch's CPU tensors).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_models import SHAPES, build_backbone, decoder_mask, glider_model, rank_batch

from glider.lit.scoring import rank_classification_scores
from glider.moe.inject import module_shapes
from glider.moe.stats import RoutingStats

MIB = 2**20


def bytes_per_expert(model_name: str) -> dict[str, float]:
    """Bytes one expert adds (float32 buffers of the routed layers, and the formula)."""
    shape = SHAPES[model_name]
    bare = build_backbone(shape)
    n = 8  # the routers' keys are padded to a multiple of 8 rows: none here
    routed = glider_model(bare, n, shape.rank)
    lora = sum(layer.experts.lora_A.nbytes + layer.experts.lora_Bt.nbytes for layer in routed.layers) / n
    keys = sum(sum(k.nbytes for k in layer.router.buffers()) + layer.experts.scale.nbytes for layer in routed.layers) / n
    shapes = module_shapes(bare).values()
    formula = sum(shape.rank * (d_in + d_out) + d_in + 1 for d_out, d_in in shapes) * 4
    return {"modules": len(routed.layers), "rank": shape.rank, "lora_bytes": lora, "key_bytes": keys,
            "total_bytes": lora + keys, "formula_bytes": formula}


def _status_kib(field: str) -> int:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _release_free_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc malloc_trim)."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


def child(model_name: str, variant: str, n_experts: int, n_batches: int) -> dict[str, float]:
    """Build one variant, then measure RSS before and peak RSS during evaluation (this process)."""
    torch.set_num_threads(1)
    shape = SHAPES[model_name]
    rss_start = _status_kib("VmRSS")
    bare = build_backbone(shape)
    model = bare if variant == "bare" else glider_model(bare, n_experts, shape.rank)
    if variant != "bare":
        del bare
    batch, queries = rank_batch(shape)
    masks = [batch["attention_mask"], decoder_mask(batch)]
    task_ids = torch.zeros(shape.batch_size, dtype=torch.long)
    _release_free_memory()
    rss_model = _status_kib("VmRSS")
    peak_build = _status_kib("VmHWM")  # peak so far: building the model
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    with torch.inference_mode():
        for _ in range(n_batches):
            if variant == "bare":
                rank_classification_scores(model, batch)
            else:
                stats = RoutingStats(["heldout"], n_experts)
                with model.batch(queries, shape.batch_size, masks=masks, task_ids=task_ids, stats=stats):
                    rank_classification_scores(model.model, batch)
    peak = _status_kib("VmHWM")
    return {"variant": variant, "rss_start_mib": rss_start / 1024, "peak_build_mib": peak_build / 1024,
            "rss_model_mib": rss_model / 1024,
            "peak_eval_mib": peak / 1024, "eval_extra_mib": (peak - rss_model) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="t5_small", choices=list(SHAPES))
    parser.add_argument("--experts", type=int, default=166)
    parser.add_argument("--batches", type=int, default=2, help="evaluation batches per measurement")
    parser.add_argument("--child", choices=["bare", "routed"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.model, args.child, args.experts, args.batches)))
        return
    shape = SHAPES[args.model]
    per = bytes_per_expert(args.model)
    print(f"{args.model}: {per['modules']} routed modules, rank {per['rank']}, float32")
    print(f"bytes per expert: LoRA {per['lora_bytes'] / MIB:.2f} MiB + gates/scale {per['key_bytes'] / MIB:.3f} MiB "
          f"= {per['total_bytes'] / MIB:.2f} MiB ({per['total_bytes']:.0f} B; formula {per['formula_bytes']:.0f} B); "
          f"x {args.experts} experts = {per['total_bytes'] * args.experts / MIB:.0f} MiB\n")
    header = ("| variant | N | peak RSS while building (MiB) | RSS after build (MiB) | peak RSS in eval (MiB) "
              "| eval peak - RSS after build (MiB) |")
    rows = [header, "|---|---:|---:|---:|---:|---:|"]
    results = {}
    for variant in ("bare", "routed"):
        cmd = [sys.executable, __file__, "--model", args.model, "--experts", str(args.experts),
               "--batches", str(args.batches), "--child", variant]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        results[variant] = res = json.loads(out.strip().splitlines()[-1])
        n = "-" if variant == "bare" else str(args.experts)
        rows.append(f"| {variant} | {n} | {res['peak_build_mib']:.0f} | {res['rss_model_mib']:.0f} | {res['peak_eval_mib']:.0f} | {res['eval_extra_mib']:.0f} |")
        print(rows[-1], flush=True)
    library = results["routed"]["rss_model_mib"] - results["bare"]["rss_model_mib"]
    print(f"\nbatch: {shape.batch_size} examples x {shape.source_len} source tokens, {shape.choices} choices x "
          f"{shape.target_len} tokens; routed - bare RSS after build: {library:.0f} MiB "
          f"(N x bytes per expert: {per['total_bytes'] * args.experts / MIB:.0f} MiB)")
    print("\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
