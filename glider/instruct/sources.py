"""The configured instruction source (``llm=``) and sentence embedder (``embedder=``), built from the run config."""

from __future__ import annotations

from typing import Any

import hydra
from omegaconf import DictConfig


def make_writer(cfg: DictConfig) -> Any:
    """The instruction writer of ``cfg.llm`` (none, file, embeddings, openai, hf)."""
    return hydra.utils.instantiate(cfg.llm)


def make_embedder(cfg: DictConfig) -> Any:
    """The sentence embedder of ``cfg.embedder`` (loaded lazily, on first use)."""
    return hydra.utils.instantiate(cfg.embedder)
