"""router=lorahub under trainer=ddp_cpu: rank 0 searches once per task, broadcasts, and the weights and scores equal
one process's; a rerun in the same run directory reuses the stored searches."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.scale.conftest import EVAL_TASKS, TINY, World, glider, run_dirs

LORAHUB = ["stage=eval", "router=lorahub", "router.lorahub.steps=6", "logger=csv", *TINY]


@dataclass
class LoraHubRuns:
    ddp: Path
    cpu: Path
    cpu_summary: dict  # the cpu run's summary.json before the rerun
    rerun: subprocess.CompletedProcess  # trainer=cpu again, in the cpu run's directory


def _newest_lorahub_run(root: Path) -> Path:
    return [d for d in run_dirs(root) if d.name.endswith("_lorahub")][-1]


@pytest.fixture(scope="module")
def lorahub_runs(world: World) -> LoraHubRuns:
    glider(world.root, *LORAHUB, "trainer=ddp_cpu")
    ddp = _newest_lorahub_run(world.root)
    glider(world.root, *LORAHUB, "trainer=cpu")
    cpu = _newest_lorahub_run(world.root)
    assert ddp != cpu
    cpu_files = {p.name: p.read_text() for p in (cpu / "lorahub").glob("*.json")}
    cpu_summary = _summary(cpu)
    rerun = glider(world.root, *LORAHUB, "trainer=cpu", f"hydra.run.dir={cpu}")
    assert {p.name: p.read_text() for p in (cpu / "lorahub").glob("*.json")} == cpu_files  # reused, not rewritten
    return LoraHubRuns(ddp=ddp, cpu=cpu, cpu_summary=cpu_summary, rerun=rerun)


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def _searches(summary: dict) -> dict:
    return {task: {k: v[k] for k in ("experts", "weights", "objective", "examples", "example_split")}
            for task, v in summary["lorahub"]["tasks"].items()}


@pytest.mark.slow
def test_ddp_searches_on_rank_0_only_and_matches_one_process(lorahub_runs: LoraHubRuns) -> None:
    ddp, cpu = _summary(lorahub_runs.ddp), lorahub_runs.cpu_summary
    assert (ddp["world_size"], cpu["world_size"]) == (2, 1)
    assert set(ddp["lorahub"]["tasks"]) == set(EVAL_TASKS)
    assert _searches(ddp) == _searches(cpu)  # the same weights, to the bit
    assert ddp["scores"] == cpu["scores"] and ddp["counts"] == cpu["counts"] == {t: 7 for t in EVAL_TASKS}
    assert (lorahub_runs.ddp / "predictions.jsonl").read_text() == (lorahub_runs.cpu / "predictions.jsonl").read_text()
    parent, child = ((lorahub_runs.ddp / name).read_text() for name in ("run.log", "run_rank1.log"))
    assert parent.count("lorahub: [") == len(EVAL_TASKS) and "lorahub: [" not in child and "reusing" not in child
    assert sorted(p.stem for p in (lorahub_runs.ddp / "lorahub").glob("*.json")) == sorted(EVAL_TASKS)
    assert ddp["cost"]["forward_passes_per_task"] == pytest.approx(7 + 6 * 3)  # 7 evaluated + 6 candidates x 3 examples
    assert "router.lorahub.experts=20 but the library has 3 experts" in parent


@pytest.mark.slow
def test_a_rerun_in_the_same_run_directory_reuses_the_searches(lorahub_runs: LoraHubRuns) -> None:
    output = lorahub_runs.rerun.stdout + lorahub_runs.rerun.stderr
    assert output.count("lorahub: task ") >= len(EVAL_TASKS) and "reusing the search in" in output
    assert "lorahub: [" not in output  # no search ran
    rerun = _summary(lorahub_runs.cpu)
    assert all(t["reused"] for t in rerun["lorahub"]["tasks"].values())
    assert _searches(rerun) == _searches(lorahub_runs.cpu_summary) and rerun["scores"] == lorahub_runs.cpu_summary["scores"]
    assert rerun["cost"]["search_seconds_per_task"] > 0  # the searches' measured cost, not the time to read them
