"""BIG-bench Hard and Lite as the original: task lists, sources, splits, metrics; real BBH rows from ../shared/data/bbh."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glider.data.bigbench_source import BigBenchHardSource, BigBenchLiteSource
from glider.data.bigbench_tasks import BBH_HUB, BBH_TASKS, BBL_TASKS, BIGBENCH_TASKS, TASKSOURCE
from glider.data.source import check_examples
from glider.errors import ConfigError, DataError
from glider.lit.evaluation import choice_scores, generation_scores, task_max_new_tokens
from tests.data.fixtures import bigbench_rows, write_bigbench, write_jsonl

# The original's lists (src/dataloaders/constants.py: BIGBENCH_HARD_TASKS, BIGBENCH_LITE_TASKS), written out here.
ORIGINAL_BBH = ["bbbooleanexpressions", "bbcausaljudgement", "bbdateunderstanding", "bbdisambiguationqa", "bbformalfallacies",
                "bbgeometricshapes", "bbhyperbaton", "bblogicaldeduction", "bbmovierecommendation", "bbmultisteparithmetictwo",
                "bbnavigate", "bbobjectcounting", "bbpenguinsinatable", "bbreasoningaboutcoloredobjects", "bbruinnames",
                "bbsalienttranslationerrordetection", "bbsnarks", "bbsportsunderstanding", "bbtemporalsequences",
                "bbtrackingshuffledobjects", "bbweboflies", "bbwordsorting"]
ORIGINAL_BBL = ["bbbbqlitejson", "bbconceptualcombinations", "bbconlangtranslation", "bbformalfallacies", "bbhinduknowledge",
                "bbknownunknowns", "bblinguisticspuzzles", "bblogicgridpuzzle", "bblogicaldeduction", "bbnovelconcepts", "bboperators",
                "bbplaydialogsameordifferent", "bbrepeatcopylogic", "bbstrangestories", "bbstrategyqa", "bbvitamincfactverification",
                "bbwinowhy"]
LUKAEMON = {"bbbooleanexpressions", "bbweboflies", "bbmultisteparithmetictwo"}


def test_task_lists_match_the_original_and_the_instruction_files(shared_dir: Path) -> None:
    assert BBH_TASKS == ORIGINAL_BBH and len(BBH_TASKS) == 22
    assert BBL_TASKS == ORIGINAL_BBL and len(BBL_TASKS) == 17
    folder = shared_dir / "data/glider-instructions"
    v1 = set(json.loads((folder / "bb_instruction.json").read_text()))
    v2 = list(json.loads((folder / "bb_instruction-v2.json").read_text()))
    assert set(BIGBENCH_TASKS) == v1  # every key the instruction file has, and no other
    assert set(v2) == set(BBH_TASKS) | set(BBL_TASKS)  # the paper's runs: the keys of the v2 file
    assert {k for k in BBH_TASKS if BIGBENCH_TASKS[k].hub_id == BBH_HUB} == LUKAEMON
    assert all(BIGBENCH_TASKS[k].hub_id == TASKSOURCE and BIGBENCH_TASKS[k].split == "train_validation" for k in set(BBH_TASKS) - LUKAEMON)
    source = BigBenchHardSource()
    assert [t.name for t in source.tasks()] == BBH_TASKS and source.expert_tasks() == []
    assert [t.name for t in BigBenchLiteSource().tasks()] == BBL_TASKS


def test_metrics_as_the_original(tmp_path: Path) -> None:
    specs = {t.name: t for t in BigBenchHardSource().tasks() + BigBenchLiteSource().tasks()}
    generated = {k for k, t in specs.items() if t.metric != "rank_classification"}
    assert generated == {"bbmultisteparithmetictwo", "bbobjectcounting", "bbwordsorting", "bbconlangtranslation",
                         "bblinguisticspuzzles", "bboperators", "bbrepeatcopylogic"}
    assert specs["bbconlangtranslation"].metric == "rouge_l"
    assert {k for k in specs if BIGBENCH_TASKS[k].multi} == {"bbgeometricshapes", "bbobjectcounting", "bbreasoningaboutcoloredobjects",
                                                              "bbnovelconcepts"}
    assert task_max_new_tokens(specs["bboperators"], 64) == 4 and task_max_new_tokens(specs["bbsnarks"], 64) == 64


def test_real_bbh_rows_load_through_the_loader_and_score(shared_dir: Path) -> None:
    bbh = BigBenchHardSource(data_dir=str(shared_dir / "data/bbh"), tasks=sorted(LUKAEMON))
    files = {k: json.loads((shared_dir / "data/bbh" / f"{BIGBENCH_TASKS[k].config}.json").read_text())["examples"] for k in LUKAEMON}

    booleans = check_examples(bbh.task("bbbooleanexpressions"), bbh.eval_examples("bbbooleanexpressions", 1000, 0), "evaluation")
    assert len(booleans) == 250 and [e.source for e in booleans] == [r["input"] + "\nAnswer:" for r in files["bbbooleanexpressions"]]
    assert all(e.choices == ("True", "False") and e.choices[e.label] == r["target"] for e, r in zip(booleans, files["bbbooleanexpressions"]))
    always_true = [0] * len(booleans)  # predicting "True" everywhere scores the share of True targets
    share = sum(r["target"] == "True" for r in files["bbbooleanexpressions"]) / 250
    assert float(choice_scores(booleans, always_true).mean()) == pytest.approx(share) and 0 < share < 1
    assert float(choice_scores(booleans, [e.label for e in booleans]).mean()) == 1.0

    lies = bbh.eval_examples("bbweboflies", 1000, 0)
    assert {e.choices for e in lies} == {("Yes", "No")} and [e.target for e in lies] == [r["target"] for r in files["bbweboflies"]]

    arithmetic = bbh.eval_examples("bbmultisteparithmetictwo", 1000, 0)
    assert bbh.task("bbmultisteparithmetictwo").metric == "exact_match" and arithmetic[0].target == "24"
    truth = [r["target"] for r in files["bbmultisteparithmetictwo"]]
    assert generation_scores("exact_match", arithmetic, truth).tolist() == [1.0] * 250
    wrong = [t + "0" for t in truth[:3]] + ["", "24 ", " 24"]  # strict: "24 " (trailing space) counts, " 24" does not
    scores = generation_scores("exact_match", arithmetic[:6], wrong).tolist()
    assert scores == [0.0, 0.0, 0.0, 0.0, float(truth[4] == "24"), 0.0]


def test_exact_match_is_strict_on_option_letter_targets(shared_dir: Path) -> None:
    """The bug this replaces: SQuAD normalisation turned "(A)" into "", so "", "." or "The" scored 1.0."""
    rows = json.loads((shared_dir / "data/bbh/date_understanding.json").read_text())["examples"][:20]
    from glider.data.spec import Example

    examples = [Example(task="x", source=r["input"], target=r["target"]) for r in rows]
    for junk in ("", ".", "The", "the answer"):
        assert generation_scores("exact_match", examples, [junk] * 20).tolist() == [0.0] * 20
    assert generation_scores("exact_match", examples, [r["target"] for r in rows]).tolist() == [1.0] * 20
    assert generation_scores("exact_match", examples, [r["target"].lower() for r in rows]).tolist() == [0.0] * 20


def test_tasksource_rows_train_and_validation_concatenated(tmp_path: Path) -> None:
    write_bigbench(tmp_path, ["bbsnarks", "bbwordsorting"], n=6)
    source = BigBenchHardSource(data_dir=str(tmp_path), tasks=["bbsnarks", "bbwordsorting"])
    snarks = check_examples(source.task("bbsnarks"), source.eval_examples("bbsnarks", 100, 0), "evaluation")
    assert len(snarks) == 6 and {e.source for e in snarks} == {f"snarks: question {i}\nAnswer:" for i in range(6)}
    assert all(e.choices == ("beta", "alpha", "gamma") and e.label == 1 and e.correct == () for e in snarks)
    words = source.eval_examples("bbwordsorting", 100, 0)
    assert words[0].target == "out 0" and words[0].references == ()  # exact_match: targets[0] only
    with pytest.raises(DataError, match="training"):
        source.train_examples("bbsnarks", 3, 0)


def test_multi_answer_tasks(tmp_path: Path) -> None:
    """novel_concepts counts every choice scored 1; object_counting accepts any target."""
    novel = [{"idx": 0, "inputs": "What do these have in common?", "targets": ["they are round", "round"],
              "multiple_choice_targets": ["round", "red", "they are round"], "multiple_choice_scores": [1, 0, 1]}]
    write_jsonl(tmp_path / "novel_concepts" / "validation.jsonl", novel)
    counting = [{"idx": 0, "inputs": "How many?", "targets": ["two", "2"], "multiple_choice_targets": [], "multiple_choice_scores": []}]
    write_jsonl(tmp_path / "object_counting" / "train.jsonl", counting)
    bbl = BigBenchLiteSource(data_dir=str(tmp_path), tasks=["bbnovelconcepts"])
    (ex,) = bbl.eval_examples("bbnovelconcepts", 10, 0)
    assert ex.target == "they are round" and ex.label == 2 and ex.correct == (0, 2)  # target = longest of the targets
    assert choice_scores([ex] * 3, [0, 1, 2]).tolist() == [1.0, 0.0, 1.0]
    bbh = BigBenchHardSource(data_dir=str(tmp_path), tasks=["bbobjectcounting"])
    (count,) = bbh.eval_examples("bbobjectcounting", 10, 0)
    assert generation_scores("exact_match", [count] * 3, ["2", "two", "3"]).tolist() == [1.0, 1.0, 0.0]


def test_rank_classification_row_without_choices_is_one_clear_error(tmp_path: Path) -> None:
    rows = [{**r, "multiple_choice_targets": [], "multiple_choice_scores": []} for r in bigbench_rows("bbsnarks", 2)]
    write_jsonl(tmp_path / "snarks" / "validation.jsonl", rows)
    source = BigBenchHardSource(data_dir=str(tmp_path), tasks=["bbsnarks"])
    with pytest.raises(DataError, match=r"'bbsnarks' \(snarks\) is scored by rank classification, but a row has 0 multiple_choice_targets"):
        source.eval_examples("bbsnarks", 5, 0)


def test_offline_without_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match=r"<BIG-bench task>/train\.jsonl"):
        BigBenchHardSource().check_available()
    with pytest.raises(DataError, match="tasksource/bigbench"):
        BigBenchLiteSource().check_available()
    with pytest.raises(ConfigError, match="bbnope"):
        BigBenchHardSource(tasks=["bbnope"])
    # a folder of BBH files only: the 19 tasksource keys have no data and are left out (with a warning), or fail when asked
    write_bigbench(tmp_path, ["bbbooleanexpressions"], n=2)
    assert [t.name for t in BigBenchHardSource(data_dir=str(tmp_path)).tasks()] == ["bbbooleanexpressions"]
    with pytest.raises(DataError, match="causal_judgment"):
        BigBenchHardSource(data_dir=str(tmp_path), only_present=False).eval_examples("bbcausaljudgement", 2, 0)
