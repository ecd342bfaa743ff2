"""Evaluation items and a task-homogeneous batch sampler that shards exactly (no padding) across processes."""

from __future__ import annotations

from typing import Any, Iterator

import torch.distributed as dist
from torch.utils.data import Dataset, Sampler


class EvalItems(Dataset):
    """Examples with their precomputed query-side embeddings."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.items[index]


def _rank_and_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class TaskBatchSampler(Sampler[list[int]]):
    """Batches never mix tasks; batch j goes to process j mod world_size.

    Every example is evaluated exactly once across processes: no sampler padding, no
    duplicates (processes may get a different number of batches). A process left without a
    batch (fewer batches than processes) gets one empty batch, which scores nothing: Lightning
    requires every process to have at least one.
    """

    def __init__(self, task_of_item: list[str], batch_size: int) -> None:
        self.batches: list[list[int]] = []
        current: list[int] = []
        for index, task in enumerate(task_of_item):
            if current and (task != task_of_item[current[0]] or len(current) == batch_size):
                self.batches.append(current)
                current = []
            current.append(index)
        if current:
            self.batches.append(current)

    def _mine(self) -> list[list[int]]:
        rank, world = _rank_and_world()
        return self.batches[rank::world] or [[]]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._mine())

    def __len__(self) -> int:
        return len(self._mine())
