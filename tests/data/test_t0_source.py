"""T0 held-in / held-out sources: promptsource's own templates applied to rows in each dataset's hub schema (offline)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from glider.data.promptsource_templates import dataset_templates, select_templates, template_fields
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
ALL = {t.name: t for t in T0_HELDIN + T0_HELDOUT}


def test_task_lists_match_the_paper_and_the_instruction_keys(shared_dir: Path) -> None:
    assert [t.name for t in T0_HELDIN] == [f"p3{n}" for n in PAPER_HELDIN]
    assert [t.name for t in T0_HELDOUT] == [f"p3{n}" for n in PAPER_HELDOUT]
    keys = set(json.loads((shared_dir / "data/glider-instructions/flan_instruction.json").read_text()))
    assert {t.name for t in T0_HELDIN} <= keys  # llm=file finds every held-in task
    assert set(T0_ROWS) == set(ALL)


@pytest.mark.parametrize("task", sorted(ALL))
def test_every_real_template_applies_to_a_row_in_the_schema(task: str) -> None:
    """Every promptsource template the task trains or evaluates with reads only fields its dataset's rows have
    (a template may render no answer for a row, as copa's effect templates on a cause row)."""
    raw, row = ALL[task], T0_ROWS[task]
    templates = raw.eval_templates() + (raw.train_templates() if raw.train_split else [])
    outputs = [template(row) for template in templates]
    assert sum(out is not None for out in outputs) >= len(outputs) / 2
    assert all(out.source.strip() and out.target.strip() for out in outputs if out is not None)
    for rendered in filter(None, (template(row) for template in raw.eval_templates())):
        if raw.metric == "rank_classification":
            assert len(rendered.choices) >= 2 and rendered.choices[rendered.label] == rendered.target
        else:
            assert rendered.choices == () and rendered.references


def test_template_selection_follows_the_original_configs() -> None:
    def names(task: str, side: str) -> list[str]:
        return [t.template.name for t in getattr(ALL[task], f"{side}_templates")()]

    social = dataset_templates("social_i_qa", None)
    original = [n for n in social.all_template_names if social[n].metadata.original_task]
    assert names("p3socialiqa", "eval") == [n for n in original if n != "Check if a random answer is valid or not"]
    assert names("p3socialiqa", "train") == social.all_template_names  # training: every template
    assert "paraphrase-task" not in names("p3paws", "train") and "paraphrase-task" not in names("p3paws", "eval")
    assert len(names("p3quarel", "eval")) == 5  # quarel has no original-task template: the original evaluates all
    assert names("p3appreviews", "eval") == ["categorize_rating_using_review"]  # all minus the three it ignores
    copa = names("p3copa", "eval")
    assert len(copa) == 8 and not any(n.startswith("\u2026") for n in copa)
    assert len(names("p3anlir1", "train")) == 15 and all(dataset_templates("anli", None)[n].metadata.original_task
                                                          for n in names("p3anlir1", "train"))
    assert ALL["p3trec"].train_templates() == ALL["p3trec"].eval_templates()  # the original's own trec prompt


def test_round_robin_for_held_in_and_every_template_for_held_out(tmp_path: Path) -> None:
    source = T0TaskSource(data_dir=str(write_t0(tmp_path, ["p3agnews", "p3rte"], n_eval=9)))
    agnews = source.eval_examples("p3agnews", 100, seed=0)  # held-in: the first 80 % of the split (int(0.2 * 9) = 1 row off)
    templates = ALL["p3agnews"].eval_templates()
    assert len(agnews) == 8 and [e.source for e in agnews] == [templates[i % 7](T0_ROWS["p3agnews"]).source for i in range(8)]
    rte = source.eval_examples("p3rte", 100, seed=0)
    assert len(rte) == 9 * 10 and [e.uid for e in rte] == list(range(90))  # 9 rows x 10 original-task templates


def test_eval_part_and_row_cap_as_the_original(tmp_path: Path) -> None:
    rows = [dict(T0_ROWS["p3rottentomatoes"], text=f"movie {i}") for i in range(50)]
    write_jsonl(tmp_path / "p3rottentomatoes" / "validation.jsonl", rows)
    write_jsonl(tmp_path / "p3rottentomatoes" / "train.jsonl", rows[:5])
    source = T0TaskSource(splits=["heldin"], tasks=["p3rottentomatoes"], data_dir=str(tmp_path))
    every = source.eval_examples("p3rottentomatoes", 1000, seed=0)
    assert len(every) == 40 and sorted(int(re.search(r"movie (\d+)", e.source)[1]) for e in every) == list(range(40))  # first 80 %
    capped = [e.source for e in source.eval_examples("p3rottentomatoes", 10, seed=0)]
    assert len(capped) == 10 and capped == [e.source for e in source.eval_examples("p3rottentomatoes", 10, seed=5)]


def test_hidden_test_labels_are_skipped(tmp_path: Path) -> None:
    rows = [dict(T0_ROWS["p3rte"], label=-1), dict(T0_ROWS["p3rte"], label=1)]
    write_jsonl(tmp_path / "p3rte" / "validation.jsonl", rows)
    examples = T0TaskSource(splits=["heldout"], tasks=["p3rte"], data_dir=str(tmp_path)).eval_examples("p3rte", 5, seed=0)
    assert len(examples) == 10 and all(e.choices[e.label] == e.target and e.label == 1 for e in examples)


def test_appreviews_evaluates_rows_carved_from_the_end_of_train(tmp_path: Path) -> None:
    rows = [dict(T0_ROWS["p3appreviews"], review=f"review {i}", star=1 + i % 5) for i in range(10_020)]
    write_jsonl(tmp_path / "p3appreviews" / "train.jsonl", rows)
    source = T0TaskSource(splits=["heldin"], tasks=["p3appreviews"], data_dir=str(tmp_path))
    held = [e.source for e in source.eval_examples("p3appreviews", 50, seed=0)]
    assert held == [e.source for e in source.eval_examples("p3appreviews", 50, seed=7)]  # fixed for every run seed
    train = {e.source + " " + e.target for e in source.train_examples("p3appreviews", 1000, seed=0)}
    first = [f"review {i}" for i in range(20)]
    assert len(train) > 20 and all(any(f"{r}\"" in s or s.endswith(r) for r in first) for s in train)  # only the first 20 rows train
    assert not any(any(f"{r}\"" in s for r in first) for s in held)


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
    assert len(source.eval_examples("p3agnews", 10, 0)) == 3 and len(source.train_examples("p3agnews", 10, 0)) == 10
    assert len(source.eval_examples("p3imdb", 10, 0)) == 2 and source.eval_examples("p3imdb", 10, 0)[0].target == "negative"


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


def test_row_missing_a_field_the_template_reads_is_one_clear_error(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "p3agnews" / "test.jsonl", [{"sentence": "x", "label": 0}])
    with pytest.raises(DataError, match=r"promptsource template '.+' reads field\(s\) \['text'\], which the row lacks"):
        T0TaskSource(splits=["heldin"], tasks=["p3agnews"], data_dir=str(tmp_path)).eval_examples("p3agnews", 1, 0)
    assert template_fields(dataset_templates("ag_news", None)["classify"]) == {"text", "label"}


def test_missing_promptsource_dataset_or_template_is_one_clear_error() -> None:
    with pytest.raises(DataError, match="promptsource has no templates for dataset 'super_glue/nope'"):
        dataset_templates("super_glue", "nope")
    with pytest.raises(DataError, match=r"'ag_news' has no template named \['no such prompt'\]"):
        select_templates("ag_news", None, "original", ignore=("no such prompt",))


def test_config_errors() -> None:
    with pytest.raises(ConfigError):
        T0TaskSource(splits=["train"])
    with pytest.raises(ConfigError):
        T0TaskSource(tasks=["p3nope"])
    with pytest.raises(ConfigError):
        T0TaskSource(hub_overrides={"p3nope": "a/b"})
    assert T0TaskSource(hub_overrides={"p3agnews": "me/agnews:cfg"}).raw_task("p3agnews").hub_config == "cfg"


def test_large_jsonl_is_read_as_a_memory_mapped_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    from glider.data import rows as rows_module

    monkeypatch.setattr(rows_module, "ARROW_JSONL_BYTES", 1)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    write_t0(tmp_path / "data", ["p3agnews"], n_train=5, n_eval=5)
    source = T0TaskSource(splits=["heldin"], tasks=["p3agnews"], data_dir=str(tmp_path / "data"))
    examples = source.eval_examples("p3agnews", 10, 0)
    assert isinstance(source.split_rows(source.raw_task("p3agnews"), "test"), datasets.Dataset)
    assert len(examples) == 4 and examples[0].target == "Sports"
