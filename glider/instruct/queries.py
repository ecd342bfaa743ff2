"""Query-side instructions and their embeddings for evaluation examples (cached on disk)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Sequence

import torch
from filelock import FileLock
from omegaconf import DictConfig
from safetensors.torch import load_file
from torch import Tensor

from glider.data.spec import Example, TaskSpec
from glider.instruct.embedder import check_finite_embeddings
from glider.instruct.embedding_file import gives_embeddings
from glider.instruct.expert_side import needs_embeddings
from glider.instruct.sources import make_embedder, make_writer
from glider.io import atomic_save_tensors
from glider.routers.router import Router


def cached_encode(embedder: Any, texts: Sequence[str], kind: str, cache_dir: Path | None) -> Tensor:
    """embedder.encode(texts, kind) with an on-disk cache keyed by (embedder, kind, texts)."""
    if not texts:
        return torch.zeros(0, embedder.dim)
    if cache_dir is None:
        return check_finite_embeddings(embedder.encode(list(texts), kind=kind), embedder.name, f"{kind} texts")
    key = hashlib.sha256(json.dumps([embedder.name, getattr(embedder, "model_name_or_path", None), kind, list(texts)]).encode()).hexdigest()[:24]
    path = Path(cache_dir) / embedder.name / f"{key}.safetensors"
    if path.is_file():
        try:
            cached = load_file(str(path))["emb"]
            if cached.shape == (len(texts), embedder.dim) and torch.isfinite(cached).all():
                return cached
        except Exception:  # a damaged cache entry is recomputed
            pass
    emb = check_finite_embeddings(embedder.encode(list(texts), kind=kind), embedder.name, f"{kind} texts")
    atomic_save_tensors(path, {"emb": emb})
    return emb


def query_instructions(writer: Any, examples_by_task: dict[str, list[Example]], granularity: str, k: int) -> dict[str, list[str]]:
    """Per task, one query instruction per example (granularity 'example': from the input itself)
    or the same instruction for all (granularity 'task': from K sample inputs of the task)."""
    out: dict[str, list[str]] = {}
    if granularity == "task":
        tasks = list(examples_by_task)
        texts = writer.write_many([([e.source for e in examples_by_task[t][:k]], t) for t in tasks])
        for task, text in zip(tasks, texts):
            out[task] = [text] * len(examples_by_task[task])
        return out
    requests = [([e.source], task) for task, exs in examples_by_task.items() for e in exs]
    texts = iter(writer.write_many(requests))
    for task, exs in examples_by_task.items():
        out[task] = [next(texts) for _ in exs]
    return out


def attach_query_embeddings(cfg: DictConfig, router: Router, tasks: list[TaskSpec], examples: dict[str, list[Example]]) -> list[dict[str, Any]]:
    """Evaluation items: the examples of ``tasks`` in order, each with the query-side embeddings the
    router's global scorers need (``instruction_emb``: of its query instruction, or its task's with
    llm=embeddings; ``input_emb``: of the input itself, for retrieval)."""
    items = [{"example": e} for t in tasks for e in examples[t.name]]
    if not needs_embeddings(router):
        return items
    writer, embedder = make_writer(cfg).for_queries(), make_embedder(cfg)
    cache = Path(cfg.paths.cache_dir) / "query_embeddings"
    names = router.global_scorer_names()
    if "instruction" in names and gives_embeddings(writer):  # llm=embeddings: one precomputed vector per task
        per_task = writer.query_embeddings([t.name for t in tasks])
        for item in items:
            item["instruction_emb"] = per_task[item["example"].task]
    elif "instruction" in names:
        texts = query_instructions(writer, examples, router.global_granularity, int(cfg.library.describe.k))
        flat = [text for t in tasks for text in texts[t.name]]
        emb = cached_encode(embedder, flat, "query", cache)
        for item, row in zip(items, emb):
            item["instruction_emb"] = row
    if "retrieval" in names:
        emb = cached_encode(embedder, [item["example"].source for item in items], "query", cache)
        for item, row in zip(items, emb):
            item["input_emb"] = row
    return items


def queries_lock(cfg: DictConfig) -> Any:
    """Processes started together (torchrun, SLURM tasks) write query instructions once: the first writes, the
    others read the cache."""
    if int(os.environ.get("WORLD_SIZE", os.environ.get("SLURM_NTASKS", "1"))) <= 1:
        return contextlib.nullcontext()
    Path(cfg.paths.cache_dir).mkdir(parents=True, exist_ok=True)
    return FileLock(str(Path(cfg.paths.cache_dir) / ".queries.lock"))
