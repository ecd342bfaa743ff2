"""Hub access: never tried when offline; when reachable, each source asks for the right id, config and split."""

from __future__ import annotations

import socket

import pytest

from glider.data import bigbench_source, raw_source, rows
from glider.data.bigbench_source import BigBenchHardSource, BigBenchLiteSource
from glider.data.t0_source import T0TaskSource
from glider.errors import DataError
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
                 ("lukaemon/bbh", "web_of_lies", "test"), ("tasksource/bigbench", "tracking_shuffled_objects", "train"),
                 ("tasksource/bigbench", "tracking_shuffled_objects", "validation"), ("tasksource/bigbench", "winowhy", "validation")}

    def load(hub_id, config, split, revision=None):
        calls.append((hub_id, config, split))
        if (hub_id, config, split) not in available:
            return None
        if hub_id == "lukaemon/bbh":
            return [{"input": f"{config}?", "target": "No"}]
        if hub_id == "tasksource/bigbench":
            return [{"inputs": f"{split}?", "targets": ["b"], "multiple_choice_targets": ["a", "b"], "multiple_choice_scores": [0, 1]}]
        return [T0_ROWS["p3anlir2" if hub_id == "facebook/anli" else "p3cb"]]

    monkeypatch.setattr(raw_source, "hub_reachable", lambda: True)
    monkeypatch.setattr(raw_source, "load_hub_split", load)
    monkeypatch.setattr(bigbench_source, "load_hub_split", load)
    return calls


def test_sources_ask_the_hub_for_their_datasets(fake_hub: list[tuple]) -> None:
    t0 = T0TaskSource(splits=["heldout"], tasks=["p3anlir2", "p3cb"])
    anli = t0.eval_examples("p3anlir2", 5, 0)  # one row x 15 original-task templates, all entailment (label 0)
    assert len(anli) == 15 and all(e.label == 0 and e.choices[0] == e.target for e in anli)
    assert t0.train_examples("p3anlir2", 5, 0)
    assert t0.eval_examples("p3cb", 5, 0)[0].target == "True"
    assert ("facebook/anli", None, "dev_r2") in fake_hub and ("aps/super_glue", "cb", "validation") in fake_hub
    bbh = BigBenchHardSource(tasks=["bbtrackingshuffledobjects", "bbweboflies"])
    shuffled = bbh.eval_examples("bbtrackingshuffledobjects", 10, 0)  # tasksource: train + validation
    assert [e.source for e in shuffled] == ["train?\nAnswer:", "validation?\nAnswer:"]
    assert bbh.eval_examples("bbweboflies", 10, 0)[0].choices == ("Yes", "No")
    assert ("lukaemon/bbh", "web_of_lies", "test") in fake_hub
    bbl = BigBenchLiteSource(tasks=["bbwinowhy"])
    assert bbl.eval_examples("bbwinowhy", 5, 0)[0].target == "b"
    assert ("tasksource/bigbench", "winowhy", "train") in fake_hub and ("tasksource/bigbench", "winowhy", "validation") in fake_hub


def test_script_datasets_are_read_from_the_parquet_export(monkeypatch: pytest.MonkeyPatch) -> None:
    """datasets >= 4 refuses loading scripts: the same split is read from the hub's parquet export (one folder per config)."""
    import datasets

    calls: list[dict] = []

    def load_dataset(path, name=None, split=None, revision=None, data_dir=None):
        calls.append({"path": path, "name": name, "split": split, "revision": revision, "data_dir": data_dir})
        if revision != rows.PARQUET_EXPORT:
            raise RuntimeError("Dataset scripts are no longer supported, but found samsum.py")
        if split == "nope":
            raise ValueError('Unknown split "nope". Should be one of [\'train\', \'test\'].')
        return [{"dialogue": "A: hi", "summary": "hi"}]

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    assert rows.load_hub_split("Samsung/samsum", None, "train") == [{"dialogue": "A: hi", "summary": "hi"}]
    assert calls[-1] == {"path": "Samsung/samsum", "name": None, "split": "train", "revision": "refs/convert/parquet", "data_dir": "default"}
    rows.load_hub_split("aps/super_glue", "cb", "train")
    assert calls[-1]["data_dir"] == "cb"
    assert rows.load_hub_split("Samsung/samsum", None, "nope") is None


def test_a_hub_dataset_that_cannot_load_is_one_error_naming_it_and_the_manual_step(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def load_dataset(path, name=None, split=None, revision=None, data_dir=None):
        raise RuntimeError("Dataset scripts are no longer supported, but found story_cloze.py" if revision is None
                           else "404 Client Error: refs/convert/parquet not found")

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    with pytest.raises(DataError) as err:
        rows.load_hub_split("LSDSem/story_cloze", "2016", "validation")
    message = str(err.value)
    assert "'LSDSem/story_cloze' (config '2016')" in message and "only a loading script" in message
    assert "Manual step" in message and "task.data_dir" in message and "\n" not in message


def test_a_missing_hub_config_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def load_dataset(path, name=None, split=None, revision=None, data_dir=None):
        raise ValueError(f"BuilderConfig '{name}' not found. Available: ['rte', 'cb']")

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    with pytest.raises(DataError, match=r"split 'validation' of hub dataset 'aps/super_glue' \(config 'rtee'\): it could not be "
                                        r"loaded \(BuilderConfig 'rtee' not found.*Manual step"):
        rows.load_hub_split("aps/super_glue", "rtee", "validation")
