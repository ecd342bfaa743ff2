"""Which K samples an expert is described from: farthest-point coverage of the pool, or the first K."""

from __future__ import annotations

import pytest
import torch

from glider.errors import ConfigError
from glider.instruct.sample_choice import choose_samples, farthest_point_indices


def test_farthest_point_starts_typical_then_covers_each_phrasing() -> None:
    # three phrasings: a (4 near-copies), b (2), c (1); the typical one first, then the others
    rows = [[1.0, 0.0, 0.0]] * 4 + [[0.0, 1.0, 0.0]] * 2 + [[0.0, 0.0, 1.0]]
    emb = torch.tensor(rows) + 0.01 * torch.randn(7, 3, generator=torch.Generator().manual_seed(0))
    idx = farthest_point_indices(emb, 3)
    assert idx[0] in range(4)
    assert sorted({0 if i < 4 else 1 if i < 6 else 2 for i in idx}) == [0, 1, 2]


def test_farthest_point_never_repeats_and_handles_small_pools() -> None:
    emb = torch.ones(5, 4)  # all identical: still 3 distinct rows
    idx = farthest_point_indices(emb, 3)
    assert len(set(idx)) == 3
    assert farthest_point_indices(torch.randn(2, 4), 3) == [0, 1]


def test_choose_first_keeps_the_card_order_and_diverse_uses_the_pool() -> None:
    samples = ["a1", "a2", "a3", "b1", "c1"]
    emb = torch.tensor([[1.0, 0, 0], [1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    assert choose_samples(samples, emb, 3, "first") == ["a1", "a2", "a3"]
    got = choose_samples(samples, emb, 3, "diverse")
    assert got[0].startswith("a") and set(got[1:]) == {"b1", "c1"}
    assert choose_samples(samples, None, 3, "diverse") == ["a1", "a2", "a3"]


def test_an_unknown_choice_names_the_options() -> None:
    with pytest.raises(ConfigError, match="sample_choice must be one of first, diverse"):
        choose_samples(["a"], None, 1, "random")
