"""Hydra multiruns on the tiny library: routers x alphas with offline W&B and a report; Optuna; submitit_local."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from tests.scale.conftest import TINY, World, glider, job_dirs, newest_sweep


def _objective(summary: dict) -> float:
    """The search's default objective: the tuning split's mean (not the evaluation examples')."""
    return (summary["tuning"]["heldin_avg"] + summary["tuning"]["heldout_avg"]) / 2


@pytest.mark.slow
def test_routers_x_alphas_multirun_wandb_offline_and_report(world: World, tmp_path: Path) -> None:
    glider(world.root, "-m", "stage=eval", "router=glider,instruction", "router.alpha=1,100", "logger=wandb", *TINY, wandb="offline")
    sweep = newest_sweep(world.root)
    jobs = job_dirs(sweep)
    assert [j.name for j in jobs] == ["0_glider", "1_glider", "2_instruction", "3_instruction"]
    run_ids = set()
    for job in jobs:
        (offline,) = (job / "wandb").glob("offline-run-*")  # one finished W&B run per job, under the job's directory
        run_ids.add(offline.name.rsplit("-", 1)[-1])
        (record,) = offline.glob("run-*.wandb")
        data = record.read_bytes()
        for logged in (b"heldin/thing_kind", b"heldout/check_big_animal", b"heldin_avg", b"examples_per_task", b"overrides"):
            assert logged in data, (job.name, logged)  # per-task metrics, the resolved config and the job's overrides
        media = offline / "files" / "media"
        assert len(list(media.glob("table/results_*.table.json"))) == 1
        assert len(list(media.rglob("images/**/*.png"))) == 2  # routing heatmaps and overview
    assert len(run_ids) == 4

    out = tmp_path / "report"
    proc = glider(world.root, str(sweep), "--out", str(out), module="glider.report", timeout=300)
    report = pd.read_csv(out / "report.csv")
    assert len(report) == 4
    assert set(zip(report["router"], report["alpha"].astype(int))) == {("glider", 1), ("glider", 100), ("instruction", 1), ("instruction", 100)}
    assert {"heldin_avg", "heldout_avg", "thing_kind", "pair_first_kind", "check_big_animal"} <= set(report.columns)
    table_rows = [line for line in (out / "report.md").read_text().splitlines() if line.startswith("| ") and not line.startswith("| router")]
    assert len(table_rows) == 4 and "| router | alpha | top_k |" in proc.stdout
    assert (out / "score_vs_alpha.png").stat().st_size > 0 and (out / "heldin_vs_heldout.png").stat().st_size > 0


@pytest.mark.slow
def test_optuna_search_runs_four_trials_and_records_the_best(world: World) -> None:
    glider(world.root, "hparams_search=glider_optuna", "hydra.sweeper.n_trials=4", "stage=eval", "logger=csv", "eval.heatmaps=false", *TINY)
    sweep = newest_sweep(world.root, "optimization_results.yaml")
    jobs = job_dirs(sweep)
    assert len(jobs) == 4
    best = OmegaConf.load(sweep / "optimization_results.yaml")
    assert set(best.best_params) == {"router.alpha", "router.top_k"}
    assert 1 <= best.best_params["router.alpha"] <= 100 and best.best_params["router.top_k"] in (1, 2, 3)
    objectives = [_objective(json.loads((j / "summary.json").read_text())) for j in jobs]
    assert best.best_value == pytest.approx(max(objectives))  # maximised the tuning split's held-in + held-out mean
    report = (sweep / "report" / "report.md").read_text()  # the sweep's report: the choice, and its evaluation scores apart
    assert "tuning held-in" in report and "Chosen on the tuning split" in report


@pytest.mark.slow
def test_submitit_local_runs_a_two_job_sweep(world: World) -> None:
    glider(world.root, "-m", "hydra/launcher=submitit_local", "stage=eval", "router.alpha=3,100", "logger=csv", "eval.heatmaps=false", *TINY)
    sweep = newest_sweep(world.root)
    jobs = job_dirs(sweep)
    assert [j.name for j in jobs] == ["0_glider", "1_glider"]
    assert len([p for p in (sweep / ".submitit").iterdir() if p.name.isdigit()]) == 2  # each job ran as its own submitit job (by id)
    alphas = {json.loads((j / "summary.json").read_text())["router_params"]["alpha"] for j in jobs}
    assert alphas == {3, 100}


@pytest.mark.slow
def test_selection_ablation_sweep(world: World) -> None:
    """ablation=selection is a multirun by itself: one job per selection rule, each with its router's top-k/top-p."""
    glider(world.root, "ablation=selection", "selection.rule=k1,p050", "stage=eval", "logger=csv",
           "eval.heatmaps=false", *TINY)
    (sweep,) = sorted((world.root / "outputs" / "experiments").glob("selection_synthetic_glider/*"))[-1:]
    jobs = sorted(p.parent.name for p in sweep.glob("*/summary.json"))
    assert jobs == ["k1", "p050"]
    params = {j: json.loads((sweep / j / "summary.json").read_text())["router_params"] for j in jobs}
    assert (params["k1"]["top_k"], params["k1"]["top_p"]) == (1, None) and params["p050"]["top_p"] == 0.5
    assert (sweep / "report" / "report.md").is_file()  # the sweep report callback ran
