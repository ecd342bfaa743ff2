"""T0 held-in / held-out sources on fixture files in each dataset's hub schema (offline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glider.data.source import check_examples
from glider.data.t0_source import T0TaskSource
from glider.data.t0_tasks import T0_HELDIN, T0_HELDOUT
from glider.errors import ConfigError, DataError
from tests.data.fixtures import write_jsonl, write_t0
from tests.data.t0_rows import T0_ROWS

PAPER_HELDIN = ["socialiqa", "wiqa", "cosmosqa", "quail", "quartz", "qasc", "commonsenseqa", "quarel", "dream", "sciq", "wikihop",
                "ropes", "adversarialqa", "duorc", "quoref", "hotpotqa", "wikiqa", "amazonpolarity", "appreviews", "rottentomatoes",
                "imdb", "yelp", "agnews", "dbpedia14", "trec", "wikibio", "commongen", "cnndailymail", "multinews", "gigaword",
                "samsum", "xsum", "paws", "qqp", "mrpc"]
PAPER_HELDOUT = ["hswag", "copa", "storycloze", "cb", "rte", "anlir1", "anlir2", "anlir3", "winogrande", "wscfixed", "wic"]


def test_task_lists_match_the_paper_and_the_instruction_keys(shared_dir: Path) -> None:
    assert [t.name for t in T0_HELDIN] == [f"p3{n}" for n in PAPER_HELDIN]
    assert [t.name for t in T0_HELDOUT] == [f"p3{n}" for n in PAPER_HELDOUT]
    keys = set(json.loads((shared_dir / "data/glider-instructions/flan_instruction.json").read_text()))
    assert {t.name for t in T0_HELDIN} <= keys  # llm=file finds every held-in task
    assert set(T0_ROWS) == {t.name for t in T0_HELDIN + T0_HELDOUT}


def test_every_task_renders_from_its_hub_schema(tmp_path: Path) -> None:
    source = T0TaskSource(data_dir=str(write_t0(tmp_path)))
    assert len(source.tasks()) == 46 and len(source.heldin()) == 35 and len(source.expert_tasks()) == 35
    for spec in source.tasks():
        examples = check_examples(spec, source.eval_examples(spec.name, 4, seed=0), "evaluation")
        for ex in examples:
            assert ex.task == spec.name and ex.source.strip() and ex.target.strip()
            if spec.metric == "rank_classification":
                assert spec.num_choices in (0, len(ex.choices)) and ex.choices[ex.label] == ex.target  # 0: varies (wikihop)
            else:
                assert ex.choices == () and spec.metric in ("f1", "rouge_l")
        assert [ex.uid for ex in examples] == list(range(len(examples)))


@pytest.mark.parametrize("task,target", [
    ("p3agnews", "Sports"), ("p3socialiqa", "Find somewhere to go"), ("p3anlir1", "False"), ("p3cb", "True"),
    ("p3winogrande", "garage"), ("p3quarel", "ice"), ("p3trec", "Quantity"), ("p3yelp", "5 stars"), ("p3appreviews", "5"),
    ("p3duorc", "a dog"), ("p3storycloze", "Rick was happy."), ("p3copa", "The sun was rising."),
])
def test_labels_map_to_the_right_answer(tmp_path: Path, task: str, target: str) -> None:
    source = T0TaskSource(data_dir=str(write_t0(tmp_path, [task])))
    assert source.eval_examples(task, 1, seed=0)[0].target == target


def test_hidden_test_labels_are_skipped(tmp_path: Path) -> None:
    rows = [dict(T0_ROWS["p3rte"], label=-1), dict(T0_ROWS["p3rte"], label=1)]
    write_jsonl(tmp_path / "p3rte" / "validation.jsonl", rows)
    examples = T0TaskSource(splits=["heldout"], tasks=["p3rte"], data_dir=str(tmp_path)).eval_examples("p3rte", 5, seed=0)
    assert [e.target for e in examples] == ["No"]


def test_held_part_is_fixed_and_carved_from_train_when_no_eval_split(tmp_path: Path) -> None:
    rows = [dict(T0_ROWS["p3appreviews"], review=f"review {i}", star=1 + i % 5) for i in range(100)]
    write_jsonl(tmp_path / "p3appreviews" / "train.jsonl", rows)
    source = T0TaskSource(splits=["heldin"], tasks=["p3appreviews"], data_dir=str(tmp_path), hold_fraction=0.1)
    held_a = [e.source for e in source.eval_examples("p3appreviews", 100, seed=0)]
    held_b = [e.source for e in source.eval_examples("p3appreviews", 100, seed=7)]
    assert held_a == held_b and len(held_a) == 10  # same held part for every run seed
    train = {e.source for e in source.train_examples("p3appreviews", 1000, seed=0)}
    assert len(train) == 90 and not train & set(held_a)  # never trained on
    order_0 = [e.source for e in source.train_examples("p3appreviews", 5, seed=0)]
    order_1 = [e.source for e in source.train_examples("p3appreviews", 5, seed=1)]
    assert order_0 != order_1


def test_parquet_and_save_to_disk_layouts(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset, DatasetDict

    row = T0_ROWS["p3agnews"]
    (tmp_path / "p3agnews").mkdir()
    pq.write_table(pa.Table.from_pylist([row] * 3), tmp_path / "p3agnews" / "test-00000-of-00001.parquet")
    pq.write_table(pa.Table.from_pylist([row] * 5), tmp_path / "p3agnews" / "train.parquet")
    DatasetDict({"train": Dataset.from_list([T0_ROWS["p3imdb"]] * 4), "test": Dataset.from_list([T0_ROWS["p3imdb"]] * 2)}).save_to_disk(
        str(tmp_path / "p3imdb"))
    source = T0TaskSource(splits=["heldin"], tasks=["p3agnews", "p3imdb"], data_dir=str(tmp_path))
    assert len(source.eval_examples("p3agnews", 10, 0)) == 3 and len(source.train_examples("p3agnews", 10, 0)) == 5
    assert len(source.eval_examples("p3imdb", 10, 0)) == 2 and source.train_examples("p3imdb", 1, 0)[0].target == "negative"


def test_offline_without_data_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    source = T0TaskSource(splits=["heldin"])
    with pytest.raises(DataError) as err:
        source.check_available()
    message = str(err.value)
    assert "HF_HUB_OFFLINE" in message and "task.data_dir" in message and "data_dir/<task>/<split>.jsonl" in message
    with pytest.raises(DataError, match="p3agnews"):
        source.eval_examples("p3agnews", 3, 0)


def test_only_present_tasks_are_kept_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    source = T0TaskSource(splits=["heldin"], data_dir=str(write_t0(tmp_path, ["p3agnews", "p3imdb"])))
    assert [t.name for t in source.tasks()] == ["p3imdb", "p3agnews"]  # paper order
    strict = T0TaskSource(splits=["heldin"], data_dir=str(tmp_path), only_present=False)
    assert len(strict.tasks()) == 35
    with pytest.raises(DataError, match="p3sciq"):
        strict.eval_examples("p3sciq", 1, 0)


def test_row_that_does_not_fit_the_template_names_the_field(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "p3agnews" / "test.jsonl", [{"sentence": "x", "label": 0}])
    with pytest.raises(DataError, match="'text'"):
        T0TaskSource(splits=["heldin"], tasks=["p3agnews"], data_dir=str(tmp_path)).eval_examples("p3agnews", 1, 0)


def test_config_errors() -> None:
    with pytest.raises(ConfigError):
        T0TaskSource(splits=["train"])
    with pytest.raises(ConfigError):
        T0TaskSource(tasks=["p3nope"])
    with pytest.raises(ConfigError):
        T0TaskSource(hub_overrides={"p3nope": "a/b"})
    assert T0TaskSource(hub_overrides={"p3agnews": "me/agnews:cfg"}).raw_task("p3agnews").hub_config == "cfg"
