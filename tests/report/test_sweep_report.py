"""python -m glider.report on hand-made run directories: one table across runs, seeds aggregated, plots, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from glider.errors import ReportError
from glider.report.__main__ import build_report, main
from glider.report.runs import find_run_dirs

TASKS = [("t_in", "heldin"), ("t_out", "heldout")]


def write_run(path: Path, router: str, alpha: float | None, seed: int, scores: tuple[float, float], overrides: list[str] | None = None) -> Path:
    path.mkdir(parents=True)
    rows = [{"router": router, "seed": seed, "task": t, "split": s, "family": "f", "metric": "m", "n": 4, "score": v}
            for (t, s), v in zip(TASKS, scores)]
    pd.DataFrame(rows).to_csv(path / "results.csv", index=False)
    params = {"alpha": alpha, "top_k": 2, "top_p": None} if alpha is not None else {}
    summary = {"router": router, "seed": seed, "heldin_avg": scores[0], "heldout_avg": scores[1], "router_params": params,
               "overrides": overrides if overrides is not None else [f"router={router}", f"router.alpha={alpha}", f"seed={seed}", "paths.output_dir=/tmp/x"]}
    (path / "summary.json").write_text(json.dumps(summary))
    return path


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    root = tmp_path / "multiruns" / "t"
    write_run(root / "0_glider", "glider", 3, 0, (0.5, 0.25))
    write_run(root / "1_glider", "glider", 3, 1, (0.7, 0.35))
    write_run(root / "2_glider", "glider", 100, 0, (0.9, 0.1))
    write_run(root / "3_phatgoose", "phatgoose", 1, 0, (0.6, 0.2))
    write_run(root / "4_base", "base", None, 0, (0.1, 0.1), overrides=["router=base"])
    (root / "5_unfinished").mkdir()  # a job that never wrote its summary
    return root


def test_finds_run_dirs_at_and_under_paths(sweep: Path) -> None:
    assert len(find_run_dirs([sweep])) == 5
    assert find_run_dirs([sweep / "0_glider"]) == [(sweep / "0_glider").resolve()]


def test_one_row_per_configuration_seeds_as_mean_and_std(sweep: Path, tmp_path: Path) -> None:
    files = build_report([sweep], tmp_path / "report")
    report = pd.read_csv(files["report_csv"])
    assert len(report) == 4 and len(pd.read_csv(files["runs_csv"])) == 5
    row = report[(report["router"] == "glider") & (report["alpha"] == 3)].iloc[0]
    assert row["n_seeds"] == 2 and row["heldin_avg"] == pytest.approx(0.6) and row["heldin_avg_std"] == pytest.approx(0.1)
    assert row["t_in"] == pytest.approx(0.6) and row["t_out"] == pytest.approx(0.3)
    assert "paths.output_dir" not in report.columns and "seed" not in report.columns  # bookkeeping is not a parameter
    md = files["report_md"].read_text()
    assert "0.600 ± 0.100" in md and "| base | - |" in md
    assert files["score_vs_alpha"].stat().st_size > 0 and files["heldin_vs_heldout"].stat().st_size > 0


def test_swept_overrides_become_columns(tmp_path: Path) -> None:
    write_run(tmp_path / "a", "glider", 3, 0, (0.5, 0.5), overrides=["router=glider", "eval.examples_per_task=5"])
    write_run(tmp_path / "b", "glider", 3, 0, (0.6, 0.5), overrides=["router=glider", "eval.examples_per_task=9"])
    report = pd.read_csv(build_report([tmp_path], tmp_path / "out")["report_csv"])
    assert sorted(report["eval.examples_per_task"]) == [5, 9]


def test_no_runs_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ReportError, match="No run directories"):
        build_report([tmp_path], tmp_path / "out")
    assert main([str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_prints_the_table_and_writes_to_out(sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(sweep), "--out", str(tmp_path / "rep")]) == 0
    out = capsys.readouterr().out
    assert "| router | alpha | top_k |" in out and (tmp_path / "rep" / "report.md").is_file()


def test_global_router_diagnostics_become_columns_when_runs_have_them(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    for seed, (top1, high_in) in enumerate([(0.9, 0.6), (0.7, 0.8)]):
        run = write_run(root / f"{seed}_glider", "glider", 3, seed, (0.5, 0.25))
        summary = json.loads((run / "summary.json").read_text())
        summary["global_top1"] = {"per_task": {"t_in": top1}, "average": top1}
        summary["alpha_auto"] = {"high_fraction_by_split": {"heldin": high_in, "heldout": 0.1}}
        (run / "summary.json").write_text(json.dumps(summary))
    write_run(root / "9_phatgoose", "phatgoose", 1, 0, (0.6, 0.2))  # no global router: n/a
    files = build_report([root], tmp_path / "report")
    report = pd.read_csv(files["report_csv"]).set_index("router")
    assert report.loc["glider", "global_top1"] == pytest.approx(0.8) and report.loc["glider", "global_top1_std"] == pytest.approx(0.1)
    assert report.loc["glider", "auto_high_heldin"] == pytest.approx(0.7)
    assert pd.isna(report.loc["phatgoose", "global_top1"])
    md = files["report_md"].read_text()
    assert "| top-1 own expert |" in md and "alpha=auto high, held-out" in md


def test_no_diagnostic_columns_without_global_routers(sweep: Path, tmp_path: Path) -> None:
    report = pd.read_csv(build_report([sweep], tmp_path / "report")["report_csv"])
    assert "global_top1" not in report.columns and "auto_high_heldin" not in report.columns


def test_cost_per_task_becomes_columns_next_to_the_averages(tmp_path: Path) -> None:
    root = tmp_path / "sweep"
    for seed, seconds in enumerate([0.5, 0.7]):
        for router, passes in (("lorahub", 130.0), ("oracle", 100.0)):
            run = write_run(root / f"{seed}_{router}", router, 1, seed, (0.5, 0.25))
            summary = json.loads((run / "summary.json").read_text())
            summary["cost"] = {"seconds_per_task": seconds * (2 if router == "lorahub" else 1), "forward_passes_per_task": passes}
            (run / "summary.json").write_text(json.dumps(summary))
    write_run(root / "9_base", "base", None, 0, (0.1, 0.1), overrides=["router=base"])  # a run from before costs: n/a
    files = build_report([root], tmp_path / "report")
    report = pd.read_csv(files["report_csv"]).set_index("router")
    assert report.loc["lorahub", "seconds_per_task"] == pytest.approx(1.2) and report.loc["lorahub", "seconds_per_task_std"] == pytest.approx(0.2)
    assert report.loc["oracle", "forward_passes_per_task"] == 100 and pd.isna(report.loc["base", "seconds_per_task"])
    lines = files["report_md"].read_text().splitlines()
    assert "| held-in avg | held-out avg | overall avg | s/task | passes/task | t_in |" in lines[0]
    assert "| 1.20 ± 0.20 | 130 |" in next(line for line in lines if line.startswith("| lorahub"))
    assert "| n/a | n/a |" in next(line for line in lines if line.startswith("| base"))
