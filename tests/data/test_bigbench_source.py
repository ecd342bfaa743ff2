"""BIG-bench Hard and Lite sources on fixture files (BBH repository files, tasksource/bigbench rows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glider.data.bigbench_source import BigBenchHardSource, BigBenchLiteSource
from glider.data.bigbench_tasks import BBH_PAPER_KEYS, BBH_SUBTASKS, BBL_TASKS, bb_key, bbh_keys
from glider.data.source import check_examples
from glider.errors import ConfigError, DataError
from tests.data.fixtures import write_bbh, write_bbl


def test_keys_match_the_instruction_files(shared_dir: Path) -> None:
    folder = shared_dir / "data/glider-instructions"
    keys = list(json.loads((folder / "bb_instruction.json").read_text()))
    v2 = set(json.loads((folder / "bb_instruction-v2.json").read_text()))
    assert len(BBH_SUBTASKS) == 27 and list(bbh_keys()) == keys[:23]
    assert len(BBH_PAPER_KEYS) == 22 and set(BBH_PAPER_KEYS) <= v2 and "bbdycklanguages" not in v2
    assert [bb_key(t) for t in BBL_TASKS] == keys[23:]


def test_bbh_merges_subtasks_under_one_key(tmp_path: Path) -> None:
    write_bbh(tmp_path, ["bblogicaldeduction", "bbbooleanexpressions"], n=4)
    source = BigBenchHardSource(data_dir=str(tmp_path))
    assert [t.name for t in source.tasks()] == ["bbbooleanexpressions", "bblogicaldeduction"]
    assert source.expert_tasks() == [] and all(t.split == "heldout" and t.metric == "exact_match" for t in source.tasks())
    examples = check_examples(source.task("bblogicaldeduction"), source.eval_examples("bblogicaldeduction", 100, 0), "evaluation")
    assert len(examples) == 12 and {e.source.split()[0] for e in examples} == {
        "logical_deduction_three_objects", "logical_deduction_five_objects", "logical_deduction_seven_objects"}
    assert examples[0].target == "(A)"
    with pytest.raises(DataError, match="training"):
        source.train_examples("bbbooleanexpressions", 3, 0)


def test_bbh_accepts_per_subtask_folders(tmp_path: Path) -> None:
    from tests.data.fixtures import write_jsonl

    write_jsonl(tmp_path / "navigate" / "test.jsonl", [{"input": "Go left?", "target": "No"}] * 3)
    source = BigBenchHardSource(tasks=["bbnavigate", "bbsnarks"], data_dir=str(tmp_path))
    assert [t.name for t in source.tasks()] == ["bbnavigate"]
    assert len(source.eval_examples("bbnavigate", 10, 0)) == 3


def test_bbl_choices_and_references(tmp_path: Path) -> None:
    write_bbl(tmp_path, ["winowhy", "operators"], n=5)
    source = BigBenchLiteSource(data_dir=str(tmp_path))
    assert [t.name for t in source.tasks()] == ["bboperators", "bbwinowhy"]
    mc = check_examples(source.task("bbwinowhy"), source.eval_examples("bbwinowhy", 10, 0), "evaluation")
    assert all(e.choices == ("beta", "alpha", "gamma") and e.label == 1 and e.target == "alpha" for e in mc)
    gen = source.eval_examples("bboperators", 10, 0)
    assert len(gen) == 5 and all(e.target.startswith("out") and e.references[0].startswith("alt") for e in gen)
    assert source.train_examples("bbwinowhy", 2, 0)


def test_offline_without_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match=r"<subtask>\.json"):
        BigBenchHardSource().check_available()
    with pytest.raises(DataError, match=r"<task>/validation\.jsonl"):
        BigBenchLiteSource().check_available()
    with pytest.raises(ConfigError):
        BigBenchHardSource(tasks=["bbnope"])
