"""Stand-ins reachable from the command line through ``_target_`` overrides."""

from __future__ import annotations

from typing import Any, Sequence

import torch


class SmallEmbedder:
    """An embedder that answers to the library's embedder name but gives ``dim``-dimensional vectors
    (e.g. another model configured under the same name)."""

    def __init__(self, name: str = "minilm", dim: int = 16, **ignored: Any) -> None:
        self.name, self.dim, self.model_name_or_path = name, int(dim), f"small-{dim}"

    def encode(self, texts: Sequence[str], kind: str = "document") -> torch.Tensor:
        return torch.nn.functional.normalize(torch.ones(len(texts), self.dim), dim=-1)
