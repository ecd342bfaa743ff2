"""Bad inputs that need no expert library, at the CLI end (``run_cli``, what ``python -m glider.run`` calls):
one ``glider: error:`` line naming the thing and the fix, exit 2, no traceback."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.data.fixtures import bbl_rows, write_jsonl
from tests.reliability.cli import BARE, assert_clean_error, overriding, run_in_process


def test_empty_dataset(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    outcome = run_in_process(tmp_path, overriding(BARE, "eval.examples_per_task=0"), capsys)
    assert_clean_error(outcome, "Task 'thing_kind' has no evaluation examples", "task.data_dir")


@pytest.mark.parametrize("overrides, fragments", [
    (["task.eval_tasks=[thing_knid]"], ["unknown synthetic task 'thing_knid'", "valid tasks: thing_kind"]),
    # raised while Hydra instantiates task._target_ / router._target_: unwrapped from Hydra's InstantiationException
    (["task.expert_tasks=[thing_knid]"], ["task.expert_tasks names ['thing_knid']", "allowed tasks: thing_kind"]),
    (["router=phatgoose", "router.local=[phatgoos]"], ["Unknown local scorer 'phatgoos'", "Choose from:"]),
])
def test_unknown_names_inside_a_config_group(tmp_path: Path, capsys: pytest.CaptureFixture, overrides: list[str], fragments: list[str]) -> None:
    outcome = run_in_process(tmp_path, overriding(BARE, *overrides), capsys)
    assert_clean_error(outcome, *fragments)


def test_bad_llm_option_is_unwrapped_from_hydra_instantiation(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    overrides = overriding(BARE, "router=instruction", "llm=openai", "llm.base_url=localhost:8000/v1", "stage=describe")
    (tmp_path / "outputs" / "libraries" / "synthetic-t5_tiny-seed0").mkdir(parents=True)
    (tmp_path / "outputs" / "libraries" / "synthetic-t5_tiny-seed0" / "library.json").write_text(json.dumps({"experts": []}))
    outcome = run_in_process(tmp_path, overrides, capsys)
    assert_clean_error(outcome, "llm.base_url must start with http:// or https://, got 'localhost:8000/v1'")


def test_rank_classification_task_without_answer_choices(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    task = "code_line_description"  # a BIG-bench Lite multiple-choice task
    rows = [{**row, "multiple_choice_targets": [], "multiple_choice_scores": []} for row in bbl_rows(task, 4)]
    for split in ("train", "validation"):
        write_jsonl(tmp_path / "bbl" / task / f"{split}.jsonl", rows)
    overrides = [o for o in BARE if not o.startswith("task.")] + [
        "task=bbl", f"task.data_dir={tmp_path / 'bbl'}", "task.tasks=[bbcodelinedescription]", "model=t5_tiny_bytes"]
    outcome = run_in_process(tmp_path, overrides, capsys)
    assert_clean_error(outcome, "BIG-bench task 'bbcodelinedescription' (code_line_description) is scored by rank classification, "
                       "but a row has 0 multiple_choice_targets", "multiple_choice_scores", "task.data_dir")


def test_row_missing_a_field_its_promptsource_template_reads(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_jsonl(tmp_path / "t0" / "p3agnews" / "test.jsonl", [{"sentence": "The team won.", "label": 1}] * 3)
    overrides = [o for o in BARE if not o.startswith("task.")] + [
        "task=t0_heldin", f"task.data_dir={tmp_path / 't0'}", "task.tasks=[p3agnews]", "model=t5_tiny_bytes"]
    outcome = run_in_process(tmp_path, overrides, capsys)
    assert_clean_error(outcome, "Task 'p3agnews': promptsource template", "reads field(s) ['text'], which the row lacks",
                       "schema of the task's hub dataset")


def test_query_longer_than_the_model_maximum_is_truncated_and_counted(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="glider"):
        outcome = run_in_process(tmp_path, overriding(BARE, "model.max_source_length=6"), capsys)
    assert outcome.code == 0, outcome.stderr[-3000:]
    (summary,) = tmp_path.glob("run/summary.json")
    assert json.loads(summary.read_text())["truncated_inputs"] == 3  # every input is longer than 6 tokens
    assert "eval: 3 of 3 inputs were longer than model.max_source_length=6 and were truncated" in caplog.text
