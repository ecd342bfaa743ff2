"""Query-side instructions and their embeddings for evaluation examples (cached on disk)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

import torch
from safetensors.torch import load_file
from torch import Tensor

from glider.data.spec import Example
from glider.instruct.embedder import check_finite_embeddings
from glider.io import atomic_save_tensors


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
