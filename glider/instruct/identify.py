"""How well the global router identifies a task from published instructions.

Query side: each task's instruction from one file (default FLAN v2); expert side: each
task's instruction from another (default FLAN v1). For every embedder, a query is right at
top-k when its own task is among the k experts of highest cosine similarity.

    python -m glider.instruct.identify [--embedder minilm nomic] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

from glider.errors import GliderError
from glider.instruct.embedder import SentenceEmbedder
from glider.instruct.file_writer import FileWriter
from glider.instruct.paths import CONF_DIR, instructions_dir

TOP_KS = (1, 2)


@dataclass
class Row:
    """One embedder's result (accuracies are None when the embedder is unavailable)."""

    embedder: str
    model: str
    tasks: int
    top: dict[int, float | None]
    status: str = "ok"


def load_instructions(queries: Path, experts: Path, pick: str | int = "first") -> tuple[list[str], list[str], list[str]]:
    """Tasks present in both files (expert-file order) with their query and expert instructions."""
    q_file, e_file = FileWriter(queries, pick), FileWriter(experts, pick)
    shared = set(q_file.tasks)
    tasks = [t for t in e_file.tasks if t in shared]
    if not tasks:
        raise GliderError(f"no task name is in both {queries} and {experts}: pass matching files.")
    return tasks, [q_file.write([], t) for t in tasks], [e_file.write([], t) for t in tasks]


def topk_accuracy(query_emb: torch.Tensor, expert_emb: torch.Tensor, ks: Sequence[int] = TOP_KS) -> dict[int, float]:
    """Fraction of queries i whose expert i is among the k most cosine-similar experts.

    ``query_emb`` [n, d] and ``expert_emb`` [n, d] are L2-normalised; row i of each is task i.
    """
    sims = query_emb @ expert_emb.T  # [n, n]
    own = sims.diagonal().unsqueeze(1)  # [n, 1]
    rank = (sims > own).sum(dim=1)  # [n] experts strictly better than the right one
    return {k: int((rank < k).sum()) / len(rank) for k in ks}


def build_embedder(name: str, model_path: str | None = None) -> SentenceEmbedder:
    """Instantiate ``conf/embedder/<name>.yaml`` (optionally with another model path)."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    path = CONF_DIR / "embedder" / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (CONF_DIR / "embedder").glob("*.yaml"))
        raise GliderError(f"unknown embedder '{name}' (no {path}); choose from {known}.")
    cfg = OmegaConf.load(path)
    if model_path:
        cfg.model_name_or_path = model_path
    try:
        return instantiate(cfg)
    except InstantiationException as err:  # hydra wraps constructor errors; surface ours
        if isinstance(err.__cause__, GliderError):
            raise err.__cause__ from None
        raise


def evaluate(name: str, tasks: list[str], queries: list[str], experts: list[str], model_path: str | None = None) -> Row:
    """Top-k accuracies for one embedder; an unavailable embedder gives a row saying so."""
    model = model_path or ""
    try:
        embedder = build_embedder(name, model_path)
        model = embedder.model_name_or_path
        acc = topk_accuracy(embedder.encode(queries, "query"), embedder.encode(experts, "document"))
    except GliderError as err:
        return Row(name, model, len(tasks), {k: None for k in TOP_KS}, f"unavailable: {err}")
    return Row(name, model, len(tasks), acc)


def markdown_table(rows: Sequence[Row]) -> str:
    """Rows as a markdown table."""
    head = "| embedder | tasks | " + " | ".join(f"top-{k}" for k in TOP_KS) + " | status |"
    lines = [head, "|" + "---|" * (3 + len(TOP_KS))]
    for r in rows:
        accs = " | ".join("n/a" if r.top[k] is None else f"{r.top[k]:.3f}" for k in TOP_KS)
        lines.append(f"| {r.embedder} | {r.tasks} | {accs} | {r.status} |")
    return "\n".join(lines)


def write_csv(rows: Sequence[Row], path: Path) -> None:
    """Write rows to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["embedder", "model", "tasks", *[f"top{k}" for k in TOP_KS], "status"])
            for r in rows:
                out.writerow([r.embedder, r.model, r.tasks, *["" if r.top[k] is None else r.top[k] for k in TOP_KS], r.status])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    folder = instructions_dir()
    p = argparse.ArgumentParser(prog="python -m glider.instruct.identify", description=__doc__.splitlines()[0])
    p.add_argument("--queries", type=Path, default=folder / "flan_instruction-v2.json", help="query-side JSON (task -> instruction)")
    p.add_argument("--experts", type=Path, default=folder / "flan_instruction.json", help="expert-side JSON (task -> instruction)")
    p.add_argument("--embedder", nargs="+", default=["minilm"], help="names of conf/embedder/*.yaml")
    p.add_argument("--model-path", action="append", default=[], metavar="NAME=PATH",
                   help="use a local model for embedder NAME (repeatable)")
    p.add_argument("--pick", default="first", help="for list-valued files: first, all or an index")
    p.add_argument("--csv", type=Path, default=None, help="also write the table as CSV")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the identification table; exit 2 with one message on a user error."""
    args = parse_args(argv)
    try:
        paths = dict(item.split("=", 1) for item in args.model_path)
    except ValueError:
        print("error: --model-path takes NAME=PATH", file=sys.stderr)
        return 2
    pick: str | int = int(args.pick) if args.pick.lstrip("-").isdigit() else args.pick
    try:
        tasks, queries, experts = load_instructions(args.queries, args.experts, pick)
        rows = [evaluate(name, tasks, queries, experts, paths.get(name)) for name in args.embedder]
        if args.csv:
            write_csv(rows, args.csv)
    except GliderError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"queries: {args.queries}\nexperts: {args.experts}\n"
          f"tasks in both: {len(tasks)} (chance top-1 {1 / len(tasks):.3f}, top-2 {min(2, len(tasks)) / len(tasks):.3f})\n")
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
