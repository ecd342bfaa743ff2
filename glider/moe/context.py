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


@dataclass(frozen=True)
class Tokens:
    """Per-token views of the batch for one layout of rows (``rows * seq`` tokens)."""

    mask: Tensor | None  # [T] bool: real (non-pad) tokens, None when no registered mask fits
    tasks: Tensor | None  # [T] task index of every token (routing statistics), None without


@dataclass
class RoutingContext:
    """Per-batch routing state shared by all MoE layers of one model (``bias`` and ``candidates``
    are what routers read: :class:`glider.routers.router.BatchRouting`)."""

    bias: Tensor | None = None  # [B, N] global scores (already multiplied by alpha)
    candidates: Tensor | None = None  # [B, M] expert ids pre-selected per example
    task_ids: Tensor | None = None  # [B] index of each example's task (routing statistics)
    masks: list[Tensor] = field(default_factory=list)  # token masks [rows, seq] (pad = 0)
    stats: RoutingStats | None = None
    batch_size: int | None = None
    _per_layout: dict = field(default_factory=dict)  # (rows, seq, copies) -> Tokens of this batch

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

    def rows_per_example(self, rows: int) -> int:
        """How many consecutive rows belong to one example."""
        if self.batch_size is None:
            return 1
        if rows % self.batch_size:
            raise ValueError(
                f"A routed layer saw {rows} rows for a batch of {self.batch_size} examples; rows must be "
                "example-major with the same number of rows per example."
            )
        return rows // self.batch_size

    def identical_copies(self, flat: Tensor, rows: int) -> int:
        """C when every example's C rows are equal copies (rank classification repeats the encoder
        output once per answer choice for the cross-attention), else 1. ``flat``: ``[rows*seq, d]``."""
        copies = self.rows_per_example(rows)
        if copies == 1:
            return 1
        blocks = flat.view(self.batch_size, copies, -1)
        last = flat.shape[-1]  # each block's last token first (decoder rows differ there): cheap
        if not torch.equal(blocks[:, 1, -last:], blocks[:, 0, -last:]):
            return 1
        return copies if torch.equal(blocks[:, 1:], blocks[:, :1].expand(-1, copies - 1, -1)) else 1

    def tokens(self, rows: int, seq: int, copies: int = 1) -> Tokens:
        """Mask and tasks of the ``rows * seq`` tokens, or of each example's first copy when ``copies > 1``
        (cached per batch and layout)."""
        key = (rows, seq, copies)
        if key not in self._per_layout:
            mask, tasks = self._token_mask(rows, seq), None
            if self.task_ids is not None:
                tasks = self.task_ids.repeat_interleave(self.rows_per_example(rows) * seq, dim=0)
            if copies > 1:
                mask, tasks = (None if t is None else t.view(self.batch_size, copies, -1)[:, 0].reshape(-1) for t in (mask, tasks))
            self._per_layout[key] = Tokens(mask, tasks)
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

