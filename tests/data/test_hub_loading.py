"""Hub access: never tried when offline; when reachable, each source asks for the right id, config and split."""

from __future__ import annotations

import socket

import pytest

from glider.data import bigbench_source, raw_source, rows
from glider.data.bigbench_source import BigBenchHardSource, BigBenchLiteSource
from glider.data.t0_source import T0TaskSource
from tests.data.t0_rows import T0_ROWS


def test_offline_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("the network was contacted")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket, "create_connection", forbidden)
    rows.hub_reachable.cache_clear()
    assert rows.hub_reachable() is False
    source = T0TaskSource(splits=["heldin"], tasks=["p3agnews"])
    assert source.split_rows(source.raw_task("p3agnews"), "test") is None


def test_unreachable_hub_is_a_quick_no(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(address, timeout=None):
        assert timeout is not None and timeout <= 5  # bounded wait
        raise OSError("connection refused")

    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(socket, "create_connection", refused)
    rows.hub_reachable.cache_clear()
    try:
        assert rows.hub_reachable() is False
    finally:
        rows.hub_reachable.cache_clear()


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """A reachable hub whose splits are served from the fixture rows; records every request."""
    calls: list[tuple] = []
    available = {("facebook/anli", None, "train_r2"), ("facebook/anli", None, "dev_r2"), ("aps/super_glue", "cb", "validation"),
                 ("lukaemon/bbh", "tracking_shuffled_objects_three_objects", "test"),
                 ("lukaemon/bbh", "tracking_shuffled_objects_five_objects", "test"),
                 ("lukaemon/bbh", "tracking_shuffled_objects_seven_objects", "test"),
                 ("tasksource/bigbench", "winowhy", "validation")}

    def load(hub_id, config, split, revision=None):
        calls.append((hub_id, config, split))
        if (hub_id, config, split) not in available:
            return None
        if hub_id == "lukaemon/bbh":
            return [{"input": f"{config}?", "target": "(B)"}]
        if hub_id == "tasksource/bigbench":
            return [{"inputs": "why?", "targets": ["b"], "multiple_choice_targets": ["a", "b"], "multiple_choice_scores": [0, 1]}]
        return [T0_ROWS["p3anlir2" if hub_id == "facebook/anli" else "p3cb"]]

    monkeypatch.setattr(raw_source, "hub_reachable", lambda: True)
    monkeypatch.setattr(raw_source, "load_hub_split", load)
    monkeypatch.setattr(bigbench_source, "load_hub_split", load)
    return calls


def test_sources_ask_the_hub_for_their_datasets(fake_hub: list[tuple]) -> None:
    t0 = T0TaskSource(splits=["heldout"], tasks=["p3anlir2", "p3cb"])
    assert t0.eval_examples("p3anlir2", 5, 0)[0].target == "True"
    assert t0.train_examples("p3anlir2", 5, 0)
    assert t0.eval_examples("p3cb", 5, 0)[0].target == "True"
    assert ("facebook/anli", None, "dev_r2") in fake_hub and ("aps/super_glue", "cb", "validation") in fake_hub
    bbh = BigBenchHardSource(tasks=["bbtrackingshuffledobjects"])
    assert len(bbh.eval_examples("bbtrackingshuffledobjects", 10, 0)) == 3  # one hub config per merged subtask
    bbl = BigBenchLiteSource(tasks=["bbwinowhy"])
    assert bbl.eval_examples("bbwinowhy", 5, 0)[0].target == "b"
    assert ("tasksource/bigbench", "winowhy", "validation") in fake_hub
