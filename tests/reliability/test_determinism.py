"""The same seed gives the same library and the same metrics: two builds in two separate roots
(the session's, by a real process, and a second one in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability.conftest import World, build_world

pytestmark = pytest.mark.slow


def _comparable(summary: dict) -> str:
    """summary.json without its wall-clock times and launch record, as text (NaN averages compare equal).

    ``overrides`` records the Hydra command line, which the in-process build (compose API) has none of.
    """
    kept = {k: v for k, v in summary.items() if k not in ("seconds", "overrides")}
    kept["cost"] = {k: v for k, v in kept.get("cost", {}).items() if "seconds" not in k}  # forward passes stay
    return json.dumps(kept, sort_keys=True)


def test_same_seed_same_metrics_predictions_and_experts(tiny_world: World, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    again = build_world(tmp_path / "again", capsys)
    assert _comparable(again.summary()) == _comparable(tiny_world.summary())
    assert again.predictions() == tiny_world.predictions()
    for weights in sorted((tiny_world.library / "experts").glob("*/*.safetensors")):
        twin = again.library / weights.relative_to(tiny_world.library)
        assert twin.read_bytes() == weights.read_bytes(), weights.relative_to(tiny_world.library)
