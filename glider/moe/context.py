"""Routing context: what every MoE layer needs to know about the current batch.

Rows of every tensor a layer sees are *example-major*: the encoder sees B rows (one per
example); for rank classification the decoder sees B*C rows (each example repeated C
times, consecutively). The context holds per-example values ([B, ...]) and expands them
to the tokens of any such layout.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Iterator

import torch
from torch import Tensor

from glider.moe.stats import RoutingStats


@dataclass
class RoutingContext:
    """Per-batch routing state shared by all MoE layers of one model."""

    bias: Tensor | None = None  # [B, N] global scores (already multiplied by alpha)
    candidates: Tensor | None = None  # [B, M] expert ids pre-selected per example
    task_ids: Tensor | None = None  # [B] index of each example's task (routing statistics)
    masks: list[Tensor] = field(default_factory=list)  # token masks [rows, seq] (pad = 0)
    stats: RoutingStats | None = None
    batch_size: int | None = None
    _per_layout: dict = field(default_factory=dict)  # (what, rows, seq) -> per-token tensor of this batch

    @contextlib.contextmanager
    def batch(
        self,
        batch_size: int,
        bias: Tensor | None = None,
        candidates: Tensor | None = None,
        task_ids: Tensor | None = None,
        masks: list[Tensor] | None = None,
    ) -> Iterator["RoutingContext"]:
        """Set the state for one batch; cleared on exit so a stale batch can never leak."""
        self.batch_size, self.bias, self.candidates, self.task_ids = batch_size, bias, candidates, task_ids
        self.masks = list(masks or [])
        self._per_layout = {}
        try:
            yield self
        finally:
            self.batch_size, self.bias, self.candidates, self.task_ids, self.masks = None, None, None, None, []
            self._per_layout = {}

    def repeat_factor(self, rows: int) -> int:
        """How many consecutive rows belong to one example."""
        if self.batch_size is None:
            return 1
        if rows % self.batch_size:
            raise ValueError(
                f"A routed layer saw {rows} rows for a batch of {self.batch_size} examples; rows must be "
                "example-major with the same number of rows per example."
            )
        return rows // self.batch_size

    def per_token(self, values: Tensor, rows: int, seq: int) -> Tensor:
        """[B, ...] per-example values -> [rows*seq, ...] per-token values."""
        return values.repeat_interleave(self.repeat_factor(rows) * seq, dim=0)

    def token_tasks(self, rows: int, seq: int) -> Tensor | None:
        """[rows*seq] task index of every token (``task_ids`` per token), once per batch and layout."""
        if self.task_ids is None:
            return None
        key = ("task", rows, seq)
        if key not in self._per_layout:
            self._per_layout[key] = self.per_token(self.task_ids, rows, seq)
        return self._per_layout[key]

    def token_mask(self, rows: int, seq: int) -> Tensor | None:
        """[rows*seq] bool mask of real (non-pad) tokens, if a registered mask fits this layout (cached per batch)."""
        key = ("mask", rows, seq)
        if key not in self._per_layout:
            self._per_layout[key] = self._token_mask(rows, seq)
        return self._per_layout[key]

    def _token_mask(self, rows: int, seq: int) -> Tensor | None:
        for mask in self.masks:
            if mask.shape[1] != seq:
                continue
            if mask.shape[0] == rows:
                return mask.reshape(-1).bool()
            if self.batch_size and mask.shape[0] == self.batch_size and rows % self.batch_size == 0:
                return mask.repeat_interleave(rows // self.batch_size, dim=0).reshape(-1).bool()
        return None
