"""The global router's top expert per example: the unique argmax, -1 for a tie."""

from __future__ import annotations

import torch

from glider.moe.routed_model import unique_argmax


def test_unique_argmax_marks_ties() -> None:
    scores = torch.tensor([[0.1, 0.9, 0.3], [0.5, 0.5, 0.1], [1.0, 1.0, 1.0], [-float("inf"), 2.0, -float("inf")]])
    assert unique_argmax(scores).tolist() == [1, -1, -1, 1]


def test_one_expert_is_always_the_top() -> None:
    assert unique_argmax(torch.tensor([[0.3], [0.0]])).tolist() == [0, 0]
