"""The report's tuning columns and the line that says what the tuning split chose (never the evaluation examples)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from glider.report.__main__ import build_report
from glider.report.tables import results_frame, split_averages
from tests.report.test_sweep_report import write_run


def _with_tuning(path: Path, heldin: float, heldout: float) -> None:
    summary = json.loads((path / "summary.json").read_text())
    summary["tuning"] = {"examples_per_task": 8, "heldin_avg": heldin, "heldout_avg": heldout}
    (path / "summary.json").write_text(json.dumps(summary))


def test_chosen_on_the_tuning_split_shown_with_its_evaluation_scores(tmp_path: Path) -> None:
    # alpha 100 is best on the evaluation examples, alpha 10 on the tuning split: the report picks 10
    for seed in (0, 1):
        _with_tuning(write_run(tmp_path / f"a3_{seed}", "glider", 3, seed, (0.5, 0.40)), 0.50, 0.30)
        _with_tuning(write_run(tmp_path / f"a10_{seed}", "glider", 10, seed, (0.7, 0.30 + 0.02 * seed)), 0.80, 0.40)
        _with_tuning(write_run(tmp_path / f"a100_{seed}", "glider", 100, seed, (0.9, 0.35)), 0.85, 0.20)
    files = build_report([tmp_path], tmp_path / "report")
    report = pd.read_csv(files["report_csv"])
    assert {"tuning_heldin", "tuning_heldout", "overall_avg"} <= set(report.columns)
    md = files["report_md"].read_text()
    assert "tuning held-in" in md and "overall avg" in md
    chosen = md.split("Chosen on the tuning split")[1]
    assert "glider: alpha=10 top_k=2 (tuning score 0.600)" in chosen
    assert "held-in 0.700 ± 0.000, held-out 0.310 ± 0.010" in chosen


def test_no_tuning_no_choice_line(tmp_path: Path) -> None:
    write_run(tmp_path / "a", "glider", 3, 0, (0.5, 0.5))
    write_run(tmp_path / "b", "glider", 10, 0, (0.6, 0.5))
    assert "Chosen" not in build_report([tmp_path], tmp_path / "out")["report_md"].read_text()


def test_overall_average_is_every_task_and_na_with_a_missing_task() -> None:
    rows = [{"router": "r", "seed": 0, "task": t, "split": s, "family": "f", "metric": "m", "n": 1, "score": v}
            for t, s, v in (("a", "heldin", 1.0), ("b", "heldin", 0.5), ("c", "heldout", 0.0))]
    assert split_averages(results_frame(rows))["overall_avg"] == pytest.approx(0.5)
    rows[2]["score"] = math.nan  # the oracle on a held-out task
    averages = split_averages(results_frame(rows))
    assert averages["heldin_avg"] == pytest.approx(0.75) and math.isnan(averages["overall_avg"])
