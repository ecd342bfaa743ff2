"""FLAN source: key mapping from FLAN-collection task names, options parsing, fixture data, flan_prepare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glider.data.flan_names import FLAN_TASKS, flan_key
from glider.data.flan_options import parse_options
from glider.data.flan_prepare import main as prepare_main
from glider.data.flan_prepare import prepare_flan
from glider.data.flan_source import FLAN_RANK_TASKS, FlanTaskSource
from glider.data.source import check_examples
from glider.errors import ConfigError, DataError
from tests.data.fixtures import write_flan, write_jsonl


def test_keys_are_the_instruction_file_keys_in_order(shared_dir: Path) -> None:
    keys = list(json.loads((shared_dir / "data/glider-instructions/flan_instruction.json").read_text()))
    assert FLAN_TASKS == keys and len(keys) == 166
    assert FLAN_RANK_TASKS <= set(keys)


@pytest.mark.parametrize("name,source,key", [
    ("glue/mnli:2.0.0", "Flan2021", "flanv2gluemnli"),
    ("ai2_arc/ARC-Challenge:1.0.0", "Flan2021", "flanv2ai2arcchallenge"),
    ("math_dataset/algebra__linear_1d:1.0.0", "Flan2021", "flanv2algebralinear1d"),
    ("definite_pronoun_resolution:1.1.0", "Flan2021", "flanv2defpronounresolution"),
    ("gem/wiki_lingua_english_en:1.1.0", "Flan2021", "flanv2gemwikilinguaen"),
    ("opinion_abstracts_rotten_tomatoes", "Flan2021", "flanv2opinionabstractrottentomatoes"),
    ("opinion_abstracts_idebate", "Flan2021", "flanv2opinionabstractsidebate"),
    ("trivia_qa/rc:1.1.0", "Flan2021", "flanv2triviaqa"),
    ("squad/v1.1:3.0.0", "Flan2021", "flanv2squad"),
    ("wmt16_translate/de-en:1.0.0", "Flan2021", "flanv2wmt16translatedeen"),
    ("super_glue/record:1.0.2", "Flan2021", "flanv2supergluerecord"),
    ("cosmos_qa:1.0.0", "Flan2021", None),  # FLAN 2021's cosmos_qa has no expert (P3's has: p3cosmosqa)
    ("cosmos_qa_context_answer_to_question", "P3", "p3cosmosqa"),
    ("ag_news_classify_question_first", "P3", "p3agnews"),
    ("glue_mrpc_equivalent", "P3", "p3mrpc"),
    ("super_glue_wsc.fixed_GPT_3_Style", "P3", "p3wscfixed"),
    ("duorc_ParaphraseRC_answer_question", "T0", "p3duorc"),
    ("kilt_tasks_hotpotqa_combining_facts", "P3", "p3hotpotqa"),
    ("wiki_qa_Is_This_True_", "P3", "p3wikiqa"),
    ("qrecc_ii", "Dialog", "flanv2qreccii"),
    ("task1292_yelp_review_full_text_categorization", "NIv2", "niv2textcategorization"),
    ("task001_quoref_question_generation", "NIv2", None),  # not in the categories map below
    ("cot_gsm8k", "CoT", None),
    ("p3agnews", None, "p3agnews"),
])
def test_flan_key_mapping(name: str, source: str | None, key: str | None) -> None:
    assert flan_key(name, source, {"task1292": "Text Categorization"}) == key


def test_options_parsing() -> None:
    assert parse_options("Is it good?\nOPTIONS:\n- yes\n- no", "no") == (("yes", "no"), 1)
    assert parse_options("Pick.\nChoose your answer from:\n(A). cat\n(B). dog", "dog") == (("cat", "dog"), 1)
    assert parse_options("Q?\nAvailable choices:\n[a]. red\n[b]. blue", "Blue.") == (("red", "blue"), 1)
    assert parse_options("Q?\nOPTIONS:\n- yes\n- no", "maybe") == ((), -1)
    assert parse_options("no options at all", "x") == ((), -1)


def test_source_on_fixture_data(tmp_path: Path) -> None:
    write_flan(tmp_path, ["p3agnews", "niv2translation", "flanv2gluemnli"], n=40, rank_keys=["p3agnews", "flanv2gluemnli"])
    source = FlanTaskSource(data_dir=str(tmp_path))  # offline: only the tasks with a folder are kept
    assert [t.name for t in source.tasks()] == ["p3agnews", "flanv2gluemnli", "niv2translation"]
    specs = {t.name: t for t in source.tasks()}
    assert specs["p3agnews"].metric == "rank_classification" and specs["niv2translation"].metric == "rouge_l"
    assert specs["niv2translation"].family == "niv2" and specs["flanv2gluemnli"].family == "flanv2"
    held = check_examples(specs["p3agnews"], source.eval_examples("p3agnews", 100, seed=0), "evaluation")
    assert len(held) == 2 and all(e.choices == ("yes", "no") and e.target == e.choices[e.label] for e in held)  # 5% of 40
    gen = source.eval_examples("niv2translation", 100, seed=0)
    assert gen and all(e.choices == () for e in gen)
    train = source.train_examples("p3agnews", 1000, seed=0)
    assert len(train) == 38 and not {e.source for e in train} & {e.source for e in held}
    assert source.expert_tasks() == source.tasks()


def test_rank_task_without_options_is_a_clear_error(tmp_path: Path) -> None:
    write_flan(tmp_path, ["p3imdb"], n=40)  # no OPTIONS block in the inputs
    source = FlanTaskSource(data_dir=str(tmp_path))
    with pytest.raises(DataError, match="metric_overrides.p3imdb=rouge_l"):
        source.eval_examples("p3imdb", 10, 0)
    relaxed = FlanTaskSource(data_dir=str(tmp_path), metric_overrides={"p3imdb": "rouge_l"})
    assert relaxed.eval_examples("p3imdb", 10, 0)


def test_offline_without_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match=r"data_dir/<key>/train.jsonl.*flan_prepare"):
        FlanTaskSource(cache_dir=str(tmp_path)).check_available()


def test_config_errors() -> None:
    with pytest.raises(ConfigError):
        FlanTaskSource(tasks=["nope"])
    with pytest.raises(ConfigError):
        FlanTaskSource(metric_overrides={"p3agnews": "bleu"})


def test_prepare_from_raw_parquet_shards(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {"inputs": "Is it? OPTIONS:\n- yes\n- no", "targets": "yes", "_task_name": "glue/mnli:2.0.0", "_task_source": "Flan2021", "_template_type": "zs_opt"},
        {"inputs": "few-shot", "targets": "no", "_task_name": "glue/mnli:2.0.0", "_task_source": "Flan2021", "_template_type": "fs_opt"},
        {"inputs": "News?", "targets": "Sports", "_task_name": "ag_news_classify", "_task_source": "P3", "_template_type": "zs_noopt"},
        {"inputs": "Translate", "targets": "Hola", "_task_name": "task117_translation", "_task_source": "NIv2", "_template_type": "zs_opt"},
        {"inputs": "Think", "targets": "42", "_task_name": "cot_gsm8k", "_task_source": "CoT", "_template_type": "zs_opt"},
    ]
    raw = tmp_path / "raw" / "flan_zsopt_data"
    raw.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), raw / "part.0.parquet")
    (tmp_path / "cats.json").write_text(json.dumps({"task117_translation": ["Translation"]}))
    out = tmp_path / "flan"
    assert prepare_main(["--out", str(out), "--raw", str(tmp_path / "raw"), "--niv2-categories", str(tmp_path / "cats.json")]) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["flanv2gluemnli", "niv2translation", "p3agnews"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["rows_per_task"]["flanv2gluemnli"] == 1 and manifest["unmapped_task_names"] == {"cot_gsm8k": 1}
    counts = prepare_flan(iter(rows), tmp_path / "all", template_types=None)
    assert counts["flanv2gluemnli"] == 2 and counts["niv2translation"] == 0  # no categories: NIv2 rows have no key
    write_jsonl(tmp_path / "x.jsonl", rows)
    assert prepare_main(["--out", str(tmp_path / "y"), "--raw", str(tmp_path / "x.jsonl")]) == 0


def test_streaming_stops_once_every_key_that_can_fill_is_full(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """FLAN v2 has no rows for 20 P3 keys: they are named at once and never waited for (the stream is not read to its end)."""
    from itertools import count

    from glider.data.flan_names import FLAN_V2_WITHOUT_ROWS

    read = []

    def endless():
        for i in count():
            read.append(i)
            yield {"inputs": f"q{i}", "targets": "yes", "_task_name": "glue/mnli:2.0.0", "_task_source": "Flan2021", "_template_type": "zs_opt"}

    assert len(FLAN_V2_WITHOUT_ROWS) == 20 and "p3agnews" in FLAN_V2_WITHOUT_ROWS and "p3sciq" not in FLAN_V2_WITHOUT_ROWS
    with caplog.at_level("WARNING", logger="glider"):
        counts = prepare_flan(endless(), tmp_path, max_per_task=3, keys=["p3agnews", "flanv2gluemnli"])
    assert counts == {"p3agnews": 0, "flanv2gluemnli": 3} and len(read) == 3
    assert "can get no rows from the FLAN collection" in caplog.text and "p3agnews" in caplog.text


def test_a_key_without_flan_rows_is_named_before_any_streaming(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from glider.data import flan_prepare, flan_source

    def never(hub_id):
        raise AssertionError("the FLAN collection was streamed")

    monkeypatch.setattr(flan_source, "hub_reachable", lambda: True)
    monkeypatch.setattr(flan_prepare, "iter_hub", never)
    source = FlanTaskSource(tasks=["p3agnews", "p3sciq"], cache_dir=str(tmp_path / "cache"))
    with pytest.raises(DataError, match="'p3agnews' has no rows in Open-Orca/FLAN.*llm=file needs no samples"):
        source.train_examples("p3agnews", 5, 0)
